/* validate.c: see validate.h. Rules: the Seedream 5.0 Lite API reference; numbers:
 * sd_limits.h. */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_limits.h"
#include "sd_text.h"
#include "util.h"

/* "no maximum" (the reference gives none, e.g. ttl): the largest integer JSON keeps exact */
#define NO_MAX ((long long)SD_JSON_INT_MAX)

#define MODEL_ID "bytedance:seedream@5.0-lite"

static const char *const top_keys[] = {
  "taskType", "taskUUID", "model", "positivePrompt", "width", "height", "outputType",
  "outputFormat", "outputQuality", "webhookURL", "deliveryMethod", "uploadEndpoint", "safety",
  "ttl", "includeCost", "numberResults", "inputs", "referenceImages", "providerSettings", NULL
};
static const char *const safety_keys[] = { "checkContent", "mode", NULL };
static const char *const inputs_keys[] = { "referenceImages", NULL };
static const char *const provider_keys[] = { "bytedance", NULL };
static const char *const bytedance_keys[] = { "maxSequentialImages", "optimizePromptMode", NULL };

static int bad(emu_err *e, const char *param, const char *fmt, const char *detail)
{
  return emu_err_set(e, 400, "invalidParameter", param, fmt, detail);
}

/* Unknown keys cost money on the real API (ignored or refused): refuse them here. */
static int check_keys(const cJSON *obj, const char *const *known, const char *prefix, emu_err *e)
{
  for (const cJSON *it = obj->child; it; it = it->next) {
    int ok = 0;
    for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, it->string) == 0;
    if (!ok) {
      char path[128];
      snprintf(path, sizeof path, "%s%s", prefix, it->string);
      return emu_err_set(e, 400, "unsupportedParameter", path,
                         "Unsupported parameter '%s' for model %s.", path, MODEL_ID);
    }
  }
  return 0;
}

/* Reads an optional integer in lo..hi. 0 ok (present set), -1 error. */
static int get_int(const cJSON *obj, const char *key, const char *path, long lo, long hi,
                   long *out, int *present, emu_err *e)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *present = v != NULL;
  if (!v) return 0;
  double d = v->valuedouble;
  if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d))
    return bad(e, path, "Invalid value for '%s': must be an integer.", path);
  if (d < (double)lo || d > (double)hi) {
    if (d < (double)lo && hi == NO_MAX)
      return emu_err_set(e, 400, "invalidParameter", path,
                         "Invalid value for '%s': must be at least %ld.", path, lo);
    return emu_err_set(e, 400, "invalidParameter", path,
                       "Invalid value for '%s': must be between %ld and %ld.", path, lo, hi);
  }
  *out = (long)d;
  return 0;
}

/* Reads an optional string that must be one of `allowed`; *index gets its position. */
static int get_enum(const cJSON *obj, const char *key, const char *path,
                    const char *const *allowed, int *index, emu_err *e)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return 0;
  if (cJSON_IsString(v))
    for (int i = 0; allowed[i]; i++)
      if (strcmp(v->valuestring, allowed[i]) == 0) { *index = i; return 0; }
  char list[128] = "";
  for (int i = 0; allowed[i]; i++) {
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, allowed[i], sizeof list - strlen(list) - 1);
  }
  return emu_err_set(e, 400, "invalidParameter", path,
                     "Invalid value for '%s': must be one of %s.", path, list);
}

static int get_bool(const cJSON *obj, const char *key, const char *path, int *out, emu_err *e)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return 0;
  if (!cJSON_IsBool(v)) return bad(e, path, "Invalid value for '%s': must be a boolean.", path);
  *out = cJSON_IsTrue(v);
  return 0;
}

static int get_url(const cJSON *obj, const char *key, char **out, emu_err *e)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return 0;
  if (!cJSON_IsString(v) || !emu_url_is_http(v->valuestring))
    return bad(e, key, "Invalid value for '%s': must be an absolute http(s) URL.", key);
  *out = strdup(v->valuestring);
  if (!*out) return emu_err_set(e, 500, "serverError", key, "Out of memory.");
  return 0;
}

static int get_object(const cJSON *obj, const char *key, const char *path, const cJSON **out,
                      emu_err *e)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (!v) return 0;
  if (!cJSON_IsObject(v)) return bad(e, path, "Invalid value for '%s': must be an object.", path);
  *out = v;
  return 0;
}

int emu_validate_task_uuid(const cJSON *task, emu_err *e)
{
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(task, "taskUUID");
  if (!u) return emu_err_set(e, 400, "missingParameter", "taskUUID", "Missing required parameter 'taskUUID'.");
  if (!cJSON_IsString(u) || !sd_uuid_is_v4(u->valuestring, strlen(u->valuestring)))
    return bad(e, "taskUUID", "Invalid value for '%s': must be a UUID v4.", "taskUUID");
  return 0;
}

