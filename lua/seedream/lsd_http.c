/* lsd_http.c: the seedream.Http userdata, a thin handle over sd_http (core/sd_http.h).
 *
 * Lifecycle as in liolib: the userdata is created zeroed before the transport exists, one
 * idempotent close serves :close(), __gc and __close, and a closed handle raises a clear
 * error when used. Times cross this boundary in seconds (Lua's habit), milliseconds inside. */
#include <stdint.h>
#include "lsd.h"
#include "sd_http.h"

/* held: a finished transfer taken from the transport while its Lua table is built; if a
 * Lua allocation fails (and raises) meanwhile, it stays held and the next call returns it
 * (an answer may be a paid image: it is not dropped); close frees it. */
typedef struct lsd_http {
  sd_http *h;
  sd_http_done held;
  int holding;
} lsd_http;

static void drop_held(lsd_http *u) {
  if (u->holding) {
    sd_http_done_clear(&u->held);
    u->holding = 0;
  }
}

static lsd_http *check_http(lua_State *L) {
  lsd_http *u = (lsd_http *)luaL_checkudata(L, 1, LSD_HTTP_MT);
  if (!u->h) luaL_error(L, "seedream: attempt to use a closed client transport");
  return u;
}

/* Seconds at idx (the value on top for options) as milliseconds: NaN refused, a positive
 * time at least 1 ms (0 would mean "the default"), at most a day. */
static long to_ms(lua_State *L, int idx, const char *what) {
  lua_Number s = luaL_checknumber(L, idx);
  if (s != s) luaL_error(L, "bad %s (a number of seconds expected, got NaN)", what);
  if (s <= 0) return 0;
  if (s >= 86400) return 86400000L;
  long ms = (long)(s * 1000.0 + 0.5);
  return ms > 0 ? ms : 1;
}

static long opt_ms(lua_State *L, int idx, long dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  lua_Number s = luaL_checknumber(L, idx);
  luaL_argcheck(L, s == s, idx, "a number of seconds expected, got NaN");
  return s < 0 ? dflt : to_ms(L, idx, "time");
}

/* An integer option in [lo, hi], or dflt when absent. */
static int get_opt_int(lua_State *L, int t, const char *key, int dflt, lua_Integer lo,
                       lua_Integer hi) {
  int v = dflt;
  lua_getfield(L, t, key);
  if (!lua_isnil(L, -1)) {
    lua_Integer i = luaL_checkinteger(L, -1);
    if (i < lo || i > hi) luaL_error(L, "bad option '%s' (%I..%I expected)", key, lo, hi);
    v = (int)i;
  }
  lua_pop(L, 1);
  return v;
}

static long get_opt_ms(lua_State *L, int t, const char *key, long dflt) {
  long v = dflt;
  lua_getfield(L, t, key);
  if (!lua_isnil(L, -1)) v = to_ms(L, -1, key);
  lua_pop(L, 1);
  return v;
}

/* A string option (left on the stack: it stays alive while the config is used), or NULL. */
static const char *get_opt_string(lua_State *L, int t, const char *key) {
  if (lua_getfield(L, t, key) == LUA_TNIL) return NULL;
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "bad option '%s' (string expected, got %s)", key, luaL_typename(L, -1));
  return lsd_checkcstring(L, -1);
}

/* core.http{ connect_timeout=, timeout=, retries=, backoff=, backoff_max=,
 *            max_connections=, user_agent=, ca_file=, ca_dir= } -> Http | nil, err */
int lsd_http_new(lua_State *L) {
  sd_http_config cfg;
  sd_error err;
  lsd_http *u;
  const char *ua = NULL;
  sd_http_config_defaults(&cfg);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    cfg.connect_timeout_ms = get_opt_ms(L, 1, "connect_timeout", cfg.connect_timeout_ms);
    cfg.timeout_ms = get_opt_ms(L, 1, "timeout", cfg.timeout_ms);
    cfg.max_retries = get_opt_int(L, 1, "retries", cfg.max_retries, 0, 100);
    cfg.backoff_base_ms = get_opt_ms(L, 1, "backoff", cfg.backoff_base_ms);
    cfg.backoff_max_ms = get_opt_ms(L, 1, "backoff_max", cfg.backoff_max_ms);
    cfg.max_connections = get_opt_int(L, 1, "max_connections", cfg.max_connections, 0, 100000);
    ua = get_opt_string(L, 1, "user_agent"); /* on the stack (alive) until we return */
    if (ua) cfg.user_agent = ua;
    cfg.ca_file = get_opt_string(L, 1, "ca_file"); /* alive until sd_http_new copied it */
    cfg.ca_dir = get_opt_string(L, 1, "ca_dir");
  }
  u = (lsd_http *)lua_newuserdatauv(L, sizeof *u, 0);
  u->h = NULL;
  u->holding = 0;
  luaL_setmetatable(L, LSD_HTTP_MT);
  u->h = sd_http_new(&cfg, &err);
  if (!u->h) return lsd_push_error(L, &err);
  return 1;
}

