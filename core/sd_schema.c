/* sd_schema.c: the Seedream 5.0 Lite request schema (one table), validation, normalisation.
 *
 * sd_fields[] lists every field of the API reference with its parent path, kind, limits,
 * allowed values, documented default and flags. Validation walks the request level by level
 * in table order: unknown keys of a level first (they are usually typos of a field that
 * then looks missing), then each known field of that level, recursing into objects. The few
 * rules that involve two fields are separate functions run after the walk. */
#include "sd_schema.h"
#include "sd_file.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sd_limits.h"
#include "sd_text.h"

typedef enum {
  SD_K_STRING,  /* text; min/max in UTF-8 code points */
  SD_K_INTEGER, /* min/max inclusive */
  SD_K_BOOLEAN,
  SD_K_ENUM,    /* one of values[] (exact case) */
  SD_K_OBJECT,  /* its fields are the entries whose parent is this path */
  SD_K_IMAGES,  /* array of reference-image strings; min/max items */
  SD_K_URI,     /* absolute http(s) URI */
  SD_K_UUID4    /* UUID version 4 */
} sd_kind;

enum {
  SD_F_REQUIRED = 1, /* the user must give it */
  SD_F_FILLED = 2,   /* prepare fills it in when absent */
  SD_F_ALIAS = 4     /* top-level referenceImages: accepted, moved to inputs */
};

#define SD_NOMAX LLONG_MAX
/* Positive sides; the real size rules are the pixel range and aspect ratio below. */
#define SD_SIDE_MIN 1
/* Shortest raw base64 string taken as an image (shorter ones are more likely mistakes). */
#define SD_REF_BASE64_MIN 16

typedef struct sd_field {
  const char *name;
  const char *parent; /* "" for the top level, else a dotted path */
  sd_kind kind;
  long long min, max;
  const char *const *values; /* SD_K_ENUM: NULL-terminated */
  const char *def;           /* documented default (as text), NULL if none */
  unsigned flags;
} sd_field;

static const char *const sd_v_task_type[] = {SD_TASK_TYPE, NULL};
static const char *const sd_v_model[] = {SD_MODEL_ID, NULL};
static const char *const sd_v_output_type[] = {"URL", "dataURI", "base64Data", NULL};
static const char *const sd_v_output_format[] = {"JPG", "PNG", "WEBP", NULL};
static const char *const sd_v_delivery[] = {"sync", "async", NULL};
static const char *const sd_v_safety_mode[] = {"none", "fast", NULL};
static const char *const sd_v_optimize[] = {"standard", "fast", NULL};

#define PS_BD "providerSettings.bytedance"

static const sd_field sd_fields[] = {
    /* name                 parent    kind          min             max             values              default     flags */
    {"taskType",            "",       SD_K_ENUM,    0,              0,              sd_v_task_type,     NULL,       SD_F_FILLED},
    {"taskUUID",            "",       SD_K_UUID4,   0,              0,              NULL,               NULL,       SD_F_FILLED},
    {"model",               "",       SD_K_ENUM,    0,              0,              sd_v_model,         NULL,       SD_F_FILLED},
    {"positivePrompt",      "",       SD_K_STRING,  SD_PROMPT_MIN,  SD_PROMPT_MAX,  NULL,               NULL,       SD_F_REQUIRED},
    {"width",               "",       SD_K_INTEGER, SD_SIDE_MIN,    SD_NOMAX,       NULL,               NULL,       SD_F_REQUIRED},
    {"height",              "",       SD_K_INTEGER, SD_SIDE_MIN,    SD_NOMAX,       NULL,               NULL,       SD_F_REQUIRED},
    {"outputType",          "",       SD_K_ENUM,    0,              0,              sd_v_output_type,   "URL",      0},
    {"outputFormat",        "",       SD_K_ENUM,    0,              0,              sd_v_output_format, "JPG",      0},
    {"outputQuality",       "",       SD_K_INTEGER, SD_QUALITY_MIN, SD_QUALITY_MAX, NULL,               "95",       0},
    {"webhookURL",          "",       SD_K_URI,     0,              0,              NULL,               NULL,       0},
    {"deliveryMethod",      "",       SD_K_ENUM,    0,              0,              sd_v_delivery,      "sync",     0},
    {"uploadEndpoint",      "",       SD_K_URI,     0,              0,              NULL,               NULL,       0},
    {"safety",              "",       SD_K_OBJECT,  0,              0,              NULL,               NULL,       0},
    {"checkContent",        "safety", SD_K_BOOLEAN, 0,              0,              NULL,               "false",    0},
    {"mode",                "safety", SD_K_ENUM,    0,              0,              sd_v_safety_mode,   "none",     0},
    {"ttl",                 "",       SD_K_INTEGER, SD_TTL_MIN,     SD_NOMAX,       NULL,               NULL,       0},
    {"includeCost",         "",       SD_K_BOOLEAN, 0,              0,              NULL,               "false",    0},
    {"numberResults",       "",       SD_K_INTEGER, SD_RESULTS_MIN, SD_RESULTS_MAX, NULL,               "1",        0},
    {"referenceImages",     "",       SD_K_IMAGES,  SD_REFS_MIN,    SD_REFS_MAX,    NULL,               NULL,       SD_F_ALIAS},
    {"inputs",              "",       SD_K_OBJECT,  0,              0,              NULL,               NULL,       0},
    {"referenceImages",     "inputs", SD_K_IMAGES,  SD_REFS_MIN,    SD_REFS_MAX,    NULL,               NULL,       0},
    {"providerSettings",    "",       SD_K_OBJECT,  0,              0,              NULL,               NULL,       0},
    {"bytedance",           "providerSettings", SD_K_OBJECT, 0,     0,              NULL,               NULL,       0},
    {"maxSequentialImages", PS_BD,    SD_K_INTEGER, SD_SEQ_MIN,     SD_SEQ_MAX,     NULL,               "1",        0},
    {"optimizePromptMode",  PS_BD,    SD_K_ENUM,    0,              0,              sd_v_optimize,      "standard", 0},
};
#define SD_NFIELDS (sizeof sd_fields / sizeof sd_fields[0])

