/* lsd_lock.c: core.lock(path) -> seedream.Lock, an exclusive lock on a file for one process
 * at a time (run directories: two processes on one journal would pay tasks twice). The lock
 * goes with :release(), <close>, the collector, or the process. */
#include <unistd.h>
#include "lsd.h"
#include "sd_file.h"

#define LSD_LOCK_MT "seedream.Lock"

typedef struct lsd_lockbox {
  int fd; /* -1 once released */
} lsd_lockbox;

static int lock_release(lua_State *L) {
  lsd_lockbox *k = luaL_checkudata(L, 1, LSD_LOCK_MT);
  if (k->fd >= 0) {
    close(k->fd); /* closing the descriptor drops the flock */
    k->fd = -1;
  }
  return 0;
}

static int lock_tostring(lua_State *L) {
  lsd_lockbox *k = luaL_checkudata(L, 1, LSD_LOCK_MT);
  lua_pushstring(L, k->fd >= 0 ? "seedream.Lock (held)" : "seedream.Lock (released)");
  return 1;
}

/* lock(path) -> lock | nil, err (another process holds it: err names its pid) */
int lsd_lock(lua_State *L) {
  const char *path = lsd_checkcstring(L, 1);
  lsd_lockbox *k = lua_newuserdatauv(L, sizeof *k, 0);
  sd_error err;
  k->fd = -1;
  luaL_setmetatable(L, LSD_LOCK_MT);
  if (sd_file_lock(path, &k->fd, &err) != SD_OK) return lsd_push_error(L, &err);
  return 1;
}

void lsd_open_lock(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"release", lock_release},
    {"__gc", lock_release},
    {"__close", lock_release},
    {"__tostring", lock_tostring},
    {NULL, NULL},
  };
  luaL_newmetatable(L, LSD_LOCK_MT);
  luaL_setfuncs(L, meta, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