static int check_prompt(const cJSON *task, emu_spec *s, emu_err *e)
{
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(task, "positivePrompt");
  if (!p) return emu_err_set(e, 400, "missingParameter", "positivePrompt",
                             "Missing required parameter 'positivePrompt'.");
  if (!cJSON_IsString(p)) return bad(e, "positivePrompt", "Invalid value for '%s': must be a string.", "positivePrompt");
  size_t n = strlen(p->valuestring);
  long chars = sd_utf8_count(p->valuestring, n);
  if (chars < 0) return bad(e, "positivePrompt", "Invalid value for '%s': not valid UTF-8.", "positivePrompt");
  if (chars < SD_PROMPT_MIN || chars > SD_PROMPT_MAX)
    return emu_err_set(e, 400, "invalidParameter", "positivePrompt",
                       "Invalid value for 'positivePrompt': length must be between %d and %d "
                       "characters, got %ld.", SD_PROMPT_MIN, SD_PROMPT_MAX, chars);
  s->prompt = strdup(p->valuestring);
  if (!s->prompt) return emu_err_set(e, 500, "serverError", "", "Out of memory.");
  return 0;
}

static int check_size(const cJSON *task, emu_spec *s, emu_err *e)
{
  static const char *const names[2] = { "width", "height" };
  long v[2];
  for (int i = 0; i < 2; i++) {
    int present;
    if (get_int(task, names[i], names[i], 1, 1L << 20, &v[i], &present, e)) return -1;
    if (!present) return emu_err_set(e, 400, "missingParameter", names[i],
                                     "Missing required parameter '%s'.", names[i]);
  }
  long px = v[0] * v[1];
  if (px < SD_MIN_PIXELS || px > SD_MAX_PIXELS)
    return emu_err_set(e, 400, "invalidParameter", "width",
                       "Invalid dimensions %ldx%ld: total pixels must be between %ld and %ld.",
                       v[0], v[1], (long)SD_MIN_PIXELS, (long)SD_MAX_PIXELS);
  long lo = v[0] < v[1] ? v[0] : v[1], hi = v[0] < v[1] ? v[1] : v[0];
  if (hi > lo * SD_MAX_ASPECT)       /* names the longer side, as the client does */
    return emu_err_set(e, 400, "invalidParameter", v[0] >= v[1] ? "width" : "height",
                       "Invalid dimensions %ldx%ld: aspect ratio must be between 1:%d and %d:1.",
                       v[0], v[1], SD_MAX_ASPECT, SD_MAX_ASPECT);
  s->width = (int)v[0];
  s->height = (int)v[1];
  return 0;
}

static int check_output(const cJSON *task, emu_spec *s, emu_err *e)
{
  static const char *const types[] = { "URL", "dataURI", "base64Data", NULL };
  static const char *const formats[] = { "JPG", "PNG", "WEBP", NULL };
  static const char *const methods[] = { "sync", "async", NULL };
  int i = 0, present;
  long q = SD_QUALITY_DEFAULT, n = 1, ttl = 0;
  if (get_enum(task, "outputType", "outputType", types, &i, e)) return -1;
  s->out_type = (emu_out_type)i;
  i = 0;
  if (get_enum(task, "outputFormat", "outputFormat", formats, &i, e)) return -1;
  s->format = (emu_format)i;
  if (get_int(task, "outputQuality", "outputQuality", SD_QUALITY_MIN, SD_QUALITY_MAX, &q, &present, e)) return -1;
  s->quality = (int)q;
  i = 0;
  if (get_enum(task, "deliveryMethod", "deliveryMethod", methods, &i, e)) return -1;
  s->async = i == 1;
  if (get_url(task, "webhookURL", &s->webhook_url, e)) return -1;
  if (get_url(task, "uploadEndpoint", &s->upload_url, e)) return -1;
  if (get_bool(task, "includeCost", "includeCost", &s->include_cost, e)) return -1;
  if (get_int(task, "numberResults", "numberResults", SD_RESULTS_MIN, SD_RESULTS_MAX, &n, &present, e)) return -1;
  s->number_results = (int)n;
  if (get_int(task, "ttl", "ttl", SD_TTL_MIN, NO_MAX, &ttl, &present, e)) return -1;
  if (present && s->out_type != EMU_OUT_URL)
    return bad(e, "ttl", "Invalid parameter '%s': only allowed with outputType URL.", "ttl");
  s->ttl = ttl;
  return 0;
}

static int check_safety(const cJSON *task, emu_spec *s, emu_err *e)
{
  static const char *const modes[] = { "none", "fast", NULL };
  const cJSON *safety;
  if (get_object(task, "safety", "safety", &safety, e)) return -1;
  if (!safety) return 0;
  if (check_keys(safety, safety_keys, "safety.", e)) return -1;
  int check = 0, mode = 0;
  if (get_bool(safety, "checkContent", "safety.checkContent", &check, e)) return -1;
  if (get_enum(safety, "mode", "safety.mode", modes, &mode, e)) return -1;
  s->check_content = check || mode == 1;
  return 0;
}

