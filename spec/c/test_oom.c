/* test_oom.c: the binding under allocation failure. A Lua host whose allocator can be told
 * to refuse every growing allocation from the Nth on; each binding call below is run with
 * N = 1, 2, 3, ... until it no longer reaches the failure. Every run must end in Lua's
 * "not enough memory" (or the call's own nil, err), and nothing may leak: this binary runs
 * under valgrind and ASan in `make test`, which report what a failed call left behind.
 * The module is loaded from build/seedream/core.so next to this binary's directory. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "minitest.h"

static size_t fail_from;   /* 0: never refuse; else refuse from this allocation on */
static size_t counted;

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  /* osize is a type tag when ptr is NULL: every new block counts, shrinking never fails */
  if (fail_from && (!ptr || nsize > osize) && ++counted >= fail_from) return NULL;
  return realloc(ptr, nsize);
}

static int l_arm(lua_State *L) {
  counted = 0;
  fail_from = (size_t)luaL_checkinteger(L, 1);
  return 0;
}

/* disarm() -> true when the refusal point was reached */
static int l_disarm(lua_State *L) {
  int hit = fail_from && counted >= fail_from;
  fail_from = 0;
  lua_pushboolean(L, hit);
  return 1;
}

static int l_check(lua_State *L) {
  mt_report(lua_toboolean(L, 1), "test_oom.lua", 0, luaL_optstring(L, 2, "check"));
  return 0;
}

/* The cases: each a function called with refusals at every allocation it makes. */
/* A server for http:next: answers every request on a connection with the same JSON,
 * keep-alive, until the client closes it. One connection at a time is enough here. */
static const char ANSWER[] = "{\"data\":[{\"taskType\":\"imageInference\",\"taskUUID\":"
  "\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"imageUUID\":\"0f0e0d0c-0b0a-4908-8706-0504"
  "03020101\",\"imageURL\":\"http://127.0.0.1:1/i.jpg\",\"seed\":7}]}";

static void serve_connection(int c) {
  char buf[8192];
  size_t have = 0;
  for (;;) {
    char *end;
    ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
    if (n <= 0) return;
    have += (size_t)n;
    buf[have] = '\0';
    while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
      const char *cl = strstr(buf, "Content-Length:");
      size_t head = (size_t)(end + 4 - buf), body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
      char out[1024];
      int len;
      if (have < head + body) break;                 /* the rest of the body is to come */
      len = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", sizeof ANSWER - 1, ANSWER);
      if (write(c, out, (size_t)len) != len) return;
      memmove(buf, buf + head + body, have - head - body);
      have -= head + body;
      buf[have] = '\0';
    }
    if (have >= sizeof buf - 1) return;
  }
}

static void *server_main(void *arg) {
  int s = *(int *)arg;
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) return NULL;
    serve_connection(c);
    close(c);
  }
}

/* Listens on 127.0.0.1 (any port) and returns the port, 0 on failure. */
static int server_start(void) {
  static int s;
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  pthread_t t;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) return 0;
  if (getsockname(s, (struct sockaddr *)&a, &alen) != 0) return 0;
  if (pthread_create(&t, NULL, server_main, &s) != 0) return 0;
  pthread_detach(t);
  return ntohs(a.sin_port);
}

/* Inputs are made before the refusals start: Lua 5.4.4's own string.rep leaves the state
 * broken when its buffer's allocation fails (its to-be-closed box; no seedream code
 * involved), so only the binding's calls run under them. */
#define PNG16 "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR4nBXRURVEIQhFUSMYgQhGMAIRiGCEE8EIRiACEYhABCLMG7/ZrMt1jMEcyGAN9kAHNjgDBnfwBj6IQQ5q0IMxJnMikzXZE53Y5EyY3Mmb+CQmOalJzw8IUxBhCVtQwYQjIFzhCS6EkEIJLR9YzIUs1mIvdGGLs2BxF2/hi1jkoha9PrCZG9mszd7oxjZnw+Zu3sY3sclNbXp/QJmKKEvZiiqmHAXlKk9xJZRUSmn9gDENMZaxDTXMOAbGNZ7hRhhplNH2gcM8yGEd9kEPdjgHDvfwDn6IQx7q0OcD/wK/Sr4jv9hfkG/1N/x/Fx44BCQU9Pc94zIvclmXfdGLXc79j9/Lu/glLnmpS98PPOZDHuuxH/qwx3n/5ffxHv6IRz7q0e8DznTEWc521DHn+D/KdZ7jTjjplNP+gWAGEqxgBxpYcOIf/AYv8CCCDCro+EAyE0lWshNNLDn5P/MmL/Ekkkwq6fxAMQspVrELLaw49S/lFq/wIoosquj6QDMbaVazG22sOf2v8Dav8SaabKrp5geIAnAQEbP2+wAAAABJRU5ErkJggg=="

