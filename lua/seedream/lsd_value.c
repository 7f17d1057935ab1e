/* lsd_value.c: Lua tables -> sd_value trees, with the field path in every error.
 *
 * A table whose keys are exactly 1..n is an array; a table with only string keys is an
 * object; an empty table is an empty array (a request has no empty objects worth sending,
 * and the schema then reports "needs 1..14 items" rather than a type error). Index paths
 * are 0-based like the core's (the wire's); the Lua facade shows them 1-based. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lsd.h"
#include "sd_file.h"
#include "sd_limits.h"

#define LSD_MAX_DEPTH 32
#define LSD_EXACT_INT_MAX ((lua_Integer)SD_JSON_INT_MAX)

static sd_value *convert(lua_State *L, int idx, char *path, size_t plen, int depth,
                         sd_error *err);

/* Appends ".key" or "[i]" to the path buffer; returns the old length to restore. */
static size_t path_push_key(char *path, size_t plen, const char *key) {
  size_t at = plen, len = strlen(key);
  if (at > 0 && at < SD_FIELD_MAX - 1) path[at++] = '.';
  if (at >= SD_FIELD_MAX) return plen;
  if (len > SD_FIELD_MAX - 1 - at) len = SD_FIELD_MAX - 1 - at;
  memcpy(path + at, key, len);              /* every field passes here: no formatting */
  path[at + len] = '\0';
  return plen;
}

static size_t path_push_index(char *path, size_t plen, lua_Integer i) {
  if (plen < SD_FIELD_MAX) snprintf(path + plen, SD_FIELD_MAX - plen, "[%lld]", (long long)i - 1);
  return plen;
}

static const char *shown_path(const char *path) { return path[0] ? path : "request"; }

/* Counts keys; classifies the table as array (keys 1..n), object (string keys) or mixed. */
static int table_shape(lua_State *L, int idx, size_t *count) {
  int has_str = 0, has_int = 0;
  lua_Integer maxi = 0;
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    n++;
    if (lua_type(L, -2) == LUA_TSTRING) has_str = 1;
    else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1) {
      has_int = 1;
      if (lua_tointeger(L, -2) > maxi) maxi = lua_tointeger(L, -2);
    } else {
      lua_pop(L, 2);
      return -1;                                      /* odd key type */
    }
    lua_pop(L, 1);
  }
  *count = n;
  if (has_str && has_int) return -2;                  /* mixed */
  if (has_int && (size_t)maxi != n) return -3;        /* holes */
  return has_str ? SD_OBJECT : SD_ARRAY;
}

static sd_value *convert_table(lua_State *L, int idx, char *path, size_t plen, int depth,
                               sd_error *err) {
  size_t n = 0;
  int shape;
  sd_value *out;
  if (depth > LSD_MAX_DEPTH) {
    sd_error_set(err, SD_EINVALID, shown_path(path), "nested too deeply (a cycle?)");
    return NULL;
  }
  if (!lua_checkstack(L, 4)) { /* an error value, not a raise: outer levels hold C memory */
    sd_error_set(err, SD_EINVALID, shown_path(path), "nested too deeply");
    return NULL;
  }
  shape = table_shape(L, idx, &n);
  if (shape == -1) {
    sd_error_set(err, SD_EINVALID, shown_path(path), "has a key that is neither a string "
                 "nor a positive integer");
    return NULL;
  }
  if (shape == -2) {
    sd_error_set(err, SD_EINVALID, shown_path(path), "mixes list items and named fields");
    return NULL;
  }
  if (shape == -3) {
    sd_error_set(err, SD_EINVALID, shown_path(path), "is a list with holes (nil items)");
    return NULL;
  }
  if (shape == SD_ARRAY) {
    lua_Integer i;
    out = sd_value_array();
    if (!out) goto nomem;
    for (i = 1; i <= (lua_Integer)n; i++) {
      sd_value *item;
      size_t saved = path_push_index(path, plen, i);
      lua_rawgeti(L, idx, i);
      item = convert(L, lua_gettop(L), path, strlen(path), depth + 1, err);
      lua_pop(L, 1);
      path[saved] = '\0';
      if (!item || sd_array_push(out, item) != 0) {
        if (item == NULL && err->code != SD_OK) { sd_value_free(out); return NULL; }
        sd_value_free(out);
        goto nomem;
      }
    }
    return out;
  }
  out = sd_value_object();
  if (!out) goto nomem;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t klen;
    const char *key = lua_tolstring(L, -2, &klen);
    if (strlen(key) != klen) { /* C would read "positivePrompt\0junk" as positivePrompt */
      lua_pop(L, 2);
      sd_value_free(out);
      sd_error_set(err, SD_EINVALID, shown_path(path), "has a field name with a NUL byte");
      return NULL;
    }
    size_t saved = path_push_key(path, plen, key);
    sd_value *val = convert(L, lua_gettop(L), path, strlen(path), depth + 1, err);
    path[saved] = '\0';
    if (!val || sd_object_set(out, key, val) != 0) {
      lua_pop(L, 2);
      sd_value_free(out);
      if (!val && err->code != SD_OK) return NULL;
      goto nomem;
    }
    lua_pop(L, 1);
  }
  return out;
