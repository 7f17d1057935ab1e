# seedream: build, test, demo, bench, install.
#
# Variables (LuaRocks' names, so `luarocks make` can pass its own):
#   LUA        Lua interpreter                  (default lua5.4)
#   LUA_INCDIR Lua headers                      (default /usr/include/lua5.4)
#   LIBFLAG    flags to link a Lua C module     (default -shared)
#   PREFIX     install prefix                   (default /usr/local)
#   LUA_LIBDIR where the C module is installed  (default $(PREFIX)/lib/lua/5.4)
#   LUA_SHAREDIR where Lua modules go           (default $(PREFIX)/share/lua/5.4)
#   CFLAGS     your flags; ours are appended, never replace yours
#   WERROR=1   turn warnings into errors (CI sets it)
LUA          ?= lua5.4
LUA_INCDIR   ?= /usr/include/lua5.4
LIBFLAG      ?= -shared
PREFIX       ?= /usr/local
LUA_LIBDIR   ?= $(PREFIX)/lib/lua/5.4
LUA_SHAREDIR ?= $(PREFIX)/share/lua/5.4
BINDIR       ?= $(PREFIX)/bin
CFLAGS       ?= -O2 -g
CC           ?= cc

B := build
SD_CFLAGS := $(CFLAGS) -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden \
             -Wall -Wextra -Wshadow -Wno-unused-parameter -Icore
ifeq ($(WERROR),1)
SD_CFLAGS += -Werror
endif

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
CORE_LIB := $(B)/libseedream_core.a
CORE_LIBS := -lcurl -luuid

BIND_SRC := $(wildcard lua/seedream/*.c)
BIND_OBJ := $(BIND_SRC:%.c=$(B)/%.o)
MODULE   := $(B)/seedream/core.so

EMU_SRC  := $(wildcard emulator/*.c)
EMU_OBJ  := $(EMU_SRC:%.c=$(B)/%.o)
EMULATOR := $(B)/seedream-emulator
EMU_LIBS := -lmicrohttpd -lcjson -lstb -lwebp -ljpeg -lz -lm -lpthread

CTEST_SRC := $(wildcard spec/c/test_*.c)
CTESTS    := $(CTEST_SRC:spec/c/%.c=$(B)/tests/%)

DEB_PACKAGES := lua5.4 liblua5.4-dev lua-cjson libcurl4-openssl-dev uuid-dev lua-busted \
                libmicrohttpd-dev libcjson-dev libstb-dev libwebp-dev luarocks valgrind \
                lua-luv pkg-config gcc make libjpeg62-turbo-dev zlib1g-dev openssl \
                nghttp2-proxy

.PHONY: all lua deps test ctest spec demo bench install install-lua uninstall rock clean emulator

all: $(CORE_LIB) $(MODULE) $(EMULATOR)

# The Lua module alone (what the rockspec builds): needs only libcurl and libuuid, not the
# emulator's image and HTTP server libraries.
lua: $(MODULE)

# Installs only the Debian packages that are missing (dpkg knows); needs root or sudo.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(B)/%.o: %.c $(wildcard core/*.h) $(wildcard lua/seedream/*.h) $(wildcard emulator/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SD_CFLAGS) -I$(LUA_INCDIR) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The module never links liblua: the host interpreter provides the symbols. Everything is
# compiled with -fvisibility=hidden, so luaopen_seedream_core is its only export.
$(MODULE): $(BIND_OBJ) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(BIND_OBJ) $(CORE_LIB) $(CORE_LIBS) $(LDFLAGS)

# libjpeg-turbo encodes the emulator's JPEGs ~5x faster than stb (it must never be the
# bottleneck of a benchmark).
$(EMU_OBJ): SD_CFLAGS += -DEMU_HAVE_LIBJPEG

$(EMULATOR): $(EMU_OBJ) $(CORE_LIB)
	$(CC) -o $@ $(EMU_OBJ) $(CORE_LIB) $(EMU_LIBS) $(CORE_LIBS) $(LDFLAGS)

emulator: $(EMULATOR)

$(B)/tests/%: spec/c/%.c $(CORE_LIB) $(wildcard spec/c/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(SD_CFLAGS) -o $@ $< $(CORE_LIB) $(CORE_LIBS) -lmicrohttpd -lpthread $(LDFLAGS)

# The allocation-failure test is a Lua host: it links liblua and loads the module.
$(B)/tests/test_oom: spec/c/test_oom.c $(MODULE) spec/c/minitest.h
	@mkdir -p $(dir $@)
	$(CC) $(SD_CFLAGS) -I$(LUA_INCDIR) -o $@ $< -llua5.4 -lpthread $(LDFLAGS)

ctest: $(CTESTS)

# Everything: C tests (plain, ASan/UBSan, valgrind), busted specs, specs under valgrind.
test: deps all ctest
	@sh spec/run_all.sh

demo: deps all
	@sh examples/demo.sh

bench: deps all
	@sh bench/run.sh

rock:
	luarocks --lua-version=5.4 make --deps-mode=none rockspec/seedream-scm-1.rockspec

# The module, its Lua files and the seedream command; `install` adds the emulator.
install-lua: $(MODULE)
	install -d $(DESTDIR)$(LUA_LIBDIR)/seedream $(DESTDIR)$(LUA_SHAREDIR)/seedream $(DESTDIR)$(BINDIR)
	install -m 755 $(MODULE) $(DESTDIR)$(LUA_LIBDIR)/seedream/core.so
	install -m 644 lua/seedream/*.lua $(DESTDIR)$(LUA_SHAREDIR)/seedream/
	install -m 755 bin/seedream $(DESTDIR)$(BINDIR)/seedream

install: install-lua $(EMULATOR)
	install -m 755 $(EMULATOR) $(DESTDIR)$(BINDIR)/seedream-emulator

uninstall:
	rm -rf $(DESTDIR)$(LUA_LIBDIR)/seedream $(DESTDIR)$(LUA_SHAREDIR)/seedream
	rm -f $(DESTDIR)$(BINDIR)/seedream-emulator $(DESTDIR)$(BINDIR)/seedream

clean:
	rm -rf $(B)