/* ---- small helpers ---------------------------------------------------------------- */

/* "parent.name" (or "name" at the top level), cut to fit n; runs for every field present,
 * so it copies rather than formats. */
static void sd_path_join(char *out, size_t n, const char *parent, const char *name) {
  size_t lp = strlen(parent), ln = strlen(name), at = 0;
  if (n == 0) return;
  if (lp) {
    if (lp > n - 1) lp = n - 1;
    memcpy(out, parent, lp);
    at = lp;
    if (at < n - 1) out[at++] = '.';
  }
  if (ln > n - 1 - at) ln = n - 1 - at;
  memcpy(out + at, name, ln);
  out[at + ln] = '\0';
}

static const char *sd_type_name(const sd_value *v) {
  switch (v->type) {
  case SD_NULL: return "null";
  case SD_BOOL: return "a boolean";
  case SD_NUMBER: return sd_value_is_integer(v) ? "an integer" : "a number";
  case SD_STRING: return "a string";
  case SD_ARRAY: return "an array";
  case SD_OBJECT: return "an object";
  case SD_FILE: return "a file";
  }
  return "an unknown value";
}

/* A user value quoted in a message: at most n-1 bytes, cut on a UTF-8 boundary with "..."
 * appended, control characters shown as '?'. */
#define SD_QUOTE_MAX 64
static const char *sd_quote(char *buf, size_t n, const char *s, size_t len) {
  size_t o = 0, i = 0;
  int cut = len > n - 1;
  size_t room = cut ? n - 4 : len;
  while (i < len && o < room) {
    unsigned char c = (unsigned char)s[i];
    size_t clen = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (o + clen > room) break;
    for (size_t k = 0; k < clen && i < len; k++, i++) {
      unsigned char b = (unsigned char)s[i];
      buf[o++] = (b < 0x20 || b == 0x7F) ? '?' : (char)b;
    }
  }
  if (cut) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}

/* An empty array stands for an empty object (Lua cannot tell {} apart). */
static int sd_is_objectish(const sd_value *v) {
  return v->type == SD_OBJECT || (v->type == SD_ARRAY && v->u.arr.n == 0);
}

/* The object at a dotted path below root, or NULL if absent or not an object. */
static const sd_value *sd_lookup(const sd_value *root, const char *path) {
  const sd_value *cur = root;
  char key[SD_FIELD_MAX];
  while (cur && cur->type == SD_OBJECT && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof key) return NULL;
    memcpy(key, path, n);
    key[n] = '\0';
    cur = sd_object_get(cur, key);
    path += n + (dot ? 1 : 0);
  }
  return cur && cur->type == SD_OBJECT ? cur : NULL;
}