/* Retries of one request: -1 (absent: the transport's) or 0..100. */
static int opt_retries(lua_State *L, int idx) {
  lua_Integer n = luaL_optinteger(L, idx, -1);
  luaL_argcheck(L, n >= -1 && n <= 100, idx, "retries out of range (0..100)");
  return (int)n;
}

static int start(lua_State *L, lsd_http *u, sd_http_request *r) {
  sd_error err;
  uint64_t id = sd_http_start(u->h, r, &err);
  if (!id) return lsd_push_error(L, &err);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* http:post(url, bearer|nil, body [, timeout_s [, retries [, gzip [, max_body]]]]) -> id | nil, err
 * max_body: the most bytes of answer taken (default 1 GiB; beyond it: bad_response, or io
 *           at the default; the client passes 64 MB for answers without inline images)
 * gzip: ask for a gzip-encoded answer (for answers carrying images inline)
 * body: a string (copied) or a seedream.Body (handed over: usable once). */
static int http_post(lua_State *L) {
  lsd_http *u = check_http(L);
  sd_http_request r = {0};
  r.method = SD_HTTP_POST;
  r.url = lsd_checkcstring(L, 2);
  r.bearer = lua_isnoneornil(L, 3) ? NULL : lsd_checkcstring(L, 3);
  r.body = lsd_body_take(L, 4, &r.body_len);
  if (r.body) r.take_body = 1;              /* a Body: handed over, not copied */
  else r.body = luaL_checklstring(L, 4, &r.body_len);
  r.timeout_ms = opt_ms(L, 5, 0);
  r.max_retries = opt_retries(L, 6);
  r.gzip = lua_toboolean(L, 7);
  lua_Integer max_body = luaL_optinteger(L, 8, 0);
  r.max_body = max_body > 0 ? (size_t)max_body : 0;
  if (start(L, u, &r) != 1) return 2;
  if (r.take_body) lsd_body_release(L, 4);
  return 1;
}

/* http:get(url [, file_path [, timeout_s [, retries [, expect]]]]) -> id | nil, err (never a
 * bearer); expect: "jpg"|"png"|"webp"|"any" (default), the kind of image file_path must get */
static int http_get(lua_State *L) {
  lsd_http *u = check_http(L);
  sd_http_request r = {0};
  r.method = SD_HTTP_GET;
  r.url = lsd_checkcstring(L, 2);
  r.file_path = lua_isnoneornil(L, 3) ? NULL : lsd_checkcstring(L, 3);
  r.timeout_ms = opt_ms(L, 4, 0);
  r.max_retries = opt_retries(L, 5);
  /* the kind of image the file must be, checked before it replaces anything at path */
  static const char *const kinds[] = {"any", "jpg", "png", "webp", NULL};
  static const sd_image_kind kind_of[] = {SD_IMG_UNKNOWN, SD_IMG_JPEG, SD_IMG_PNG, SD_IMG_WEBP};
  r.expect = kind_of[luaL_checkoption(L, 6, "any", kinds)];
  return start(L, u, &r);
}

/* http:perform([wait_s]) -> transfers still unfinished | nil, err */
static int http_perform(lua_State *L) {
  lsd_http *u = check_http(L);
  sd_error err;
  int n = sd_http_perform(u->h, opt_ms(L, 2, 0), &err);
  if (n < 0) return lsd_push_error(L, &err);
  lua_pushinteger(L, n);
  return 1;
}

/* http:next() -> { id, code, status, message, body, content_type, retry_after, attempts,
 *                  elapsed, sent } | nil when nothing has finished */
static int http_next(lua_State *L) {
  lsd_http *u = check_http(L);
  if (!u->holding) {                              /* else: an earlier call that raised */
    if (!sd_http_next(u->h, &u->held)) return 0;
    u->holding = 1;
  }
  const sd_http_done d = u->held;
  lua_createtable(L, 0, 10);
  lua_pushinteger(L, (lua_Integer)d.id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, sd_code_name(d.code));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, d.status);
  lua_setfield(L, -2, "status");
  if (d.message[0]) {
    lua_pushstring(L, d.message);
    lua_setfield(L, -2, "message");
  }
  if (d.body) {
    lua_pushlstring(L, d.body, d.body_len);
    lua_setfield(L, -2, "body");
  }
  if (d.content_type) {
    lua_pushstring(L, d.content_type);
    lua_setfield(L, -2, "content_type");
  }
  if (d.retry_after >= 0) {
    lua_pushnumber(L, d.retry_after);
    lua_setfield(L, -2, "retry_after");
  }
  lua_pushinteger(L, d.attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushboolean(L, d.sent);
  lua_setfield(L, -2, "sent");
  lua_pushnumber(L, d.elapsed);
  lua_setfield(L, -2, "elapsed");
  drop_held(u);
  return 1;
}

static int http_cancel(lua_State *L) {
  lsd_http *u = check_http(L);
  lua_pushboolean(L, sd_http_cancel(u->h, (uint64_t)luaL_checkinteger(L, 2)));
  return 1;
}

/* http:fds() -> { {fd=, read=bool, write=bool}, ... }, timeout_s|nil */
static int http_fds(lua_State *L) {
  lsd_http *u = check_http(L);
  int small_fds[256], small_events[256];
  int *fds = small_fds, *events = small_events;
  int i, n = sd_http_fds(u->h, fds, events, 256);
  long t;
  if (n > 256) { /* every socket, or an external loop would miss answers on the rest */
    int cap = n;
    /* stays on the stack (under the results) so that no collection takes it meanwhile */
    fds = lua_newuserdatauv(L, 2 * (size_t)cap * sizeof(int), 0);
    events = fds + cap;
    n = sd_http_fds(u->h, fds, events, cap);
    if (n > cap) n = cap;        /* cannot grow between the two calls: nothing ran */
  }
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, fds[i]);
    lua_setfield(L, -2, "fd");
    lua_pushboolean(L, events[i] & SD_HTTP_READ);
    lua_setfield(L, -2, "read");
    lua_pushboolean(L, events[i] & SD_HTTP_WRITE);
    lua_setfield(L, -2, "write");
    lua_rawseti(L, -2, i + 1);
  }
  t = sd_http_timeout_ms(u->h);
  if (t < 0) lua_pushnil(L);
  else lua_pushnumber(L, (lua_Number)t / 1000.0);
  return 2;
}

