/* test_schema_prepare.c: prepare's normalisation of Seedream 5.0 Lite requests (fields the
 * client fills in, their order, number types, referenceImages moved under inputs),
 * sd_request_max_images, and the wire JSON of the API reference's four example requests.
 * The field rules are in test_schema.c; the JSON reader and the base request in
 * schema_helpers.h. */
#include <stdlib.h>
#include <string.h>

#include "minitest.h"
#include "schema_helpers.h"
#include "sd_error.h"
#include "sd_schema.h"
#include "sd_text.h"
#include "sd_value.h"

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
  test_prepare();
  test_max_images();
  test_examples();
  return MT_SUMMARY();
}
