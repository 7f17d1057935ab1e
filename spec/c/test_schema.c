/* test_schema.c: every rule of the Seedream 5.0 Lite schema with passing and failing cases
 * (each case also goes through prepare, which must give the same answer). Prepare's
 * normalisation and the API reference's four example requests are in
 * test_schema_prepare.c; the JSON reader and the base request in schema_helpers.h. */
#include <stdlib.h>
#include <string.h>

#include "minitest.h"
#include "schema_helpers.h"
#include "sd_error.h"
#include "sd_limits.h"
#include "sd_schema.h"
#include "sd_value.h"

/* ---- checking one case ------------------------------------------------------------ */

/* OK(json): the request passes check and prepare; ERR(json, field, part): both reject it
 * on field with a message containing part. */
static void expect_ok_at(const char *json, int line) {
  int before = mt_failed;
  sd_value *v = parse(json);
  char *j0 = to_json(v);
  sd_error err;
  CHECK_EQ_INT(sd_request_check(v, &err), SD_OK);
  CHECK_EQ_INT(err.code, SD_OK);
  char *j1 = to_json(v);
  CHECK_STR(j1, j0); /* check never modifies */
  CHECK_EQ_INT(sd_request_prepare(v, &err), SD_OK);
  CHECK_EQ_INT(sd_request_check(v, &err), SD_OK); /* prepared requests stay valid */
  if (mt_failed != before)
    fprintf(stderr, "     (line %d) case %s\n     error: [%s] %s\n", line, json, err.field,
            err.message);
  free(j0);
  free(j1);
  sd_value_free(v);
}

static void expect_err_at(const char *json, const char *field, const char *part, int line) {
  int before = mt_failed;
  sd_value *v = parse(json);
  char *j0 = to_json(v);
  sd_error err;
  CHECK_EQ_INT(sd_request_check(v, &err), SD_EINVALID);
  CHECK_EQ_INT(err.code, SD_EINVALID);
  CHECK_STR(err.field, field);
  CHECK_CONTAINS(err.message, part);
  char *j1 = to_json(v);
  CHECK_STR(j1, j0);
  sd_error err2;
  CHECK_EQ_INT(sd_request_prepare(v, &err2), SD_EINVALID); /* same code path, same answer */
  CHECK_STR(err2.field, err.field);
  CHECK_STR(err2.message, err.message);
  if (mt_failed != before)
    fprintf(stderr, "     (line %d) case %s\n     error: [%s] %s\n", line, json, err.field,
            err.message);
  else if (getenv("SD_TEST_VERBOSE")) /* to read every message */
    printf("%-48s %s\n", err.field, err.message);
  free(j0);
  free(j1);
  sd_value_free(v);
}

#define OK(json) expect_ok_at(json, __LINE__)
#define ERR(json, field, part) expect_err_at(json, field, part, __LINE__)

/* ---- rules ------------------------------------------------------------------------ */

static void test_shape(void) {
  sd_error err;
  sd_value *a = sd_value_array();
  CHECK_EQ_INT(sd_request_check(a, &err), SD_EINVALID);
  CHECK_STR(err.field, "");
  CHECK_CONTAINS(err.message, "request must be an object, got an array");
  CHECK_EQ_INT(sd_request_prepare(a, &err), SD_EINVALID);
  sd_value_free(a);
  CHECK_EQ_INT(sd_request_check(NULL, &err), SD_EINVALID);
  OK(REQ(""));
}