static int http_stats(lua_State *L) {
  lsd_http *u = check_http(L);
  sd_http_stats s;
  sd_http_get_stats(u->h, &s);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, sd_http_ca_dir(u->h));   /* nil: curl's default trust (a bundle) */
  lua_setfield(L, -2, "ca_dir");
  lua_pushinteger(L, (lua_Integer)s.started);
  lua_setfield(L, -2, "started");
  lua_pushinteger(L, (lua_Integer)s.finished);
  lua_setfield(L, -2, "finished");
  lua_pushinteger(L, (lua_Integer)s.retries);
  lua_setfield(L, -2, "retries");
  lua_pushinteger(L, (lua_Integer)s.connects);
  lua_setfield(L, -2, "connects");
  lua_pushinteger(L, (lua_Integer)s.tls_admit);
  lua_setfield(L, -2, "tls_admit");
  return 1;
}

/* One idempotent close for :close(), __gc and __close. */
static int http_close(lua_State *L) {
  lsd_http *u = (lsd_http *)luaL_checkudata(L, 1, LSD_HTTP_MT);
  drop_held(u);
  if (u->h) {
    sd_http_free(u->h);
    u->h = NULL;
  }
  return 0;
}

static int http_tostring(lua_State *L) {
  lsd_http *u = (lsd_http *)luaL_checkudata(L, 1, LSD_HTTP_MT);
  lua_pushfstring(L, "seedream.Http (%s)", u->h ? "open" : "closed");
  return 1;
}

void lsd_open_http(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"post", http_post},       {"get", http_get},     {"perform", http_perform},
    {"next", http_next},       {"cancel", http_cancel}, {"fds", http_fds},
    {"stats", http_stats},     {"close", http_close}, {NULL, NULL},
  };
  static const luaL_Reg meta[] = {
    {"__gc", http_close}, {"__close", http_close}, {"__tostring", http_tostring}, {NULL, NULL},
  };
  if (!luaL_newmetatable(L, LSD_HTTP_MT)) { lua_pop(L, 1); return; }
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
