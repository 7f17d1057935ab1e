/* core.c: the seedream.core module: request preparation and helpers over the C core.
 * The Lua facade (seedream/init.lua) is what users require; this stays small. */
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include "lsd.h"
#include "sd_json.h"
#include "sd_key.h"
#include "sd_limits.h"
#include "sd_schema.h"
#include "sd_text.h"
#include "sd_version.h"

const char *lsd_checkcstring(lua_State *L, int idx) {
  size_t len;
  const char *s = luaL_checklstring(L, idx, &len);
  if (memchr(s, '\0', len)) luaL_argerror(L, idx, "contains a NUL byte");
  return s;
}

int lsd_push_error(lua_State *L, const sd_error *err) {
  lua_pushnil(L);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, sd_code_name(err->code));
  lua_setfield(L, -2, "code");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  if (err->field[0]) {
    lua_pushstring(L, err->field);
    lua_setfield(L, -2, "field");
  }
  return 2;
}

/* The request table at argument 1 as a value tree (an object), or NULL with err set. */
static sd_value *request_arg(lua_State *L, sd_error *err) {
  sd_value *req;
  luaL_checktype(L, 1, LUA_TTABLE);
  req = lsd_to_value(L, 1, err);
  if (req && req->type == SD_ARRAY && req->u.arr.n == 0) { /* {}: an object with no fields */
    sd_value_free(req);
    req = sd_value_object();
    if (!req) sd_error_set(err, SD_ENOMEM, NULL, "out of memory");
  }
  if (req && req->type != SD_OBJECT) {
    sd_value_free(req);
    sd_error_set(err, SD_EINVALID, NULL, "a request is a table of named fields");
    return NULL;
  }
  return req;
}

/* What prepare (and json_string) hold in C while they call Lua: in a to-be-closed slot, so
 * that these are freed however the call ends, a raised out-of-memory too (then by __gc if
 * need be). */
typedef struct lsd_hold {
  sd_value *req;
  char *json;
} lsd_hold;

#define LSD_HOLD_MT "seedream.hold"

static int hold_gc(lua_State *L) {
  lsd_hold *h = luaL_checkudata(L, 1, LSD_HOLD_MT);
  sd_value_free(h->req);
  free(h->json);
  h->req = NULL;
  h->json = NULL;
  return 0;
}

/* A fresh hold in a to-be-closed slot on the top of the stack. */
static lsd_hold *push_hold(lua_State *L) {
  lsd_hold *h = lua_newuserdatauv(L, sizeof *h, 0);
  h->req = NULL;
  h->json = NULL;
  luaL_setmetatable(L, LSD_HOLD_MT);
  lua_toclose(L, -1);                        /* under the results: closed on return or raise */
  return h;
}

/* prepare(req [, as_array [, want_key]]) -> body, taskUUID, max_images, key | nil, err
 * body is a Lua string, or a seedream.Body userdata above LSD_INLINE_BODY_MAX bytes.
 * Validates, fills taskType/model/taskUUID, moves referenceImages into inputs and writes
 * the wire JSON of one task object (as_array: the whole request body, "[task]"). Local
 * files given with seedream.file are streamed into the body here, encoded once. key names
 * the request for resumed runs (same fields, any taskUUID and field order: same key). */