static void test_unknown_keys(void) {
  ERR("{\"positivPrompt\":\"a cat\",\"width\":2048,\"height\":2048}", "positivPrompt",
      "unknown field 'positivPrompt' (did you mean 'positivePrompt'?)");
  ERR("{\"positiveprompt\":\"a cat\",\"width\":2048,\"height\":2048}", "positiveprompt",
      "(did you mean 'positivePrompt'?)");
  ERR(REQ(",\"wdith\":1"), "wdith", "did you mean 'width'?");
  ERR(REQ(",\"seed\":42"), "seed", "unknown field 'seed'");
  ERR(REQ(",\"negativePrompt\":\"x\""), "negativePrompt",
      "unknown field 'negativePrompt' (Runware's other models take it; Seedream 5.0 Lite does "
      "not)");
  ERR(REQ(",\"negativePrompt\":\"x\""), "negativePrompt", "unknown field 'negativePrompt'");
  ERR(REQ(",\"safety\":{\"moed\":\"fast\"}"), "safety.moed",
      "unknown field 'moed' in safety (did you mean 'mode'?)");
  ERR(REQ(",\"inputs\":{\"referenceImage\":[\"x\"]}"), "inputs.referenceImage",
      "did you mean 'referenceImages'?");
  ERR(REQ(",\"providerSettings\":{\"openai\":{}}"), "providerSettings.openai",
      "unknown field 'openai'");
  ERR(PS("\"maxSequentialImage\":2"), "providerSettings.bytedance.maxSequentialImage",
      "did you mean 'maxSequentialImages'?");
  ERR(REQ(",\"maxSequentialImages\":2"), "maxSequentialImages",
      "unknown field 'maxSequentialImages' (it goes in providerSettings.bytedance)");
  ERR(REQ(",\"mode\":\"fast\""), "mode", "unknown field 'mode' (it goes in safety)");
  ERR(REQ(",\"Mode\":\"fast\""), "Mode", "unknown field 'Mode' (did you mean 'model'?)");
  ERR(REQ(",\"MODEL\":\"x\""), "MODEL", "unknown field 'MODEL' (did you mean 'model'?)");
  ERR(REQ(",\"safety\":{\"ttl\":60}"), "safety.ttl",
      "unknown field 'ttl' in safety (it goes at the top level)");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[" "\"https://h/a\"" "],\"mode\":\"fast\"}"),
      "inputs.mode", "unknown field 'mode' in inputs (it goes in safety)");
  ERR(REQ(",\"bad\\u0001key\":1"), "bad\001key", "unknown field 'bad?key'");
  /* the top-level referenceImages is an alias: a misplaced one is sent to inputs */
  ERR(REQ(",\"safety\":{\"referenceImages\":[\"https://h/a\"]}"), "safety.referenceImages",
      "unknown field 'referenceImages' in safety (it goes in inputs)");
  /* enums compare whole strings: an embedded NUL is not cut off */
  ERR(REQ(",\"outputType\":\"URL\\u0000junk\""), "outputType", "expected one of 'URL'");
  ERR(REQ(",\"model\":\"bytedance:seedream@5.0-lite\\u0000x\""), "model", "must be");
  ERR(REQ(",\"outputType\":\"URL\\u0000\",\"ttl\":60"), "outputType", "expected one of");
  /* URLs must be valid UTF-8: the JSON body must be */
  ERR(REQ(",\"uploadEndpoint\":\"https://up.example/\xff\""), "uploadEndpoint", "valid UTF-8");
  ERR(REQ(",\"webhookURL\":\"https://h/\xc3\""), "webhookURL", "valid UTF-8");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[\"https://h/\xff.png\"]}"),
      "inputs.referenceImages[0]", "not a UUID, http(s) URL");
  OK(REQ(",\"webhookURL\":\"https://h/caf\xc3\xa9\""));
  /* long values are cut on a UTF-8 boundary in messages */
  ERR(REQ(",\"outputType\":\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
      "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9x\""),
      "outputType", "\xC3\xA9\xC3\xA9...'");
  /* unknown keys are reported before a required field looks missing */
  ERR("{\"prompt\":\"a cat\",\"width\":2048,\"height\":2048}", "prompt",
      "unknown field 'prompt'");

  CHECK_STR(sd_schema_suggest("", "positivPrompt"), "positivePrompt");
  CHECK_STR(sd_schema_suggest("", "POSITIVEPROMPT"), "positivePrompt");
  CHECK_STR(sd_schema_suggest("", "WIDTH"), "width");
  CHECK_STR(sd_schema_suggest("", "wdith"), "width");      /* transposition = 1 */
  CHECK_STR(sd_schema_suggest("", "outputFormt"), "outputFormat");
  CHECK_STR(sd_schema_suggest("", "webhookUrl"), "webhookURL");
  CHECK_STR(sd_schema_suggest(NULL, "modle"), "model");
  CHECK_STR(sd_schema_suggest("safety", "mod"), "mode");
  CHECK_STR(sd_schema_suggest("providerSettings.bytedance", "optimizePromptMod"),
            "optimizePromptMode");
  CHECK(sd_schema_suggest("", "zzzzzzzz") == NULL);
  CHECK(sd_schema_suggest("safety", "width") == NULL);     /* per level */
  CHECK(sd_schema_suggest("nowhere", "width") == NULL);
  CHECK(sd_schema_suggest("", NULL) == NULL);
}

