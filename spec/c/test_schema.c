/* test_schema.c: every rule of the Seedream 5.0 Lite schema with passing and failing cases,
 * prepare's normalisation, and the wire JSON of the API reference's four example requests. */
#include <stdlib.h>
#include <string.h>

#include "minitest.h"
#include "sd_error.h"
#include "sd_json.h"
#include "sd_limits.h"
#include "sd_schema.h"
#include "sd_text.h"
#include "sd_value.h"

/* ---- a tiny JSON reader, so cases can be written as JSON (tests only) --------------- */

typedef struct { const char *p; int bad; } rd;

static void rd_ws(rd *r) {
  while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r') r->p++;
}

static void rd_utf8(sd_buf *b, unsigned cp) {
  if (cp < 0x80) {
    sd_buf_putc(b, (char)cp);
  } else if (cp < 0x800) {
    sd_buf_putc(b, (char)(0xC0 | cp >> 6));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  } else if (cp < 0x10000) {
    sd_buf_putc(b, (char)(0xE0 | cp >> 12));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 6) & 63)));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  } else {
    sd_buf_putc(b, (char)(0xF0 | cp >> 18));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 12) & 63)));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 6) & 63)));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  }
}

static char *rd_string(rd *r, size_t *len) {
  sd_buf b;
  sd_buf_init(&b);
  r->p++; /* opening quote */
  while (*r->p && *r->p != '"') {
    if (*r->p == '\\') {
      r->p++;
      char c = *r->p++;
      switch (c) {
      case 'n': sd_buf_putc(&b, '\n'); break;
      case 't': sd_buf_putc(&b, '\t'); break;
      case 'r': sd_buf_putc(&b, '\r'); break;
      case 'b': sd_buf_putc(&b, '\b'); break;
      case 'f': sd_buf_putc(&b, '\f'); break;
      case 'u': {
        unsigned cp = (unsigned)strtoul((char[5]){r->p[0], r->p[1], r->p[2], r->p[3], 0}, NULL, 16);
        r->p += 4;
        rd_utf8(&b, cp);
        break;
      }
      default: sd_buf_putc(&b, c);
      }
    } else {
      sd_buf_putc(&b, *r->p++);
    }
  }
  if (*r->p != '"') r->bad = 1; else r->p++;
  return sd_buf_detach(&b, len);
}

static sd_value *rd_value(rd *r) {
  rd_ws(r);
  const char *p = r->p;
  if (*p == '{') {
    sd_value *o = sd_value_object();
    r->p++;
    rd_ws(r);
    if (*r->p == '}') { r->p++; return o; }
    for (;;) {
      rd_ws(r);
      if (*r->p != '"') { r->bad = 1; return o; }
      char *k = rd_string(r, NULL);
      rd_ws(r);
      if (*r->p++ != ':') r->bad = 1;
      sd_object_set(o, k, rd_value(r));
      free(k);
      rd_ws(r);
      if (*r->p == ',') { r->p++; continue; }
      if (*r->p == '}') { r->p++; return o; }
      r->bad = 1;
      return o;
    }
  }
  if (*p == '[') {
    sd_value *a = sd_value_array();
    r->p++;
    rd_ws(r);
    if (*r->p == ']') { r->p++; return a; }
    for (;;) {
      sd_array_push(a, rd_value(r));
      rd_ws(r);
      if (*r->p == ',') { r->p++; continue; }
      if (*r->p == ']') { r->p++; return a; }
      r->bad = 1;
      return a;
    }
  }
  if (*p == '"') {
    size_t len;
    char *s = rd_string(r, &len);
    sd_value *v = sd_value_string(s, len);
    free(s);
    return v;
  }
  if (!strncmp(p, "true", 4)) { r->p += 4; return sd_value_bool(1); }
  if (!strncmp(p, "false", 5)) { r->p += 5; return sd_value_bool(0); }
  if (!strncmp(p, "null", 4)) { r->p += 4; return sd_value_null(); }
  char *end;
  double d = strtod(p, &end);
  if (end == p) { r->bad = 1; r->p++; return sd_value_null(); }
  int is_float = 0;
  for (const char *q = p; q < end; q++) if (*q == '.' || *q == 'e' || *q == 'E') is_float = 1;
  r->p = end;
  return is_float ? sd_value_number(d) : sd_value_int(strtoll(p, NULL, 10));
}