static int lsd_prepare(lua_State *L) {
  sd_error err;
  sd_buf buf;
  sd_value *req, *uuid;
  char *json;
  size_t len;
  int as_array = lua_toboolean(L, 2);
  int want_key = lua_toboolean(L, 3);        /* read now: the results go on the stack */
  lsd_hold *hold = push_hold(L);         /* before anything is held */
  req = request_arg(L, &err);
  if (!req) return lsd_push_error(L, &err);
  hold->req = req;
  if (sd_request_prepare(req, &err) != SD_OK) return lsd_push_error(L, &err);
  sd_buf_init(&buf);
  sd_buf_reserve(&buf, sd_json_size_hint(req) + 2);
  if (as_array) sd_buf_putc(&buf, '[');
  sd_json_write(&buf, req);
  if (as_array) sd_buf_putc(&buf, ']');
  if (buf.fail_path) {
    sd_error_set(&err, SD_EIO, NULL, "cannot read %s: %s", buf.fail_path,
                 strerror(buf.fail_errno));
    sd_buf_free(&buf);
    return lsd_push_error(L, &err);
  }
  json = sd_buf_detach(&buf, &len);
  if (!json) return luaL_error(L, "seedream: out of memory writing a request");
  hold->json = json;
  if (len > LSD_INLINE_BODY_MAX) {
    lsd_push_body(L, json, len);              /* held once, handed to the transport */
    hold->json = NULL;
  } else {
    lua_pushlstring(L, json, len);
  }
  uuid = sd_object_get(req, "taskUUID");
  lua_pushlstring(L, uuid->u.str.s, uuid->u.str.len);
  lua_pushinteger(L, sd_request_max_images(req));
  if (want_key) {                            /* the key costs a hash: only when asked */
    char key[33];
    if (sd_request_key(req, key) != 0) key[0] = '\0';
    lua_pushstring(L, key);
  } else {
    lua_pushnil(L);
  }
  return 4;                                  /* the slot's __close frees req and json */
}

/* check(req) -> true | nil, err (the request is not changed, nothing is filled in) */
static int lsd_check(lua_State *L) {
  sd_error err;
  sd_value *req;
  sd_code rc;
  req = request_arg(L, &err);
  if (!req) return lsd_push_error(L, &err);
  rc = sd_request_check(req, &err);
  sd_value_free(req);
  if (rc != SD_OK) return lsd_push_error(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

static int lsd_uuid(lua_State *L) {
  char out[37];
  sd_uuid_v4(out);
  lua_pushlstring(L, out, 36);
  return 1;
}

static int lsd_is_uuid(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, sd_uuid_is_valid(s, len));
  return 1;
}

/* json_string(s) -> s as a JSON string literal (used to build batched bodies) */
static int lsd_json_string(lua_State *L) {
  size_t len, outlen;
  const char *s = luaL_checklstring(L, 1, &len);
  sd_buf buf;
  lsd_hold *hold = push_hold(L);         /* frees out even if the push raises */
  sd_buf_init(&buf);
  sd_json_write_string(&buf, s, len);
  hold->json = sd_buf_detach(&buf, &outlen);
  if (!hold->json) return luaL_error(L, "seedream: out of memory");
  lua_pushlstring(L, hold->json, outlen);
  return 1;
}

/* now() -> seconds on a monotonic clock (timers must not jump with the wall clock) */
static int lsd_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* sleep(s): a plain sleep for scripts and examples that have no event loop of their own */
static int lsd_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec ts;
  luaL_argcheck(L, s == s, 1, "a number of seconds expected, got NaN");
  if (s <= 0) return 0;
  if (s > 86400) s = 86400;                 /* a day: time_t and nanosleep stay in range */
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  return 0;
}

/* poll(fds, timeout_s) -> number ready: waits until one of the sockets (a list of
 * { fd =, read =, write = } as from client:pollfds()) is ready or the time is up. Lets
 * seedream.run wait on several clients at once instead of spinning. */