static const sd_value *sd_get_at(const sd_value *root, const char *parent, const char *name) {
  const sd_value *obj = sd_lookup(root, parent);
  return obj ? sd_object_get(obj, name) : NULL;
}

static const sd_field *sd_field_find(const char *parent, const char *name) {
  for (size_t i = 0; i < SD_NFIELDS; i++) {
    const sd_field *f = &sd_fields[i];
    /* every present key passes here: the first letter rules out most fields */
    if (f->name[0] == name[0] && strcmp(f->name, name) == 0 && strcmp(f->parent, parent) == 0)
      return f;
  }
  return NULL;
}

/* The parent path of a known field of that name at any level, or NULL. The top-level
 * referenceImages is only an accepted alias: its home is inputs. */
static const char *sd_field_home(const char *name) {
  for (size_t i = 0; i < SD_NFIELDS; i++)
    if (!(sd_fields[i].flags & SD_F_ALIAS) && strcmp(sd_fields[i].name, name) == 0)
      return sd_fields[i].parent;
  return NULL;
}

static const char *sd_field_default(const char *parent, const char *name) {
  const sd_field *f = sd_field_find(parent, name);
  return f ? f->def : NULL;
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions). */
#define SD_SUGGEST_MAXLEN 64
static int sd_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > SD_SUGGEST_MAXLEN || lb > SD_SUGGEST_MAXLEN) return INT_MAX;
  int d[SD_SUGGEST_MAXLEN + 1][SD_SUGGEST_MAXLEN + 1];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[la][lb];
}

const char *sd_schema_suggest(const char *parent_path, const char *key) {
  if (!key) return NULL;
  if (!parent_path) parent_path = "";
  const char *best = NULL;
  int best_d = 3; /* suggest at distance <= 2 only */
  for (size_t i = 0; i < SD_NFIELDS; i++) {
    const sd_field *f = &sd_fields[i];
    if (strcmp(f->parent, parent_path) != 0) continue;
    if (strcasecmp(f->name, key) == 0) return f->name;
    int d = sd_edit_distance(f->name, key);
    if (d < best_d) {
      best_d = d;
      best = f->name;
    }
  }
  return best;
}

/* Absolute http(s) URI with a non-empty host, no spaces or control characters, and valid
 * UTF-8 (the JSON body must be). */
static int sd_is_http_uri(const char *s, size_t len) {
  size_t skip;
  if (sd_utf8_count(s, len) < 0) return 0;
  if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
    skip = 7;
  else if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
    skip = 8;
  else
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7F) return 0;
  }
  const char *auth = s + skip, *end = s + len, *p = auth;
  while (p < end && *p != '/' && *p != '?' && *p != '#') p++;
  const char *host = auth;
  for (const char *q = auth; q < p; q++)
    if (*q == '@') host = q + 1; /* skip userinfo */
  if (host < p && *host == '[') { /* IPv6 literal */
    const char *close = memchr(host, ']', (size_t)(p - host));
    return close && close > host + 1;
  }
  const char *colon = memchr(host, ':', (size_t)(p - host));
  const char *host_end = colon ? colon : p;
  return host_end > host;
}

/* Recognises one reference image; returns NULL if fine, else the reason. */
static const char *sd_image_ref_problem(const char *s, size_t len) {
  static const char *const types[] = {"png", "jpeg", "jpg", "webp", NULL};
  if (sd_uuid_is_valid(s, len) || sd_is_http_uri(s, len)) return NULL;
  if (len >= 5 && strncasecmp(s, "data:", 5) == 0) {
    if (len < 11 || strncasecmp(s + 5, "image/", 6) != 0)
      return "data URI must be data:image/<png|jpeg|jpg|webp>;base64,...";
    const char *t = s + 11, *end = s + len;
    for (int i = 0; types[i]; i++) {
      size_t tl = strlen(types[i]);
      if ((size_t)(end - t) >= tl + 8 && strncasecmp(t, types[i], tl) == 0 &&
          strncasecmp(t + tl, ";base64,", 8) == 0) {
        const char *payload = t + tl + 8;
        size_t plen = (size_t)(end - payload);
        if (plen == 0 || !sd_base64_is_valid(payload, plen))
          return "data URI payload is not valid base64";
        return NULL;
      }
    }
    return "data URI must be data:image/<png|jpeg|jpg|webp>;base64,...";
  }
  if (len >= SD_REF_BASE64_MIN && sd_base64_is_valid(s, len)) return NULL;
  return "not a UUID, http(s) URL, data URI or base64 string";
}