static int check_provider(const cJSON *task, emu_spec *s, emu_err *e)
{
  static const char *const modes[] = { "standard", "fast", NULL };
  const cJSON *ps, *bd;
  s->max_seq = 1;
  if (get_object(task, "providerSettings", "providerSettings", &ps, e)) return -1;
  if (!ps) return 0;
  if (check_keys(ps, provider_keys, "providerSettings.", e)) return -1;
  if (get_object(ps, "bytedance", "providerSettings.bytedance", &bd, e)) return -1;
  if (!bd) return 0;
  if (check_keys(bd, bytedance_keys, "providerSettings.bytedance.", e)) return -1;
  long seq = 1;
  int mode = 0;
  if (get_int(bd, "maxSequentialImages", "providerSettings.bytedance.maxSequentialImages",
              SD_SEQ_MIN, SD_SEQ_MAX, &seq, &s->has_max_seq, e)) return -1;
  s->max_seq = (int)seq;
  return get_enum(bd, "optimizePromptMode", "providerSettings.bytedance.optimizePromptMode",
                  modes, &mode, e);
}

static int check_refs(struct emu_server *srv, const cJSON *task, emu_spec *s, emu_err *e)
{
  const cJSON *inputs, *top = cJSON_GetObjectItemCaseSensitive(task, "referenceImages");
  const cJSON *list = top;
  const char *base = "referenceImages";
  if (get_object(task, "inputs", "inputs", &inputs, e)) return -1;
  if (inputs) {
    if (check_keys(inputs, inputs_keys, "inputs.", e)) return -1;
    const cJSON *nested = cJSON_GetObjectItemCaseSensitive(inputs, "referenceImages");
    if (nested && top)
      return bad(e, "referenceImages", "Invalid parameter '%s': give it either at the top "
                 "level or in inputs, not both.", "referenceImages");
    if (nested) { list = nested; base = "inputs.referenceImages"; }
  }
  if (!list) return 0;
  int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
  if (n < SD_REFS_MIN || n > SD_REFS_MAX)
    return emu_err_set(e, 400, "invalidParameter", base,
                       "Invalid value for '%s': must be an array of %d to %d images.", base,
                       SD_REFS_MIN, SD_REFS_MAX);
  s->refs = calloc((size_t)n, sizeof *s->refs);
  if (!s->refs) return emu_err_set(e, 500, "serverError", base, "Out of memory.");
  int i = 0;
  for (const cJSON *it = list->child; it; it = it->next, i++) {
    char path[64];
    snprintf(path, sizeof path, "%s[%d]", base, i);
    if (!cJSON_IsString(it))
      return bad(e, path, "Invalid value for '%s': must be a string.", path);
    if (emu_ref_parse(srv, it->valuestring, strlen(it->valuestring), path, &s->refs[i], e))
      return -1;
    s->n_refs = i + 1;
  }
  return 0;
}

int emu_validate_inference(struct emu_server *srv, const cJSON *task, emu_spec *s, emu_err *e)
{
  memset(s, 0, sizeof *s);
  if (emu_validate_task_uuid(task, e)) return -1;
  if (check_keys(task, top_keys, "", e)) return -1;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(task, "model");
  if (!m) return emu_err_set(e, 400, "missingParameter", "model", "Missing required parameter 'model'.");
  if (!cJSON_IsString(m) || strcmp(m->valuestring, MODEL_ID) != 0)
    return emu_err_set(e, 400, "invalidModel", "model",
                       "Invalid model: this server only serves '%s'.", MODEL_ID);
  if (check_prompt(task, s, e) || check_size(task, s, e) || check_output(task, s, e) ||
      check_safety(task, s, e) || check_provider(task, s, e) || check_refs(srv, task, s, e)) {
    emu_spec_free(s);
    return -1;
  }
  if (s->n_refs + s->max_seq > SD_REFS_PLUS_SEQ_MAX) {
    emu_err_set(e, 400, "invalidParameter", "providerSettings.bytedance.maxSequentialImages",
                "Invalid value: reference images (%d) plus maxSequentialImages (%d) must not "
                "exceed %d.", s->n_refs, s->max_seq, SD_REFS_PLUS_SEQ_MAX);
    emu_spec_free(s);
    return -1;
  }
  return 0;
}

void emu_spec_free(emu_spec *s)
{
  free(s->prompt);
  free(s->webhook_url);
  free(s->upload_url);
  for (int i = 0; i < s->n_refs; i++) emu_ref_free(&s->refs[i]);
  free(s->refs);
  memset(s, 0, sizeof *s);
}