static const char *cases =
  "local core = require 'seedream.core'\n"
  "local function sweep(name, f, ...)\n"
  "  for n = 1, 200000 do\n"
  "    collectgarbage()\n"
  "    arm(n)\n"
  "    local ok, a, b = pcall(f, ...)\n"
  "    local hit = disarm()\n"
  "    if not hit then\n"
  "      check(ok and a ~= nil, name .. ': succeeds once memory suffices (' .. tostring(type(b) == 'table' and b.message or b or a) .. ')')\n"
  "      return n\n"
  "    end\n"
  "    local mem = not ok and tostring(a):find('memory') ~= nil\n"
  "    local refused = ok and a == nil\n"
  "    if not (mem or refused) then\n"
  "      check(false, name .. ' at allocation ' .. n .. ': ' .. tostring(a))\n"
  "      return n\n"
  "    end\n"
  "  end\n"
  "  check(false, name .. ': never ran to its end')\n"
  "end\n"
  "local req = { positivePrompt = 'a lighthouse at dusk', width = 2048, height = 2048,\n"
  "              numberResults = 2, outputFormat = 'PNG' }\n"
  "local big = {}\n"
  "for k, v in pairs(req) do big[k] = v end\n"
  /* a real 16x16 PNG with 90 kB of padding after it: a body beyond the inline-string size */
  "local png = core.base64_decode('" PNG16 "') .. ('\\0'):rep(90000)\n"
  "local A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'\n"
  "local out = {}\n"
  "for i = 1, #png, 3 do\n"
  "  local a, b, c = png:byte(i, i + 2)\n"
  "  local n = a * 65536 + (b or 0) * 256 + (c or 0)\n"
  "  local q = { (n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63 }\n"
  "  for j = 1, 4 do out[#out + 1] = A:sub(q[j] + 1, q[j] + 1) end\n"
  "  if not c then out[#out] = '=' end\n"
  "  if not b then out[#out - 1] = '=' end\n"
  "end\n"
  "big.inputs = { referenceImages = { 'data:image/png;base64,' .. table.concat(out) } }\n"
  "local u = core.uuid()\n"
  "local answer = ('{\"data\":[{\"taskType\":\"imageInference\",\"taskUUID\":\"%s\",\"imageUUID\":\"%s\",'\n"
  "  .. '\"imageURL\":\"https://im.runware.ai/image/%s.jpg\",\"seed\":1,\"cost\":0.03}],'\n"
  "  .. '\"errors\":[{\"code\":\"x\",\"message\":\"m\",\"taskUUID\":\"%s\"}]}'):format(u, u, u, u)\n"
  "local swept = 0\n"
  "swept = swept + sweep('json_string', core.json_string, ('a\\n\"'):rep(3000))\n"
  "swept = swept + sweep('prepare', core.prepare, req, true, true)\n"
  "swept = swept + sweep('prepare, large body', core.prepare, big, true, true)\n"
  "swept = swept + sweep('check', core.check, req)\n"
  "swept = swept + sweep('check, bad', function() local _, e = core.check({ width = 1 }); return e end)\n"
  "swept = swept + sweep('answer', core.answer, answer)\n"
  "swept = swept + sweep('base64_decode', core.base64_decode, ('QUJD'):rep(5000))\n"
  "swept = swept + sweep('uuid', core.uuid)\n"
  "swept = swept + sweep('http', function() local h = core.http(); h:close(); return true end)\n"
  /* http:next under refusals: the answer a failed call was building is returned by the
   * next call, whole; nothing is dropped */
  "local h = core.http()\n"
  "local function answered()\n"
  "  local id = assert(h:post(URL, 'k', '[]', 5))\n"
  "  local t = core.now()\n"
  "  while h:perform(0.05) > 0 and core.now() - t < 5 do end\n"
  "  return id\n"
  "end\n"
  "for n = 1, 10000 do\n"
  "  local id = answered()\n"
  "  collectgarbage()\n"
  "  arm(n)\n"
  "  local ok, d = pcall(h.next, h)\n"
  "  local hit = disarm()\n"
  "  if not ok then\n"
  "    check(tostring(d):find('memory'), 'http:next raises only out of memory: ' .. tostring(d))\n"
  "    d = h:next()\n"
  "  end\n"
  "  check(d and d.id == id and d.status == 200 and d.body and d.body:find('imageURL', 1, true),\n"
  "        'http:next at allocation ' .. n .. ' gives the whole answer')\n"
  "  check(h:next() == nil, 'and only once')\n"
  "  if not hit then swept = swept + n; break end\n"
  "end\n"
  "h:close()\n"
  "check(swept > 40, 'the sweeps reached allocations (' .. swept .. ')')\n";

int main(int argc, char **argv) {
  char cpath[4096], so[4096];
  const char *slash = strrchr(argv[0], '/');
  int dirlen = slash ? (int)(slash - argv[0]) : 1, port;
  lua_State *L = lua_newstate(limited_alloc, NULL);
  (void)argc;
  if (!L) return 1;
  luaL_openlibs(L);
  /* build/tests/test_oom -> build/?.so (so build/seedream/core.so) */
  snprintf(cpath, sizeof cpath, "%.*s/../?.so", dirlen, slash ? argv[0] : ".");
  /* kept mapped after lua_close, so that valgrind can name the module's frames in a leak */
  snprintf(so, sizeof so, "%.*s/../seedream/core.so", dirlen, slash ? argv[0] : ".");
  dlopen(so, RTLD_LAZY | RTLD_NODELETE);
  lua_getglobal(L, "package");
  lua_pushstring(L, cpath);
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  port = server_start();
  if (!port) {
    mt_report(0, "test_oom.c", __LINE__, "a local server");
    return MT_SUMMARY();
  }
  lua_pushfstring(L, "http://127.0.0.1:%d/v1", port);
  lua_setglobal(L, "URL");
  lua_register(L, "arm", l_arm);
  lua_register(L, "disarm", l_disarm);
  lua_register(L, "check", l_check);
  if (luaL_dostring(L, cases) != LUA_OK) {
    fail_from = 0;
    mt_report(0, "test_oom.c", __LINE__, lua_tostring(L, -1));
  }
  lua_close(L);
  return MT_SUMMARY();
}