static void test_fixed_fields(void) {
  OK(REQ(",\"taskType\":\"imageInference\""));
  ERR(REQ(",\"taskType\":\"imageUpload\""), "taskType",
      "taskType: must be 'imageInference', got 'imageUpload'");
  ERR(REQ(",\"taskType\":\"imageinference\""), "taskType", "(did you mean 'imageInference'?)");
  ERR(REQ(",\"taskType\":1"), "taskType", "taskType: expected a string, got an integer");
  OK(REQ(",\"model\":\"bytedance:seedream@5.0-lite\""));
  ERR(REQ(",\"model\":\"bytedance:seedream@4.0\""), "model",
      "model: must be 'bytedance:seedream@5.0-lite'");
  ERR(REQ(",\"model\":\"\""), "model", "got ''");
  OK(REQ(",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\""));
  OK(REQ(",\"taskUUID\":\"F71DC58D-1961-4AA2-AE5C-4F35532F2BAF\""));
  ERR(REQ(",\"taskUUID\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\""), "taskUUID",
      "is not a UUID v4 (it is a UUID of another version)");
  ERR(REQ(",\"taskUUID\":\"f71dc58d-1961-4aa2-ce5c-4f35532f2baf\""), "taskUUID",
      "(its variant digit, the first of the fourth group, must be 8, 9, a or b)");
  ERR(REQ(",\"taskUUID\":\"task-1\""), "taskUUID", "taskUUID: 'task-1' is not a UUID v4");
  ERR(REQ(",\"taskUUID\":\"\""), "taskUUID", "taskUUID: must not be empty");
  ERR(REQ(",\"taskUUID\":12"), "taskUUID", "expected a string");
}

static void test_prompt(void) {
  ERR("{\"width\":2048,\"height\":2048}", "positivePrompt", "positivePrompt: is required");
  ERR(REQ(",\"positivePrompt\":\"\""), "positivePrompt", "positivePrompt: must not be empty");
  ERR("{\"positivePrompt\":\"\",\"width\":2048,\"height\":2048}", "positivePrompt",
      "must not be empty");
  ERR("{\"positivePrompt\":7,\"width\":2048,\"height\":2048}", "positivePrompt",
      "positivePrompt: expected a string, got an integer");
  ERR("{\"positivePrompt\":[\"a\"],\"width\":2048,\"height\":2048}", "positivePrompt",
      "expected a string, got an array");
  ERR("{\"positivePrompt\":\"caf\xC3\",\"width\":2048,\"height\":2048}", "positivePrompt",
      "positivePrompt: is not valid UTF-8");
  ERR("{\"positivePrompt\":\"\xED\xA0\x80\",\"width\":2048,\"height\":2048}", "positivePrompt",
      "not valid UTF-8");
  OK("{\"positivePrompt\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\",\"width\":2048,\"height\":2048}");
  OK("{\"positivePrompt\":\"x\",\"width\":2048,\"height\":2048}");

  /* 2000 code points of 3-byte text pass; 2001 fail (bytes are not characters) */
  size_t cap = 3 * (SD_PROMPT_MAX + 1) + 100;
  char *json = malloc(cap);
  for (int n = SD_PROMPT_MAX; n <= SD_PROMPT_MAX + 1; n++) {
    char *p = json;
    p += sprintf(p, "{\"positivePrompt\":\"");
    for (int i = 0; i < n; i++) { memcpy(p, "\xE6\x97\xA5", 3); p += 3; }
    sprintf(p, "\",\"width\":2048,\"height\":2048}");
    if (n == SD_PROMPT_MAX) OK(json);
    else ERR(json, "positivePrompt", "positivePrompt: has 2001 characters; 1..2000 allowed");
  }
  free(json);
}