nomem:
  sd_error_set(err, SD_ENOMEM, NULL, "out of memory");
  return NULL;
}

static sd_value *not_json(lua_State *L, int idx, const char *path, sd_error *err) {
  sd_error_set(err, SD_EINVALID, shown_path(path), "cannot be sent: a %s is not JSON data",
               luaL_typename(L, idx));
  return NULL;
}

/* seedream.file(path): sniffed here so that the schema can check format and size. */
static sd_value *convert_file(const char *fpath, const char *path, sd_error *err) {
  sd_image_kind kind;
  int w, h;
  long long size;
  if (sd_file_sniff(fpath, &kind, &w, &h, &size, err) != SD_OK) {
    snprintf(err->field, sizeof err->field, "%s", shown_path(path)); /* name the entry */
    return NULL;
  }
  return sd_value_file(fpath, (int)kind, w, h, size);
}

static sd_value *convert(lua_State *L, int idx, char *path, size_t plen, int depth,
                         sd_error *err) {
  sd_value *v = NULL;
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: v = sd_value_bool(lua_toboolean(L, idx)); break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      /* values are held as doubles, exact up to 2^53: a larger integer would change */
      lua_Integer i = lua_tointeger(L, idx);
      if (i > LSD_EXACT_INT_MAX || i < -LSD_EXACT_INT_MAX) {
        sd_error_set(err, SD_EINVALID, shown_path(path), "%lld is too large to send exactly "
                     "(integers up to 2^53)", (long long)i);
        return NULL;
      }
      v = sd_value_int((long long)i);
    } else {
      double d = lua_tonumber(L, idx);
      if (!isfinite(d)) {
        sd_error_set(err, SD_EINVALID, shown_path(path), "must be a finite number, got %s",
                     d != d ? "nan" : d > 0 ? "inf" : "-inf");
        return NULL;
      }
      v = sd_value_number(d);
    }
    break;
  case LUA_TSTRING: {
    /* Borrowed, not copied: the request table anchors its strings while it is prepared,
     * and a 10 MB data URI should not be held twice. */
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    v = sd_value_string_ref(s, len);
    break;
  }
  case LUA_TTABLE: return convert_table(L, idx, path, plen, depth, err);
  case LUA_TUSERDATA: {
    const char *fpath = lsd_file_path(L, idx);
    if (!fpath) return not_json(L, idx, path, err);
    return convert_file(fpath, path, err);
  }
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) != NULL) return not_json(L, idx, path, err);
    v = sd_value_null();                              /* cjson.null */
    break;
  default:
    return not_json(L, idx, path, err);
  }
  if (!v) sd_error_set(err, SD_ENOMEM, NULL, "out of memory");
  return v;
}

sd_value *lsd_to_value(lua_State *L, int idx, sd_error *err) {
  char path[SD_FIELD_MAX];
  path[0] = '\0';
  sd_error_clear(err);
  return convert(L, lua_absindex(L, idx), path, 0, 0, err);
}