/* ---- per-field checks ------------------------------------------------------------- */

/* The shortest text that reads back as n (2048.0000001, not %g's 2048). */
static const char *sd_num_text(char buf[32], double n) {
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buf, 32, "%.*g", digits, n);
    if (strtod(buf, NULL) == n) break;
  }
  return buf;
}

static sd_code sd_bad(sd_error *err, const char *path, const char *fmt_kind,
                      const sd_value *v) {
  char num[32];
  if (v->type == SD_NUMBER && !sd_value_is_integer(v))
    return sd_error_set(err, SD_EINVALID, path, "%s: expected %s, got %s", path, fmt_kind,
                        sd_num_text(num, v->u.num.n));
  return sd_error_set(err, SD_EINVALID, path, "%s: expected %s, got %s", path, fmt_kind,
                      sd_type_name(v));
}

static sd_code sd_check_enum(const sd_field *f, const char *path, const sd_value *v,
                             sd_error *err) {
  if (v->type != SD_STRING) return sd_bad(err, path, "a string", v);
  for (int i = 0; f->values[i]; i++) /* by length too: "URL\0junk" is not "URL" */
    if (strlen(f->values[i]) == v->u.str.len && memcmp(v->u.str.s, f->values[i], v->u.str.len) == 0)
      return SD_OK;
  char list[256] = "", q[SD_QUOTE_MAX];
  size_t used = 0;
  sd_quote(q, sizeof q, v->u.str.s, v->u.str.len);
  const char *hint = NULL;
  for (int i = 0; f->values[i]; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "", f->values[i]);
    if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
    if (strcasecmp(v->u.str.s, f->values[i]) == 0) hint = f->values[i];
  }
  if (!f->values[1])
    return sd_error_set(err, SD_EINVALID, path, "%s: must be %s, got '%s'%s%s%s", path,
                        list, q, hint ? " (did you mean '" : "", hint ? hint : "",
                        hint ? "'?)" : "");
  return sd_error_set(err, SD_EINVALID, path, "%s: expected one of %s, got '%s'%s%s%s",
                      path, list, q, hint ? " (did you mean '" : "",
                      hint ? hint : "", hint ? "'?)" : "");
}

/* Pixel limits of one reference image whose header gave its size (0 x 0: unknown, the
 * server decides). */
static sd_code sd_check_ref_size(const char *ipath, const char *what, int w, int h,
                                 sd_error *err) {
  if (w <= 0 || h <= 0) return SD_OK;
  if (w < SD_REF_SIDE_MIN || h < SD_REF_SIDE_MIN || w > SD_REF_SIDE_MAX || h > SD_REF_SIDE_MAX)
    return sd_error_set(err, SD_EINVALID, ipath, "%s: %s is %dx%d; each side must be %d..%d "
                        "pixels", ipath, what, w, h, SD_REF_SIDE_MIN, SD_REF_SIDE_MAX);
  if ((long long)w > (long long)h * SD_REF_MAX_ASPECT ||
      (long long)h > (long long)w * SD_REF_MAX_ASPECT)
    return sd_error_set(err, SD_EINVALID, ipath, "%s: %s is %dx%d; the aspect ratio must be "
                        "within 1:%d..%d:1", ipath, what, w, h, SD_REF_MAX_ASPECT,
                        SD_REF_MAX_ASPECT);
  return SD_OK;
}

/* A local file (seedream.file): its format, size and pixel size, from its header. */
static sd_code sd_check_ref_file(const char *ipath, const sd_value *item, sd_error *err) {
  if (item->u.file.kind == SD_IMG_UNKNOWN)
    return sd_error_set(err, SD_EINVALID, ipath, "%s: the file is not a JPEG, PNG or WEBP "
                        "image", ipath);
  if (item->u.file.size > SD_REF_BYTES_MAX)
    return sd_error_set(err, SD_EINVALID, ipath, "%s: the file has %lld bytes; at most %lld "
                        "are accepted", ipath, item->u.file.size, (long long)SD_REF_BYTES_MAX);
  return sd_check_ref_size(ipath, "the image", item->u.file.width, item->u.file.height, err);
}