static void test_size(void) {
  ERR("{\"positivePrompt\":\"a\",\"height\":2048}", "width", "width: is required");
  ERR("{\"positivePrompt\":\"a\",\"width\":2048}", "height", "height: is required");
  ERR(REQ(",\"width\":\"2048\""), "width", "width: expected an integer, got a string");
  ERR(REQ(",\"height\":true"), "height", "height: expected an integer, got a boolean");
  ERR(REQ(",\"width\":2048.5"), "width", "width: expected an integer, got 2048.5");
  ERR(REQ(",\"width\":null"), "width", "width: expected an integer, got null");
  ERR(REQ(",\"width\":0"), "width", "width: 0 is below the minimum 1");
  ERR(REQ(",\"height\":-2048"), "height", "height: -2048 is below the minimum 1");
  OK(REQ(",\"width\":2304.0,\"height\":1728.0"));
  /* pixel range */
  ERR(REQ(",\"width\":1024,\"height\":1024"), "width",
      "width x height = 1024x1024 = 1048576 pixels; Seedream 5.0 Lite needs 3686400..10404496 "
      "pixels (e.g. 2048x2048, 2304x1728)");
  ERR(REQ(",\"width\":4096,\"height\":4096"), "width", "4096x4096 = 16777216 pixels");
  ERR(REQ(",\"width\":2559,\"height\":1440"), "width", "3684960 pixels");
  OK(REQ(",\"width\":2560,\"height\":1440"));  /* exactly SD_MIN_PIXELS */
  OK(REQ(",\"width\":3226,\"height\":3225"));  /* 10403850 */
  ERR(REQ(",\"width\":3226,\"height\":3226"), "width", "10407076 pixels");
  ERR(REQ(",\"width\":9007199254740993,\"height\":9007199254740993"), "width", "pixels");
  /* common sizes (the reference's examples, the README's) */
  static const int sizes[][2] = {{2048, 2048}, {2304, 1728}, {2848, 1600}, {2496, 1664},
                                 {3136, 1344}, {3072, 3072}, {3456, 2592}, {4096, 2304},
                                 {3744, 2496}, {4704, 2016}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char json[128];
    snprintf(json, sizeof json, "{\"positivePrompt\":\"a\",\"width\":%d,\"height\":%d}",
             sizes[i][0], sizes[i][1]);
    OK(json);
    snprintf(json, sizeof json, "{\"positivePrompt\":\"a\",\"width\":%d,\"height\":%d}",
             sizes[i][1], sizes[i][0]);
    OK(json);
  }
  /* aspect ratio */
  OK(REQ(",\"width\":7680,\"height\":480"));   /* exactly 16:1 */
  OK(REQ(",\"width\":480,\"height\":7680"));   /* exactly 1:16 */
  ERR(REQ(",\"width\":9600,\"height\":400"), "width",
      "width x height = 9600x400 has aspect ratio 24.000:1; Seedream 5.0 Lite allows 1:16 .. 16:1");
  ERR(REQ(",\"width\":400,\"height\":9600"), "height", "aspect ratio 24.000:1");
  ERR(REQ(",\"width\":7681,\"height\":480"), "width", "aspect ratio 16.002:1");
}

static void test_output(void) {
  OK(REQ(",\"outputType\":\"URL\""));
  OK(REQ(",\"outputType\":\"dataURI\""));
  OK(REQ(",\"outputType\":\"base64Data\""));
  ERR(REQ(",\"outputType\":\"url\""), "outputType",
      "outputType: expected one of 'URL', 'dataURI', 'base64Data', got 'url' (did you mean 'URL'?)");
  ERR(REQ(",\"outputType\":\"file\""), "outputType", "got 'file'");
  ERR(REQ(",\"outputType\":3"), "outputType", "outputType: expected a string, got an integer");
  OK(REQ(",\"outputFormat\":\"JPG\""));
  OK(REQ(",\"outputFormat\":\"PNG\""));
  OK(REQ(",\"outputFormat\":\"WEBP\""));
  ERR(REQ(",\"outputFormat\":\"GIF\""), "outputFormat",
      "outputFormat: expected one of 'JPG', 'PNG', 'WEBP', got 'GIF'");
  ERR(REQ(",\"outputFormat\":\"png\""), "outputFormat", "did you mean 'PNG'?");
  OK(REQ(",\"outputQuality\":20"));
  OK(REQ(",\"outputQuality\":99"));
  OK(REQ(",\"outputQuality\":95.0"));
  ERR(REQ(",\"outputQuality\":19"), "outputQuality", "outputQuality: 19 is out of range 20..99");
  ERR(REQ(",\"outputQuality\":100"), "outputQuality", "100 is out of range 20..99");
  ERR(REQ(",\"outputQuality\":\"95\""), "outputQuality", "expected an integer, got a string");
  ERR(REQ(",\"outputQuality\":90.5"), "outputQuality", "expected an integer, got 90.5");
}