static sd_value *parse(const char *json) {
  rd r = {json, 0};
  sd_value *v = rd_value(&r);
  rd_ws(&r);
  if (r.bad || *r.p) {
    fprintf(stderr, "test bug: bad JSON: %s\n", json);
    exit(2);
  }
  return v;
}

static char *to_json(const sd_value *v) {
  sd_buf b;
  sd_buf_init(&b);
  sd_json_write(&b, v);
  return sd_buf_detach(&b, NULL);
}

/* ---- helpers ---------------------------------------------------------------------- */

/* A valid base request; REQ(", \"x\":1") adds fields. */
#define REQ(extra) "{\"positivePrompt\":\"a cat\",\"width\":2048,\"height\":2048" extra "}"
#define PS(inner) REQ(",\"providerSettings\":{\"bytedance\":{" inner "}}")

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
  /* common sizes of DESIGN.md */
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

#define URL1 "\"https://assets.runware.ai/assets/inputs/a.jpg\""
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

/* ---- prepare ---------------------------------------------------------------------- */

static sd_value *prepared(const char *json) {
  sd_value *v = parse(json);
  sd_error err;
  if (sd_request_prepare(v, &err) != SD_OK) {
    fprintf(stderr, "     prepare failed: [%s] %s\n", err.field, err.message);
    CHECK(0);
  }
  return v;
}

static void test_prepare(void) {
  sd_value *v = prepared("{\"positivePrompt\":\"a cat\",\"width\":2304.0,\"height\":1728,"
                         "\"outputQuality\":90.0,"
                         "\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":4.0}}}");
  CHECK_STR(v->u.obj.keys[0], "taskType");
  CHECK_STR(v->u.obj.keys[1], "taskUUID");
  CHECK_STR(v->u.obj.keys[2], "model");
  CHECK_STR(v->u.obj.keys[3], "positivePrompt");
  const sd_value *id = sd_object_get(v, "taskUUID");
  CHECK(id && id->type == SD_STRING && sd_uuid_is_v4(id->u.str.s, id->u.str.len));
  CHECK_EQ_INT(sd_object_get(v, "width")->u.num.is_int, 1);
  char *j = to_json(v);
  char expected[512];
  snprintf(expected, sizeof expected,
           "{\"taskType\":\"imageInference\",\"taskUUID\":\"%s\",\"model\":"
           "\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"a cat\",\"width\":2304,"
           "\"height\":1728,\"outputQuality\":90,"
           "\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":4}}}",
           id->u.str.s);
  CHECK_STR(j, expected);
  free(j);
  /* a second prepare of the same request gets a different UUID */
  sd_value *w = prepared(REQ(""));
  CHECK(strcmp(sd_object_get(w, "taskUUID")->u.str.s, id->u.str.s) != 0);
  sd_value_free(w);
  /* preparing twice is harmless */
  sd_error err;
  char *before = to_json(v);
  CHECK_EQ_INT(sd_request_prepare(v, &err), SD_OK);
  char *after = to_json(v);
  CHECK_STR(after, before);
  free(before);
  free(after);
  sd_value_free(v);

  /* given taskUUID is kept; missing ones go to the front in order */
  v = prepared("{\"positivePrompt\":\"p\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
               "\"width\":2048,\"height\":2048}");
  j = to_json(v);
  CHECK_STR(j, "{\"taskType\":\"imageInference\",\"model\":\"bytedance:seedream@5.0-lite\","
               "\"positivePrompt\":\"p\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
               "\"width\":2048,\"height\":2048}");
  free(j);
  sd_value_free(v);

  /* referenceImages move under inputs, in the place they had */
  v = prepared("{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
               "\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"p\","
               "\"referenceImages\":[" URL1 "],\"width\":2048,\"height\":2048}");
  j = to_json(v);
  CHECK_STR(j, "{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
               "\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"p\","
               "\"inputs\":{\"referenceImages\":[" URL1 "]},\"width\":2048,\"height\":2048}");
  CHECK(sd_object_get(v, "referenceImages") == NULL);
  free(j);
  sd_value_free(v);
  /* into an existing (empty) inputs object, or an empty array standing for one */
  static const char *const empties[] = {"{}", "[]"};
  for (int i = 0; i < 2; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
             "\"model\":\"bytedance:seedream@5.0-lite\",\"inputs\":%s,\"positivePrompt\":\"p\","
             "\"width\":2048,\"height\":2048,\"referenceImages\":[" URL1 "],\"safety\":[]}",
             empties[i]);
    v = prepared(json);
    j = to_json(v);
    CHECK_STR(j, "{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
                 "\"model\":\"bytedance:seedream@5.0-lite\",\"inputs\":{\"referenceImages\":["
                 URL1 "]},\"positivePrompt\":\"p\",\"width\":2048,\"height\":2048,\"safety\":{}}");
    free(j);
    sd_value_free(v);
  }
}