/* A data URI or raw base64 reference: decode its first bytes to read the header. */
static sd_code sd_check_ref_inline(const char *ipath, const sd_value *item, sd_error *err) {
  const char *s = item->u.str.s;
  size_t len = item->u.str.len, take;
  unsigned char head[3072];
  int w, h;
  if (sd_uuid_is_valid(s, len) || sd_is_http_uri(s, len)) return SD_OK;
  if (len >= 5 && strncasecmp(s, "data:", 5) == 0) {
    const char *comma = memchr(s, ',', len);
    if (!comma) return SD_OK;
    len -= (size_t)(comma + 1 - s);
    s = comma + 1;
  }
  take = len < 4096 ? len : 4096;          /* a multiple of 4 unless it is the whole text */
  if (take < len) take -= take % 4;
  else if (take % 4) return SD_OK;
  size_t got = sd_base64_decode(s, take, head);
  if (got == (size_t)-1 || got < 12) return SD_OK;      /* too short to tell: the server decides */
  if (sd_image_sniff(head, got, &w, &h) == SD_IMG_UNKNOWN)
    return sd_error_set(err, SD_EINVALID, ipath, "%s: the data is not a JPEG, PNG or WEBP "
                        "image", ipath);
  return sd_check_ref_size(ipath, "the image", w, h, err);
}

static sd_code sd_check_images(const sd_field *f, const char *path, const sd_value *v,
                               sd_error *err) {
  if (v->type != SD_ARRAY) return sd_bad(err, path, "an array of strings", v);
  size_t n = v->u.arr.n;
  if ((long long)n < f->min || (long long)n > f->max)
    return sd_error_set(err, SD_EINVALID, path, "%s: needs %lld..%lld images, got %zu", path,
                        f->min, f->max, n);
  for (size_t i = 0; i < n; i++) {
    const sd_value *item = v->u.arr.items[i];
    char ipath[SD_FIELD_MAX + 24];
    snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
    if (item->type == SD_FILE) {
      if (sd_check_ref_file(ipath, item, err) != SD_OK) return err->code;
      continue;
    }
    if (item->type != SD_STRING) return sd_bad(err, ipath, "a string", item);
    if (item->u.str.len == 0)
      return sd_error_set(err, SD_EINVALID, ipath, "%s: must not be empty", ipath);
    const char *why = sd_image_ref_problem(item->u.str.s, item->u.str.len);
    if (why) return sd_error_set(err, SD_EINVALID, ipath, "%s: %s", ipath, why);
    if (sd_check_ref_inline(ipath, item, err) != SD_OK) return err->code;
  }
  return SD_OK;
}

static sd_code sd_check_level(const sd_value *root, const sd_value *obj, const char *level,
                              sd_error *err);

static sd_code sd_check_field(const sd_value *root, const sd_field *f, const char *path,
                              const sd_value *v, sd_error *err) {
  switch (f->kind) {
  case SD_K_STRING: {
    if (v->type != SD_STRING) return sd_bad(err, path, "a string", v);
    long n = sd_utf8_count(v->u.str.s, v->u.str.len);
    if (n < 0)
      return sd_error_set(err, SD_EINVALID, path, "%s: is not valid UTF-8 text", path);
    if (n == 0)
      return sd_error_set(err, SD_EINVALID, path, "%s: must not be empty", path);
    if (memchr(v->u.str.s, '\0', v->u.str.len)) /* the text would end there on the way */
      return sd_error_set(err, SD_EINVALID, path, "%s: contains a NUL character (U+0000)",
                          path);
    if (n < f->min || n > f->max)
      return sd_error_set(err, SD_EINVALID, path,
                          "%s: has %ld characters; %lld..%lld allowed", path, n, f->min,
                          f->max);
    return SD_OK;
  }
  case SD_K_INTEGER: {
    if (!sd_value_is_integer(v)) return sd_bad(err, path, "an integer", v);
    if (fabs(v->u.num.n) > SD_JSON_INT_MAX) { /* past 2^53 a JSON reader may round it */
      char num[32];
      return sd_error_set(err, SD_EINVALID, path,
                          "%s: %s is too large to send exactly (integers up to 2^53)", path,
                          sd_num_text(num, v->u.num.n));
    }
    long long i = (long long)v->u.num.n;
    if (i < f->min || i > f->max) {
      if (f->max == SD_NOMAX)
        return sd_error_set(err, SD_EINVALID, path, "%s: %lld is below the minimum %lld",
                            path, i, f->min);
      return sd_error_set(err, SD_EINVALID, path, "%s: %lld is out of range %lld..%lld",
                          path, i, f->min, f->max);
    }
    return SD_OK;
  }
  case SD_K_BOOLEAN:
    return v->type == SD_BOOL ? SD_OK : sd_bad(err, path, "a boolean", v);
  case SD_K_ENUM:
    return sd_check_enum(f, path, v, err);
  case SD_K_OBJECT:
    if (!sd_is_objectish(v)) return sd_bad(err, path, "an object", v);
    return v->type == SD_OBJECT ? sd_check_level(root, v, path, err) : SD_OK;
  case SD_K_IMAGES:
    return sd_check_images(f, path, v, err);
  case SD_K_URI: {
    char q[SD_QUOTE_MAX];
    if (v->type != SD_STRING) return sd_bad(err, path, "a string", v);
    if (!sd_is_http_uri(v->u.str.s, v->u.str.len))
      return sd_error_set(err, SD_EINVALID, path,
                          "%s: must be an absolute http:// or https:// URL with a host, no "
                          "spaces and valid UTF-8, got '%s'",
                          path, sd_quote(q, sizeof q, v->u.str.s, v->u.str.len));
    return SD_OK;
  }
  case SD_K_UUID4: {
    char q[SD_QUOTE_MAX];
    if (v->type != SD_STRING) return sd_bad(err, path, "a string", v);
    if (v->u.str.len == 0)
      return sd_error_set(err, SD_EINVALID, path, "%s: must not be empty", path);
    if (!sd_uuid_is_v4(v->u.str.s, v->u.str.len))
      return sd_error_set(err, SD_EINVALID, path, "%s: '%s' is not a UUID v4%s", path,
                          sd_quote(q, sizeof q, v->u.str.s, v->u.str.len),
                          !sd_uuid_is_valid(v->u.str.s, v->u.str.len) ? ""
                          : v->u.str.s[14] != '4' ? " (it is a UUID of another version)"
                                                  : " (its variant digit, the first of the "
                                                    "fourth group, must be 8, 9, a or b)");
    return SD_OK;
  }
  }
  return SD_OK;
}