static void test_uris(void) {
  static const char *const fields[] = {"webhookURL", "uploadEndpoint"};
  static const char *const good[] = {
      "https://example.com/hook", "http://127.0.0.1:8080/x", "HTTPS://EXAMPLE.COM",
      "http://[::1]:9/up", "https://user:pw@host.example/p?q=1#f",
      "https://your-bucket.s3.amazonaws.com/generated/content.mp4?X-Amz-Signature=abc123"};
  static const char *const bad[] = {
      "ftp://example.com/x", "https://", "https:///path", "https://exa mple.com/",
      "example.com/hook", "https://host/\\t", "https://:8080/", "https://user@/x",
      "https://[]/x", "mailto:a@b.c", ""};
  for (int f = 0; f < 2; f++) {
    char json[512];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
      snprintf(json, sizeof json, REQ(",\"%s\":\"%s\""), fields[f], good[i]);
      OK(json);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      snprintf(json, sizeof json, REQ(",\"%s\":\"%s\""), fields[f], bad[i]);
      ERR(json, fields[f], "must be an absolute http:// or https:// URL");
    }
    snprintf(json, sizeof json, REQ(",\"%s\":true"), fields[f]);
    ERR(json, fields[f], "expected a string, got a boolean");
  }
  ERR(REQ(",\"webhookURL\":\"https://h/\\u0001\""), "webhookURL", "must be an absolute");
}

static void test_delivery_safety_misc(void) {
  OK(REQ(",\"deliveryMethod\":\"sync\""));
  OK(REQ(",\"deliveryMethod\":\"async\""));
  ERR(REQ(",\"deliveryMethod\":\"batch\""), "deliveryMethod",
      "deliveryMethod: expected one of 'sync', 'async', got 'batch'");

  OK(REQ(",\"safety\":{\"checkContent\":true,\"mode\":\"fast\"}"));
  OK(REQ(",\"safety\":{\"checkContent\":false,\"mode\":\"none\"}"));
  OK(REQ(",\"safety\":{}"));
  OK(REQ(",\"safety\":[]")); /* an empty Lua table */
  ERR(REQ(",\"safety\":\"fast\""), "safety", "safety: expected an object, got a string");
  ERR(REQ(",\"safety\":[\"fast\"]"), "safety", "safety: expected an object, got an array");
  ERR(REQ(",\"safety\":true"), "safety", "expected an object, got a boolean");
  ERR(REQ(",\"safety\":{\"checkContent\":\"yes\"}"), "safety.checkContent",
      "safety.checkContent: expected a boolean, got a string");
  ERR(REQ(",\"safety\":{\"mode\":\"slow\"}"), "safety.mode",
      "safety.mode: expected one of 'none', 'fast', got 'slow'");

  OK(REQ(",\"ttl\":60"));
  OK(REQ(",\"ttl\":86400,\"outputType\":\"URL\""));
  ERR(REQ(",\"ttl\":59"), "ttl", "ttl: 59 is below the minimum 60");
  ERR(REQ(",\"ttl\":\"60\""), "ttl", "ttl: expected an integer, got a string");
  ERR(REQ(",\"ttl\":120,\"outputType\":\"base64Data\""), "ttl",
      "ttl: only applies when outputType is 'URL' (outputType is 'base64Data')");
  ERR(REQ(",\"outputType\":\"dataURI\",\"ttl\":120"), "ttl", "outputType is 'dataURI'");

  OK(REQ(",\"includeCost\":true"));
  OK(REQ(",\"includeCost\":false"));
  ERR(REQ(",\"includeCost\":1"), "includeCost", "includeCost: expected a boolean, got an integer");

  OK(REQ(",\"numberResults\":1"));
  OK(REQ(",\"numberResults\":20"));
  ERR(REQ(",\"numberResults\":0"), "numberResults", "numberResults: 0 is out of range 1..20");
  ERR(REQ(",\"numberResults\":21"), "numberResults", "21 is out of range 1..20");
  ERR(REQ(",\"numberResults\":1.5"), "numberResults", "expected an integer, got 1.5");
}