static void test_max_images(void) {
  sd_value *v = parse(REQ(""));
  CHECK_EQ_INT(sd_request_max_images(v), 1);
  sd_value_free(v);
  v = parse(REQ(",\"numberResults\":5"));
  CHECK_EQ_INT(sd_request_max_images(v), 5);
  sd_value_free(v);
  v = parse(PS("\"maxSequentialImages\":4"));
  CHECK_EQ_INT(sd_request_max_images(v), 4);
  sd_value_free(v);
  v = parse(REQ(",\"numberResults\":3,\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":4}}"));
  CHECK_EQ_INT(sd_request_max_images(v), 12);
  sd_value_free(v);
  v = parse(REQ(",\"numberResults\":3.0"));
  CHECK_EQ_INT(sd_request_max_images(v), 3);
  sd_value_free(v);
  CHECK_EQ_INT(sd_request_max_images(NULL), 1);
}

/* ---- the API reference's four example requests ------------------------------------- */

static const char example1_in[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\",\"model\":\""
    "bytedance:seedream@5.0-lite\",\"positivePrompt\":\"An elaborate wedding portrait in a fantas"
    "tical clockwork orchard, a poised couple standing beneath fruit trees whose branches are"
    " made of polished brass, copper leaves, and tiny rotating gears. The bride wears an ivor"
    "y gown with pearl beadwork and structured sleeves, the groom wears a deep plum formal co"
    "at with embroidered celestial motifs. Around them hang mechanical pears, glass apples wi"
    "th visible filigree cores, and delicate ribbon streamers caught in a gentle breeze. In t"
    "he background, guests sit at long pale-wood tables arranged between topiary arches and s"
    "uspended strings of crystal droplets. The ground is patterned with fallen petals, metall"
    "ic leaves, and mosaic tiles. Warm late-afternoon light, refined cinematic composition, e"
    "legant symmetry with subtle asymmetry in the foliage, high detail in fabrics, jewelry, r"
    "eflective metal, and facial features, whimsical luxury, romantic but slightly surreal, p"
    "remium editorial photography mixed with storybook grandeur.\",\"width\":2304,\"height\":1728,"
    "\"providerSettings\":{\"bytedance\":{\"optimizePromptMode\":\"standard\",\"maxSequentialImages\":1"
    "}}}";

static const char example1_wire[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\",\"model\":\""
    "bytedance:seedream@5.0-lite\",\"positivePrompt\":\"An elaborate wedding portrait in a fantas"
    "tical clockwork orchard, a poised couple standing beneath fruit trees whose branches are"
    " made of polished brass, copper leaves, and tiny rotating gears. The bride wears an ivor"
    "y gown with pearl beadwork and structured sleeves, the groom wears a deep plum formal co"
    "at with embroidered celestial motifs. Around them hang mechanical pears, glass apples wi"
    "th visible filigree cores, and delicate ribbon streamers caught in a gentle breeze. In t"
    "he background, guests sit at long pale-wood tables arranged between topiary arches and s"
    "uspended strings of crystal droplets. The ground is patterned with fallen petals, metall"
    "ic leaves, and mosaic tiles. Warm late-afternoon light, refined cinematic composition, e"
    "legant symmetry with subtle asymmetry in the foliage, high detail in fabrics, jewelry, r"
    "eflective metal, and facial features, whimsical luxury, romantic but slightly surreal, p"
    "remium editorial photography mixed with storybook grandeur.\",\"width\":2304,\"height\":1728,"
    "\"providerSettings\":{\"bytedance\":{\"optimizePromptMode\":\"standard\",\"maxSequentialImages\":1"
    "}}}";

static const char example2_in[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"d75461ad-bf14-4171-a4e8-39ba8436ecc0\",\"referenc"
    "eImages\":[\"https://assets.runware.ai/assets/inputs/4cfc2f5b-dca4-46a3-a1c9-4f0f5c17927e."
    "jpg\",\"https://assets.runware.ai/assets/inputs/fe19e584-5937-415e-8dbd-07ca8fa7c38a.jpg\"]"
    ",\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"Using both reference images, cr"
    "eate a fantastical confection salon where the cockatoo becomes the regal host of the spa"
    "ce. Preserve the bird's distinctive crest, beak shape, and elegant stance from the first"
    " reference, and merge it naturally into the ornate pastry interior language of the secon"
    "d reference. Scene: a lavish dessert showroom filled with porcelain bird motifs, spiral "
    "meringue columns, suspended sugar ribbons, apricot and pale jade color harmonies, polish"
    "ed tiled floor, mirrored display cases, tiny marzipan sculptures, elaborate frosted cake"
    "s shaped like aviaries, and staff uniforms inspired by feather patterns. The cockatoo st"
    "ands prominently atop a circular tasting podium as the focal subject, wearing a miniatur"
    "e embroidered collar and jeweled leg band. Highly detailed textures, graceful symmetry, "
    "premium editorial photography look, bright diffused indoor illumination, playful sophist"
    "ication, sharp focus, rich depth, visually coherent blend of both references.\",\"width\":2"
    "304,\"height\":1728,\"providerSettings\":{\"bytedance\":{\"optimizePromptMode\":\"standard\",\"maxS"
    "equentialImages\":1}}}";

static const char example2_wire[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"d75461ad-bf14-4171-a4e8-39ba8436ecc0\",\"inputs\":"
    "{\"referenceImages\":[\"https://assets.runware.ai/assets/inputs/4cfc2f5b-dca4-46a3-a1c9-4f0"
    "f5c17927e.jpg\",\"https://assets.runware.ai/assets/inputs/fe19e584-5937-415e-8dbd-07ca8fa7"
    "c38a.jpg\"]},\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"Using both reference"
    " images, create a fantastical confection salon where the cockatoo becomes the regal host"
    " of the space. Preserve the bird's distinctive crest, beak shape, and elegant stance fro"
    "m the first reference, and merge it naturally into the ornate pastry interior language o"
    "f the second reference. Scene: a lavish dessert showroom filled with porcelain bird moti"
    "fs, spiral meringue columns, suspended sugar ribbons, apricot and pale jade color harmon"
    "ies, polished tiled floor, mirrored display cases, tiny marzipan sculptures, elaborate f"
    "rosted cakes shaped like aviaries, and staff uniforms inspired by feather patterns. The "
    "cockatoo stands prominently atop a circular tasting podium as the focal subject, wearing"
    " a miniature embroidered collar and jeweled leg band. Highly detailed textures, graceful"
    " symmetry, premium editorial photography look, bright diffused indoor illumination, play"
    "ful sophistication, sharp focus, rich depth, visually coherent blend of both references."
    "\",\"width\":2304,\"height\":1728,\"providerSettings\":{\"bytedance\":{\"optimizePromptMode\":\"stan"
    "dard\",\"maxSequentialImages\":1}}}";

static const char example3_in[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"bc852f25-f77c-4406-acb4-d27be1b8a04d\",\"referenc"
    "eImages\":[\"https://assets.runware.ai/assets/inputs/ab24d614-b558-4b4c-9462-0a946f998598."
    "jpg\",\"https://assets.runware.ai/assets/inputs/15de83e5-5ec3-4f81-b04d-2da68654d95c.jpg\","
    "\"https://assets.runware.ai/assets/inputs/c5fbf3a5-f431-4b93-a688-227e011de6de.jpg\",\"http"
    "s://assets.runware.ai/assets/inputs/7111e033-445c-411f-88b3-dc85a6bd1a53.jpg\",\"https://a"
    "ssets.runware.ai/assets/inputs/3e89698a-f15a-46fb-836c-de40feeb689a.jpg\",\"https://assets"
    ".runware.ai/assets/inputs/ef522faf-7468-4bfc-85ed-610968b11992.jpg\",\"https://assets.runw"
    "are.ai/assets/inputs/7f7bc8e0-4cb9-4a9b-8111-3997cf676876.jpg\",\"https://assets.runware.a"
    "i/assets/inputs/b30f2e2b-ecfc-4c57-8f83-4384b6dca9d8.jpg\"],\"model\":\"bytedance:seedream@5"
    ".0-lite\",\"positivePrompt\":\"Use all 8 reference images to create a grand encyclopedic int"
    "erior: a vast circular archive hall where the architecture from the library image forms "
    "the main setting, the antique map becomes a monumental central table display, the specim"
    "en cabinet contents appear in curated side exhibits, the brass navigation instruments be"
    "come hero objects in the foreground, the suspended paper birds sweep upward through the "
    "composition like a visual guide line, the leather books form layered stacks and open stu"
    "dy stations, the celestial mural transforms into the decorated domed ceiling, and the su"
    "nlight reference defines the warm directional lighting. Compose a highly detailed, elega"
    "nt scholarly scene with clear depth, believable perspective, harmonious materials, intri"
    "cate textures, and a sense of wonder and discovery. Refined editorial fantasy aesthetic,"
    " crisp focus, balanced complexity, no people, no text overlays.\",\"width\":3456,\"height\":2"
    "592,\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":1,\"optimizePromptMode\":\"stand"
    "ard\"}}}";

static const char example3_wire[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"bc852f25-f77c-4406-acb4-d27be1b8a04d\",\"inputs\":"
    "{\"referenceImages\":[\"https://assets.runware.ai/assets/inputs/ab24d614-b558-4b4c-9462-0a9"
    "46f998598.jpg\",\"https://assets.runware.ai/assets/inputs/15de83e5-5ec3-4f81-b04d-2da68654"
    "d95c.jpg\",\"https://assets.runware.ai/assets/inputs/c5fbf3a5-f431-4b93-a688-227e011de6de."
    "jpg\",\"https://assets.runware.ai/assets/inputs/7111e033-445c-411f-88b3-dc85a6bd1a53.jpg\","
    "\"https://assets.runware.ai/assets/inputs/3e89698a-f15a-46fb-836c-de40feeb689a.jpg\",\"http"
    "s://assets.runware.ai/assets/inputs/ef522faf-7468-4bfc-85ed-610968b11992.jpg\",\"https://a"
    "ssets.runware.ai/assets/inputs/7f7bc8e0-4cb9-4a9b-8111-3997cf676876.jpg\",\"https://assets"
    ".runware.ai/assets/inputs/b30f2e2b-ecfc-4c57-8f83-4384b6dca9d8.jpg\"]},\"model\":\"bytedance"
    ":seedream@5.0-lite\",\"positivePrompt\":\"Use all 8 reference images to create a grand encyc"
    "lopedic interior: a vast circular archive hall where the architecture from the library i"
    "mage forms the main setting, the antique map becomes a monumental central table display,"
    " the specimen cabinet contents appear in curated side exhibits, the brass navigation ins"
    "truments become hero objects in the foreground, the suspended paper birds sweep upward t"
    "hrough the composition like a visual guide line, the leather books form layered stacks a"
    "nd open study stations, the celestial mural transforms into the decorated domed ceiling,"
    " and the sunlight reference defines the warm directional lighting. Compose a highly deta"
    "iled, elegant scholarly scene with clear depth, believable perspective, harmonious mater"
    "ials, intricate textures, and a sense of wonder and discovery. Refined editorial fantasy"
    " aesthetic, crisp focus, balanced complexity, no people, no text overlays.\",\"width\":3456"
    ",\"height\":2592,\"providerSettings\":{\"bytedance\":{\"maxSequentialImages\":1,\"optimizePromptM"
    "ode\":\"standard\"}}}";

static const char example4_in[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"1c14dff5-4b52-4722-baa1-77705d1ee114\",\"model\":\""
    "bytedance:seedream@5.0-lite\",\"positivePrompt\":\"An elegant old electric tram crossing a s"
    "hallow seasonal floodplain on a narrow raised track, transformed into a surreal pastoral"
    " transit scene. The tram is painted cream, brass, and faded jade, with ornate trim, glow"
    "ing interior sconces, and passengers visible through tall windows: a tailor with hatboxe"
    "s, a child holding a paper pinwheel, a musician carrying a cello case, and a florist wit"
    "h oversized peonies. Around the track, mirror-like water reflects a vast apricot sky and"
    " drifting cloud bands. Tall reeds, floating lily pads, and scattered white ibises create"
    " delicate rhythm across the foreground. In the distance, stilted farmhouses, wind-driven"
    " water wheels, and rows of cypress trees suggest a wetland village adapted to annual ove"
    "rflow. Mood: tranquil, uncanny, refined, quietly joyful. Composition: wide cinematic ang"
    "le, tram placed on the lower third moving left to right, strong leading lines, expansive"
    " sky, crisp reflections, balanced negative space. Style: ultra-detailed contemporary edi"
    "torial photography blended with painterly atmosphere, nuanced natural light, realistic m"
    "aterials, subtle haze, intricate costume and vehicle detailing, high dynamic range, no t"
    "ext, no watermark.\",\"width\":4096,\"height\":2304,\"providerSettings\":{\"bytedance\":{\"maxSequ"
    "entialImages\":1,\"optimizePromptMode\":\"standard\"}}}";

static const char example4_wire[] =
    "{\"taskType\":\"imageInference\",\"taskUUID\":\"1c14dff5-4b52-4722-baa1-77705d1ee114\",\"model\":\""
    "bytedance:seedream@5.0-lite\",\"positivePrompt\":\"An elegant old electric tram crossing a s"
    "hallow seasonal floodplain on a narrow raised track, transformed into a surreal pastoral"
    " transit scene. The tram is painted cream, brass, and faded jade, with ornate trim, glow"
    "ing interior sconces, and passengers visible through tall windows: a tailor with hatboxe"
    "s, a child holding a paper pinwheel, a musician carrying a cello case, and a florist wit"
    "h oversized peonies. Around the track, mirror-like water reflects a vast apricot sky and"
    " drifting cloud bands. Tall reeds, floating lily pads, and scattered white ibises create"
    " delicate rhythm across the foreground. In the distance, stilted farmhouses, wind-driven"
    " water wheels, and rows of cypress trees suggest a wetland village adapted to annual ove"
    "rflow. Mood: tranquil, uncanny, refined, quietly joyful. Composition: wide cinematic ang"
    "le, tram placed on the lower third moving left to right, strong leading lines, expansive"
    " sky, crisp reflections, balanced negative space. Style: ultra-detailed contemporary edi"
    "torial photography blended with painterly atmosphere, nuanced natural light, realistic m"
    "aterials, subtle haze, intricate costume and vehicle detailing, high dynamic range, no t"
    "ext, no watermark.\",\"width\":4096,\"height\":2304,\"providerSettings\":{\"bytedance\":{\"maxSequ"
    "entialImages\":1,\"optimizePromptMode\":\"standard\"}}}";

static void check_example(const char *in, const char *wire) {
  sd_value *v = prepared(in);
  char *j = to_json(v);
  CHECK_STR(j, wire);
  free(j);
  sd_value_free(v);
  /* without the fields the client fills in: they come back first, with a fresh taskUUID */
  v = parse(in);
  sd_value_free(sd_object_take(v, "taskType"));
  sd_value_free(sd_object_take(v, "taskUUID"));
  sd_value_free(sd_object_take(v, "model"));
  sd_error err;
  CHECK_EQ_INT(sd_request_prepare(v, &err), SD_OK);
  sd_value *id = sd_object_get(v, "taskUUID");
  CHECK(id && sd_uuid_is_v4(id->u.str.s, id->u.str.len));
  CHECK_STR(v->u.obj.keys[0], "taskType");
  CHECK_STR(v->u.obj.keys[1], "taskUUID");
  CHECK_STR(v->u.obj.keys[2], "model");
  /* expected: the reference's wire JSON with the filled-in fields first, and its UUID put
   * back into ours */
  sd_value *w = parse(wire);
  sd_object_insert(w, 2, "model", sd_object_take(w, "model"));
  if (id) sd_object_set(v, "taskUUID", sd_value_string(sd_object_get(w, "taskUUID")->u.str.s, 36));
  char *jw = to_json(w);
  j = to_json(v);
  CHECK_STR(j, jw);
  free(j);
  free(jw);
  sd_value_free(w);
  sd_value_free(v);
}

static void test_examples(void) {
  check_example(example1_in, example1_wire);
  check_example(example2_in, example2_wire);
  check_example(example3_in, example3_wire);
  check_example(example4_in, example4_wire);
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
  test_prepare();
  test_max_images();
  test_examples();
  return MT_SUMMARY();
}