/* Top-level imageInference parameters of Runware's other models that this one does not take
 * (its page lists none of them): the caller is told why, not only that the key is unknown. */
static int sd_other_models_field(const char *key) {
  static const char *const names[] = {
    "seed", "negativePrompt", "steps", "CFGScale", "scheduler", "strength", "clipSkip",
    "lora", "controlNet", "vae", "seedImage", "maskImage", "refiner", "embeddings",
    "ipAdapters", "outpaint", "acceleratorOptions", "advancedFeatures", "promptWeighting",
    "usePromptWeighting", "puLID", "acePlusPlus", "instantID", "photoMaker", "resolution",
    NULL};
  for (const char *const *n = names; *n; n++)
    if (strcmp(*n, key) == 0) return 1;
  return 0;
}

/* One nesting level: unknown keys first, then the known fields in table order (so the
 * error reported does not depend on the order of the caller's keys). One pass over the
 * members finds each one's field; absent fields then cost nothing. */
static sd_code sd_check_level(const sd_value *root, const sd_value *obj, const char *level,
                              sd_error *err) {
  char path[SD_FIELD_MAX];
  const sd_value *given[SD_NFIELDS] = {0};
  for (size_t i = 0; i < obj->u.obj.n; i++) {
    const char *key = obj->u.obj.keys[i];
    const sd_field *found = sd_field_find(level, key);
    if (found) {
      given[found - sd_fields] = obj->u.obj.vals[i];
      continue;
    }
    char q[SD_QUOTE_MAX];
    sd_quote(q, sizeof q, key, strlen(key));
    const char *hint = sd_schema_suggest(level, key);
    const char *home = sd_field_home(key);
    sd_path_join(path, sizeof path, level, key);
    /* a case slip at this level, then the same name at another level, then a typo */
    if (hint && (strcasecmp(hint, key) == 0 || !home))
      return sd_error_set(err, SD_EINVALID, path, "unknown field '%s'%s%s (did you mean '%s'?)",
                          q, level[0] ? " in " : "", level, hint);
    if (home)
      return sd_error_set(err, SD_EINVALID, path, "unknown field '%s'%s%s (it goes %s%s)", q,
                          level[0] ? " in " : "", level, home[0] ? "in " : "at the top level",
                          home);
    if (!level[0] && sd_other_models_field(key))
      return sd_error_set(err, SD_EINVALID, path,
                          "unknown field '%s' (Runware's other models take it; Seedream 5.0 "
                          "Lite does not)", q);
    return sd_error_set(err, SD_EINVALID, path, "unknown field '%s'%s%s", q,
                        level[0] ? " in " : "", level);
  }
  for (size_t i = 0; i < SD_NFIELDS; i++) {
    const sd_field *f = &sd_fields[i];
    const sd_value *v = given[i];
    if (!v) {
      if ((f->flags & SD_F_REQUIRED) && strcmp(f->parent, level) == 0) {
        sd_path_join(path, sizeof path, level, f->name);
        return sd_error_set(err, SD_EINVALID, path, "%s: is required", path);
      }
      continue;
    }
    sd_path_join(path, sizeof path, level, f->name);
    if ((f->flags & SD_F_ALIAS) && sd_get_at(root, "inputs", f->name))
      return sd_error_set(err, SD_EINVALID, path,
                          "%s: given both at the top level and in inputs; use "
                          "inputs.referenceImages only",
                          path);
    sd_code rc = sd_check_field(root, f, path, v, err);
    if (rc != SD_OK) return rc;
  }
  return SD_OK;
}