static int lsd_poll(lua_State *L) {
  struct pollfd small[256], *pfd = small;
  int n = 0, i, len, ms, rc;
  lua_Number t = luaL_optnumber(L, 2, 0);
  luaL_argcheck(L, t == t, 2, "a number of seconds expected, got NaN");
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer count = luaL_len(L, 1);
  luaL_argcheck(L, count >= 0 && count <= 1000000, 1, "too many entries");
  len = (int)count;
  if (len > 256) /* every entry (the transport lists every socket); freed by the collector */
    pfd = lua_newuserdatauv(L, (size_t)len * sizeof *pfd, 0);
  for (i = 1; i <= len; i++) {
    lua_rawgeti(L, 1, i);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "fd");
      lua_getfield(L, -2, "read");
      lua_getfield(L, -3, "write");
      pfd[n].fd = (int)luaL_checkinteger(L, -3);
      pfd[n].events = (short)((lua_toboolean(L, -2) ? POLLIN : 0) |
                              (lua_toboolean(L, -1) ? POLLOUT : 0));
      if (!pfd[n].events) pfd[n].events = POLLIN;
      pfd[n].revents = 0;
      n++;
      lua_pop(L, 3);
    }
    lua_pop(L, 1);
  }
  ms = t <= 0 ? 0 : t > 3600 ? 3600000 : (int)(t * 1000.0 + 0.5);
  rc = poll(pfd, (nfds_t)n, ms);
  lua_pushinteger(L, rc < 0 ? 0 : rc);
  return 1;
}

static void push_limits(lua_State *L) {
  lua_createtable(L, 0, 12);
#define LSD_LIMIT(name, value) (lua_pushnumber(L, (lua_Number)(value)), lua_setfield(L, -2, name))
  LSD_LIMIT("prompt_max", SD_PROMPT_MAX);
  LSD_LIMIT("min_pixels", SD_MIN_PIXELS);
  LSD_LIMIT("max_pixels", SD_MAX_PIXELS);
  LSD_LIMIT("max_aspect", SD_MAX_ASPECT);
  LSD_LIMIT("results_max", SD_RESULTS_MAX);
  LSD_LIMIT("refs_max", SD_REFS_MAX);
  LSD_LIMIT("sequential_max", SD_SEQ_MAX);
  LSD_LIMIT("refs_plus_sequential_max", SD_REFS_PLUS_SEQ_MAX);
  LSD_LIMIT("cost_per_image", SD_COST_PER_IMAGE);
#undef LSD_LIMIT
}

static void push_codes(lua_State *L) {
  int i;
  lua_createtable(L, 0, SD_ERROR_COUNT);
  for (i = 1; i < SD_ERROR_COUNT; i++) {     /* skip SD_OK */
    lua_pushstring(L, sd_code_name((sd_code)i));
    lua_pushboolean(L, sd_code_retryable((sd_code)i));
    lua_settable(L, -3);
  }
}

__attribute__((visibility("default"))) int luaopen_seedream_core(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"prepare", lsd_prepare},
    {"check", lsd_check},
    {"answer", lsd_answer},
    {"uuid", lsd_uuid},
    {"is_uuid", lsd_is_uuid},
    {"json_string", lsd_json_string},
    {"http", lsd_http_new},
    {"now", lsd_now},
    {"sleep", lsd_sleep},
    {"poll", lsd_poll},
    {"write_base64", lsd_write_base64},
    {"sniff", lsd_sniff},
    {"whole_image", lsd_whole_image},
    {"kind_of", lsd_kind_of},
    {"base64_decode", lsd_base64_decode},
    {"file", lsd_file_new},
    {"write_file", lsd_write_file},
    {"fsync", lsd_fsync},
    {"lock", lsd_lock},
    {NULL, NULL},
  };
  lsd_open_http(L);
  lsd_open_file(L);
  lsd_open_body(L);
  lsd_open_lock(L);
  /* __close frees at once; __gc when the close could not run (calling it needs memory
   * that an out-of-memory error may not leave) */
  luaL_newmetatable(L, LSD_HOLD_MT);
  lua_pushcfunction(L, hold_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, hold_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  push_limits(L);
  lua_setfield(L, -2, "limits");
  push_codes(L);
  lua_setfield(L, -2, "codes");
  lua_pushstring(L, SD_MODEL_ID);
  lua_setfield(L, -2, "model");
  lua_pushstring(L, SD_VERSION);
  lua_setfield(L, -2, "version");
  lua_pushlightuserdata(L, NULL);            /* JSON null in arrays (equal to cjson.null) */
  lua_setfield(L, -2, "null");
  return 1;
}