#define UUIDV1 "\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\""

static void test_reference_images(void) {
  OK(REQ(",\"inputs\":{\"referenceImages\":[" URL1 "]}"));
  OK(REQ(",\"inputs\":{}"));
  OK(REQ(",\"inputs\":[]"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[" UUIDV1 "]}"));  /* any UUID version */
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/png;base64,iVBORw0KGgo=\"]}"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/jpeg;base64,/9j/4AAQSkZJRg==\"]}"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/jpg;base64,/9j/4AAQ\"]}"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/webp;base64,UklGRg==\"]}"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"DATA:IMAGE/PNG;BASE64,iVBORw0KGgo=\"]}"));
  OK(REQ(",\"inputs\":{\"referenceImages\":[\"iVBORw0KGgoAAAANSUhEUgAA\"]}")); /* raw base64 */
  ERR(REQ(",\"inputs\":{\"referenceImages\":[\"Zm9vYmFy\"]}"), "inputs.referenceImages[0]",
      "inputs.referenceImages[0]: not a UUID, http(s) URL, data URI or base64 string");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[" URL1 "," URL1 "," URL1 ",\"cat.png\"]}"),
      "inputs.referenceImages[3]",
      "inputs.referenceImages[3]: not a UUID, http(s) URL, data URI or base64 string");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[" URL1 ",\"data:image/png;base64,@@@@\"]}"),
      "inputs.referenceImages[1]", "data URI payload is not valid base64");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/png;base64,\"]}"),
      "inputs.referenceImages[0]", "not valid base64");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[\"data:image/gif;base64,R0lGODlh\"]}"),
      "inputs.referenceImages[0]", "data URI must be data:image/<png|jpeg|jpg|webp>;base64,");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[\"data:text/plain;base64,Zm9v\"]}"),
      "inputs.referenceImages[0]", "data URI must be");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[" URL1 ",\"\"]}"), "inputs.referenceImages[1]",
      "inputs.referenceImages[1]: must not be empty");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[" URL1 ",5]}"), "inputs.referenceImages[1]",
      "inputs.referenceImages[1]: expected a string, got an integer");
  ERR(REQ(",\"inputs\":{\"referenceImages\":[]}"), "inputs.referenceImages",
      "inputs.referenceImages: needs 1..14 images, got 0");
  ERR(REQ(",\"inputs\":{\"referenceImages\":{\"a\":" URL1 "}}"), "inputs.referenceImages",
      "inputs.referenceImages: expected an array of strings, got an object");
  ERR(REQ(",\"inputs\":{\"referenceImages\":" URL1 "}"), "inputs.referenceImages",
      "expected an array of strings, got a string");
  ERR(REQ(",\"inputs\":\"x\""), "inputs", "inputs: expected an object, got a string");
  ERR(REQ(",\"inputs\":[" URL1 "]"), "inputs", "inputs: expected an object, got an array");

  /* counts: 14 pass, 15 fail */
  char json[4096];
  for (int n = SD_REFS_MAX; n <= SD_REFS_MAX + 1; n++) {
    char *p = json + sprintf(json, "{\"positivePrompt\":\"a\",\"width\":2048,\"height\":2048,"
                                   "\"inputs\":{\"referenceImages\":[");
    for (int i = 0; i < n; i++) p += sprintf(p, "%s" URL1, i ? "," : "");
    sprintf(p, "]}}");
    if (n == SD_REFS_MAX) OK(json);
    else ERR(json, "inputs.referenceImages", "needs 1..14 images, got 15");
  }

  /* top-level referenceImages (the reference's examples) */
  OK(REQ(",\"referenceImages\":[" URL1 "]"));
  ERR(REQ(",\"referenceImages\":[" URL1 "],\"inputs\":{\"referenceImages\":[" URL1 "]}"),
      "referenceImages", "given both at the top level and in inputs");
  ERR(REQ(",\"referenceImages\":[\"nope\"]"), "referenceImages[0]",
      "referenceImages[0]: not a UUID");
  ERR(REQ(",\"referenceImages\":\"x\""), "referenceImages", "expected an array of strings");
}