/* ---- rules across fields ---------------------------------------------------------- */

static sd_code sd_rule_size(const sd_value *req, sd_error *err) {
  const sd_value *w = sd_object_get(req, "width"), *h = sd_object_get(req, "height");
  long long wi = (long long)w->u.num.n, hi = (long long)h->u.num.n;
  double px = (double)wi * (double)hi;
  if (px < (double)SD_MIN_PIXELS || px > (double)SD_MAX_PIXELS)
    return sd_error_set(err, SD_EINVALID, "width",
                        "width x height = %lldx%lld = %.0f pixels; Seedream 5.0 Lite needs "
                        "%ld..%ld pixels (e.g. %s)",
                        wi, hi, px, SD_MIN_PIXELS, SD_MAX_PIXELS,
                        px < (double)SD_MIN_PIXELS ? "2048x2048, 2304x1728"
                                                   : "3072x3072, 4096x2304");
  if ((double)wi > (double)hi * SD_MAX_ASPECT || (double)hi > (double)wi * SD_MAX_ASPECT) {
    const char *field = wi > hi ? "width" : "height";
    return sd_error_set(err, SD_EINVALID, field,
                        "width x height = %lldx%lld has aspect ratio %.3f:1; Seedream 5.0 "
                        "Lite allows 1:%d .. %d:1",
                        wi, hi, wi > hi ? (double)wi / (double)hi : (double)hi / (double)wi,
                        SD_MAX_ASPECT, SD_MAX_ASPECT);
  }
  return SD_OK;
}

static sd_code sd_rule_ttl(const sd_value *req, sd_error *err) {
  if (!sd_object_get(req, "ttl")) return SD_OK;
  const sd_value *ot = sd_object_get(req, "outputType");
  const char *type = ot ? ot->u.str.s : sd_field_default("", "outputType");
  if (strcmp(type, "URL") != 0)
    return sd_error_set(err, SD_EINVALID, "ttl",
                        "ttl: only applies when outputType is 'URL' (outputType is '%s')",
                        type);
  return SD_OK;
}

static size_t sd_ref_count(const sd_value *req) {
  const sd_value *refs = sd_get_at(req, "inputs", "referenceImages");
  if (!refs) refs = sd_object_get(req, "referenceImages");
  return refs && refs->type == SD_ARRAY ? refs->u.arr.n : 0;
}

static sd_code sd_rule_refs_plus_seq(const sd_value *req, sd_error *err) {
  const sd_value *seq = sd_get_at(req, PS_BD, "maxSequentialImages");
  if (!seq) return SD_OK;
  long long s = (long long)seq->u.num.n, r = (long long)sd_ref_count(req);
  if (r + s > SD_REFS_PLUS_SEQ_MAX)
    return sd_error_set(err, SD_EINVALID, PS_BD ".maxSequentialImages",
                        PS_BD ".maxSequentialImages: %lld reference images + %lld sequential "
                        "images = %lld; at most %d combined",
                        r, s, r + s, SD_REFS_PLUS_SEQ_MAX);
  return SD_OK;
}

sd_code sd_request_check(const sd_value *req, sd_error *err) {
  if (err) sd_error_clear(err);
  if (!req || req->type != SD_OBJECT)
    return sd_error_set(err, SD_EINVALID, NULL, "request must be an object, got %s",
                        req ? sd_type_name(req) : "nothing");
  sd_code rc = sd_check_level(req, req, "", err);
  if (rc == SD_OK) rc = sd_rule_size(req, err);
  if (rc == SD_OK) rc = sd_rule_ttl(req, err);
  if (rc == SD_OK) rc = sd_rule_refs_plus_seq(req, err);
  return rc;
}

