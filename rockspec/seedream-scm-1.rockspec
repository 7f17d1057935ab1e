-- luarocks --lua-version=5.4 make --deps-mode=none rockspec/seedream-scm-1.rockspec
-- (no LuaRocks server is needed: everything builds from this checkout; lua-cjson may come
--  from Debian's lua-cjson package, which LuaRocks does not see, hence --deps-mode=none.)
-- Only `luarocks make` from a checkout is supported: source.url names no public repository,
-- so `luarocks pack`/`build` of this rockspec cannot fetch it (`luarocks pack seedream`
-- after an install makes a binary rock). It builds the module alone (`make lua`): the
-- emulator and its libraries come with `make`, not with the rock.
rockspec_format = "3.0"
package = "seedream"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "ByteDance Seedream 5.0 Lite image generation through the Runware API",
  detailed = [[
A small C core (libcurl multi transport, full request validation, UUID v4, base64) with a
Lua 5.4 module: non-blocking steps for game loops, coroutine-friendly waits, batched
polling. (A local Runware-compatible emulator for tests and demos comes with `make`, not
with the rock.)]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4",
  "lua-cjson >= 2.1",
}
external_dependencies = {
  -- Debian keeps curl/curl.h under the multiarch include dir, where LuaRocks 3.8 does not
  -- look for headers; the library is found and gcc finds the header by itself.
  CURL = { library = "curl" },
  UUID = { header = "uuid/uuid.h", library = "uuid" },
}
build = {
  type = "make",
  build_target = "lua",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
  },
  install_target = "install-lua",
  install_variables = {
    PREFIX = "$(PREFIX)",
    LUA_LIBDIR = "$(LIBDIR)",
    LUA_SHAREDIR = "$(LUADIR)",
    BINDIR = "$(BINDIR)",
  },
}
