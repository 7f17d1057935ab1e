/* lsd_body.c: seedream.Body, a large request body kept in C memory.
 *
 * A request with 14 reference files of 10 MB is a ~190 MB body. Pushing it as a Lua string
 * would copy it, and the transport would copy it again; a Body is written once by the JSON
 * writer and handed over to the transport by pointer (take_body), so it is held once. */
#include <stdlib.h>
#include "lsd.h"

#define LSD_BODY_MT "seedream.Body"

typedef struct lsd_body { char *data; size_t len; } lsd_body;

/* Takes ownership of data (from malloc). */
void lsd_push_body(lua_State *L, char *data, size_t len) {
  lsd_body *b = (lsd_body *)lua_newuserdatauv(L, sizeof *b, 0);
  b->data = NULL;
  b->len = 0;
  luaL_setmetatable(L, LSD_BODY_MT);
  b->data = data;
  b->len = len;
}

/* The body at idx, or NULL if the value is not a Body. A body already handed over raises. */
char *lsd_body_take(lua_State *L, int idx, size_t *len) {
  lsd_body *b = (lsd_body *)luaL_testudata(L, idx, LSD_BODY_MT);
  if (!b) return NULL;
  if (!b->data) luaL_error(L, "seedream: this request body was already sent");
  *len = b->len;
  return b->data;
}

/* After a successful start the transport owns the bytes. */
void lsd_body_release(lua_State *L, int idx) {
  lsd_body *b = (lsd_body *)luaL_checkudata(L, idx, LSD_BODY_MT);
  b->data = NULL;
}

static int body_gc(lua_State *L) {
  lsd_body *b = (lsd_body *)luaL_checkudata(L, 1, LSD_BODY_MT);
  free(b->data);
  b->data = NULL;
  return 0;
}

static int body_len(lua_State *L) {
  lsd_body *b = (lsd_body *)luaL_checkudata(L, 1, LSD_BODY_MT);
  lua_pushinteger(L, (lua_Integer)b->len);
  return 1;
}

static int body_tostring(lua_State *L) {
  lsd_body *b = (lsd_body *)luaL_checkudata(L, 1, LSD_BODY_MT);
  lua_pushfstring(L, "seedream.Body (%I bytes%s)", (lua_Integer)b->len,
                  b->data ? "" : ", sent");
  return 1;
}

void lsd_open_body(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__gc", body_gc}, {"__close", body_gc}, {"__len", body_len},
    {"__tostring", body_tostring}, {NULL, NULL},
  };
  static const luaL_Reg methods[] = {
    {"close", body_gc}, /* frees the bytes now (a task that ends unsent): idempotent */
    {NULL, NULL},
  };
  if (luaL_newmetatable(L, LSD_BODY_MT)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