/* ---- normalisation ---------------------------------------------------------------- */

static long sd_key_index(const sd_value *obj, const char *key) {
  for (size_t i = 0; i < obj->u.obj.n; i++)
    if (strcmp(obj->u.obj.keys[i], key) == 0) return (long)i;
  return -1;
}

/* Moves top-level referenceImages to inputs.referenceImages; inputs takes its place. */
static int sd_move_refs(sd_value *req) {
  long at = sd_key_index(req, "referenceImages");
  if (at < 0) return 0;
  sd_value *refs = sd_object_take(req, "referenceImages");
  sd_value *inputs = sd_object_get(req, "inputs");
  if (inputs && inputs->type != SD_OBJECT) { /* an empty array standing for {} */
    inputs = sd_value_object();
    if (sd_object_set(req, "inputs", inputs) != 0) {
      sd_value_free(refs);
      return -1;
    }
  } else if (!inputs) {
    inputs = sd_value_object();
    if (sd_object_insert(req, (size_t)at, "inputs", inputs) != 0) {
      sd_value_free(refs);
      return -1;
    }
  }
  return sd_object_set(inputs, "referenceImages", refs);
}

/* Validated integers become integers on the wire (2304.0 -> 2304), and an empty array
 * standing for an object becomes {}; walks only the members present. */
static int sd_normalise_level(sd_value *obj, const char *level) {
  char path[SD_FIELD_MAX];
  for (size_t i = 0; i < obj->u.obj.n; i++) {
    const sd_field *f = sd_field_find(level, obj->u.obj.keys[i]);
    sd_value *v = obj->u.obj.vals[i];
    if (!f) continue;
    if (f->kind == SD_K_INTEGER) {
      v->u.num.is_int = 1;
    } else if (f->kind == SD_K_OBJECT && v->type != SD_OBJECT) {
      if (sd_object_set(obj, f->name, sd_value_object()) != 0) return -1;
    } else if (f->kind == SD_K_OBJECT) {
      sd_path_join(path, sizeof path, level, f->name);
      if (sd_normalise_level(v, path) != 0) return -1;
    }
  }
  return 0;
}

static int sd_fill(sd_value *req) {
  size_t pos = 0;
  if (!sd_object_get(req, "taskType")) {
    if (sd_object_insert(req, pos, "taskType",
                         sd_value_string(SD_TASK_TYPE, sizeof SD_TASK_TYPE - 1)) != 0)
      return -1;
    pos++;
  }
  if (!sd_object_get(req, "taskUUID")) {
    char uuid[37];
    sd_uuid_v4(uuid);
    if (sd_object_insert(req, pos, "taskUUID", sd_value_string(uuid, 36)) != 0) return -1;
    pos++;
  }
  if (!sd_object_get(req, "model")) {
    if (sd_object_insert(req, pos, "model",
                         sd_value_string(SD_MODEL_ID, sizeof SD_MODEL_ID - 1)) != 0)
      return -1;
  }
  return 0;
}

sd_code sd_request_prepare(sd_value *req, sd_error *err) {
  sd_code rc = sd_request_check(req, err);
  if (rc != SD_OK) return rc;
  if (sd_move_refs(req) != 0 || sd_normalise_level(req, "") != 0 || sd_fill(req) != 0)
    return sd_error_set(err, SD_ENOMEM, NULL, "out of memory while preparing the request");
  return SD_OK;
}

/* Open question: how numberResults combines with maxSequentialImages.
 * Assumed multiplicative, each defaulting to 1; change it here only. */
int sd_request_max_images(const sd_value *req) {
  long long results = 1, seq = 1;
  const sd_value *v = req && req->type == SD_OBJECT ? sd_object_get(req, "numberResults") : NULL;
  if (v && sd_value_is_integer(v) && v->u.num.n >= 1) results = (long long)v->u.num.n;
  v = req && req->type == SD_OBJECT ? sd_get_at(req, PS_BD, "maxSequentialImages") : NULL;
  if (v && sd_value_is_integer(v) && v->u.num.n >= 1) seq = (long long)v->u.num.n;
  if (results > SD_RESULTS_MAX) results = SD_RESULTS_MAX;
  if (seq > SD_SEQ_MAX) seq = SD_SEQ_MAX;
  return (int)(results * seq);
}
