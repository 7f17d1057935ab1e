/* lsd_file.c: image file helpers for the Lua layer (atomic base64 writes, sniffing). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "lsd.h"
#include "sd_file.h"
#include "sd_text.h"

/* write_base64(path, text [, offset [, expect]]) -> true | nil, err
 * Decodes text from byte offset (1-based, so a data URI's payload needs no copy) and writes
 * the bytes atomically; expect ("jpg"|"png"|"webp") checks the decoded magic. */
int lsd_write_base64(lua_State *L) {
  size_t len;
  const char *path = lsd_checkcstring(L, 1);
  const char *s = luaL_checklstring(L, 2, &len);
  lua_Integer off = luaL_optinteger(L, 3, 1);
  static const char *const kinds[] = {"any", "jpg", "png", "webp", NULL};
  static const sd_image_kind kind_of[] = {SD_IMG_UNKNOWN, SD_IMG_JPEG, SD_IMG_PNG, SD_IMG_WEBP};
  sd_image_kind expect = kind_of[luaL_checkoption(L, 4, "any", kinds)];
  sd_error err;
  if (off < 1 || (size_t)off > len + 1) return luaL_argerror(L, 3, "offset out of range");
  if (sd_file_write_base64(path, s + off - 1, len - (size_t)(off - 1), expect, &err) != SD_OK)
    return lsd_push_error(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* sniff(path) -> kind ("jpg"|"png"|"webp"|false), width, height, size | nil, err */
int lsd_sniff(lua_State *L) {
  const char *path = lsd_checkcstring(L, 1);
  sd_image_kind k;
  int w, h;
  long long size;
  sd_error err;
  if (sd_file_sniff(path, &k, &w, &h, &size, &err) != SD_OK) return lsd_push_error(L, &err);
  if (k == SD_IMG_UNKNOWN) lua_pushboolean(L, 0);
  else lua_pushstring(L, sd_image_ext(k));
  lua_pushinteger(L, w);
  lua_pushinteger(L, h);
  lua_pushinteger(L, (lua_Integer)size);
  return 4;
}

/* whole_image(path) -> true when path is an image of a known kind that ends whole
 * (sd_file_is_whole_image: a few bytes read, for checking many saved files cheaply) */
int lsd_whole_image(lua_State *L) {
  lua_pushboolean(L, sd_file_is_whole_image(lsd_checkcstring(L, 1)));
  return 1;
}

/* kind_of(bytes) -> "jpg"|"png"|"webp"|false: what the first bytes say (sd_image_sniff) */
int lsd_kind_of(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int w, h;
  sd_image_kind k = sd_image_sniff((const unsigned char *)s, len, &w, &h);
  if (k == SD_IMG_UNKNOWN) lua_pushboolean(L, 0);
  else lua_pushstring(L, sd_image_ext(k));
  return 1;
}

/* base64_decode(text [, offset]) -> bytes | nil, err */
int lsd_base64_decode(lua_State *L) {
  size_t len, n;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_Integer off = luaL_optinteger(L, 2, 1);
  luaL_Buffer b;
  unsigned char *out;
  sd_error err;
  if (off < 1 || (size_t)off > len + 1) return luaL_argerror(L, 2, "offset out of range");
  s += off - 1;
  len -= (size_t)(off - 1);
  out = (unsigned char *)luaL_buffinitsize(L, &b, len / 4 * 3 + 3);
  n = sd_base64_decode(s, len, out);
  if (n == (size_t)-1) {
    sd_error_set(&err, SD_EPROTOCOL, NULL, "not valid base64");
    return lsd_push_error(L, &err);
  }
  luaL_pushresultsize(&b, n);
  return 1;
}

/* seedream.File: a local file given explicitly as a reference image (a plain string is
 * never taken for a path). The userdata holds the path; it is read when the request body
 * is written. */
#define LSD_FILE_MT "seedream.File"

const char *lsd_file_path(lua_State *L, int idx) {
  const char *p = (const char *)luaL_testudata(L, idx, LSD_FILE_MT);
  return p;
}

/* file(path) -> File */
int lsd_file_new(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  char *p;
  if (len == 0 || memchr(path, '\0', len)) return luaL_argerror(L, 1, "not a file path");
  p = (char *)lua_newuserdatauv(L, len + 1, 0);
  memcpy(p, path, len + 1);
  luaL_setmetatable(L, LSD_FILE_MT);
  return 1;
}

static int file_tostring(lua_State *L) {
  lua_pushfstring(L, "seedream.file(%s)", (const char *)luaL_checkudata(L, 1, LSD_FILE_MT));
  return 1;
}

static int file_index(lua_State *L) {
  const char *p = (const char *)luaL_checkudata(L, 1, LSD_FILE_MT);
  if (strcmp(luaL_checkstring(L, 2), "path") == 0) lua_pushstring(L, p);
  else lua_pushnil(L);
  return 1;
}

void lsd_open_file(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__tostring", file_tostring}, {"__index", file_index}, {NULL, NULL},
  };
  if (luaL_newmetatable(L, LSD_FILE_MT)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
}

/* write_file(path, data) -> true | nil, err: atomic (temporary file + rename) */
int lsd_write_file(lua_State *L) {
  size_t len;
  const char *path = lsd_checkcstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  sd_error err;
  if (sd_file_write_atomic(path, data, len, &err) != SD_OK) return lsd_push_error(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* fsync(path) -> true | nil, err: flushes a file (e.g. a journal just appended to) to disk */
int lsd_fsync(lua_State *L) {
  const char *path = lsd_checkcstring(L, 1);
  sd_error err;
  int fd = open(path, O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    sd_error_set(&err, SD_EIO, NULL, "cannot sync %s: %s", path, strerror(e));
    return lsd_push_error(L, &err);
  }
  close(fd);
  lua_pushboolean(L, 1);
  return 1;
}