static void test_provider_settings(void) {
  OK(PS("\"maxSequentialImages\":1"));
  OK(PS("\"maxSequentialImages\":15"));
  OK(PS("\"optimizePromptMode\":\"standard\""));
  OK(PS("\"optimizePromptMode\":\"fast\""));
  OK(PS(""));
  OK(REQ(",\"providerSettings\":{}"));
  ERR(PS("\"maxSequentialImages\":0"), "providerSettings.bytedance.maxSequentialImages",
      "providerSettings.bytedance.maxSequentialImages: 0 is out of range 1..15");
  ERR(PS("\"maxSequentialImages\":16"), "providerSettings.bytedance.maxSequentialImages",
      "16 is out of range 1..15");
  ERR(PS("\"maxSequentialImages\":\"4\""), "providerSettings.bytedance.maxSequentialImages",
      "expected an integer, got a string");
  ERR(PS("\"optimizePromptMode\":\"quick\""), "providerSettings.bytedance.optimizePromptMode",
      "expected one of 'standard', 'fast', got 'quick'");
  ERR(REQ(",\"providerSettings\":\"bytedance\""), "providerSettings",
      "providerSettings: expected an object, got a string");
  ERR(REQ(",\"providerSettings\":{\"bytedance\":5}"), "providerSettings.bytedance",
      "providerSettings.bytedance: expected an object, got an integer");
  ERR(REQ(",\"providerSettings\":{\"bytedance\":[1]}"), "providerSettings.bytedance",
      "expected an object, got an array");

  /* referenceImages + maxSequentialImages <= 15 */
  char json[4096];
  for (int seq = 1; seq <= 2; seq++) {
    char *p = json + sprintf(json, "{\"positivePrompt\":\"a\",\"width\":2048,\"height\":2048,"
                                   "\"inputs\":{\"referenceImages\":[");
    for (int i = 0; i < SD_REFS_MAX; i++) p += sprintf(p, "%s" URL1, i ? "," : "");
    sprintf(p, "]},\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":%d}}}", seq);
    if (seq == 1) OK(json);
    else ERR(json, "providerSettings.bytedance.maxSequentialImages",
             "14 reference images + 2 sequential images = 16; at most 15 combined");
  }
  ERR(REQ(",\"referenceImages\":[" URL1 "," URL1 "],"
          "\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":14}}"),
      "providerSettings.bytedance.maxSequentialImages", "2 reference images + 14");
  OK(REQ(",\"referenceImages\":[" URL1 "],"
         "\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":14}}"));
}

static void test_order(void) {
  /* the first error in table order wins, whatever the key order of the input */
  ERR("{\"outputQuality\":5,\"positivePrompt\":\"a\",\"width\":\"x\",\"height\":2048}", "width",
      "width: expected an integer");
  ERR("{\"outputQuality\":5,\"positivePrompt\":\"a\",\"width\":1,\"height\":2048}",
      "outputQuality", "out of range");  /* fields before cross-field rules */
  ERR("{\"numberResults\":0,\"taskType\":\"x\"}", "taskType", "must be 'imageInference'");
  ERR("{\"bogus\":1,\"taskType\":\"x\"}", "bogus", "unknown field");
  ERR(REQ(",\"ttl\":1,\"outputType\":\"dataURI\""), "ttl", "below the minimum");
}

int main(void) {
  test_shape();
  test_unknown_keys();
  test_fixed_fields();
  test_prompt();
  test_size();
  test_output();
  test_uris();
  test_delivery_safety_misc();
  test_reference_images();
  test_provider_settings();
  test_order();
  return MT_SUMMARY();
}
