/* lsd.h: shared declarations of the Lua binding (the .c files in lua/seedream/). Only luaopen_seedream_core
 * is exported; everything else is hidden (-fvisibility=hidden). */
#ifndef LSD_H
#define LSD_H

#include <lua.h>
#include <lauxlib.h>
#include "sd_error.h"
#include "sd_value.h"

#define LSD_HTTP_MT "seedream.Http"

/* Converts the Lua value at idx into a new sd_value tree. On failure returns NULL and fills
 * err (code SD_EINVALID, field = path, e.g. "inputs.referenceImages[2]") without raising. */
sd_value *lsd_to_value(lua_State *L, int idx, sd_error *err);

/* A string argument that goes to C as a C string (a path, a URL, a key): one with a NUL
 * byte raises, as C would read only up to it. */
const char *lsd_checkcstring(lua_State *L, int idx);

/* Pushes nil and an error table {code=, message=, field=} (field omitted when empty);
 * returns 2 so callers can `return lsd_push_error(L, &err);`. */
int lsd_push_error(lua_State *L, const sd_error *err);

void lsd_open_http(lua_State *L);   /* registers the Http metatable; leaves nothing */
int lsd_http_new(lua_State *L);     /* core.http{...} */
int lsd_write_base64(lua_State *L); /* core.write_base64(path, text, offset, expect) */
int lsd_sniff(lua_State *L);        /* core.sniff(path) */
int lsd_whole_image(lua_State *L);  /* core.whole_image(path, kind) */
int lsd_kind_of(lua_State *L);      /* core.kind_of(bytes) */
int lsd_base64_decode(lua_State *L); /* core.base64_decode(text, offset) */
int lsd_write_file(lua_State *L);   /* core.write_file(path, data), atomic */
int lsd_fsync(lua_State *L);        /* core.fsync(path) */
int lsd_file_new(lua_State *L);     /* core.file(path) -> seedream.File */
void lsd_open_file(lua_State *L);
/* The path of a seedream.File at idx, or NULL if the value is not one. */
const char *lsd_file_path(lua_State *L, int idx);

int lsd_answer(lua_State *L);       /* core.answer(body): an API answer sorted by task */

int lsd_lock(lua_State *L);         /* core.lock(path) -> seedream.Lock (lsd_lock.c) */
void lsd_open_lock(lua_State *L);

/* seedream.Body: large request bodies stay in C memory (lsd_body.c). */
#define LSD_INLINE_BODY_MAX 65536   /* smaller bodies are plain Lua strings */
void lsd_open_body(lua_State *L);
void lsd_push_body(lua_State *L, char *data, size_t len);   /* takes data (malloc'd) */
char *lsd_body_take(lua_State *L, int idx, size_t *len);   /* NULL if not a Body */
void lsd_body_release(lua_State *L, int idx);

#endif
