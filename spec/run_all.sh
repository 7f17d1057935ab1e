#!/bin/sh
# Runs every test stage of `make test` and ends with one line "N passed, N failed".
#   1. C unit tests of core/ (plain build)
#   2. the same under ASan/UBSan (separate build in build/asan)
#   3. the same under valgrind
#   4. the emulator's smoke test (curl against a fresh emulator), also under valgrind
#   5. busted specs (Lua 5.4) against emulators the specs start themselves
#   6. the specs again under valgrind with the GC forced to run all the time
# SEEDREAM_QUICK=1 skips the sanitizer and valgrind runs (for a fast local loop).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/build/test-results"
rm -rf "$OUT"; mkdir -p "$OUT"
PASSED=0; FAILED=0

# record NAME PASSED FAILED
record() {
  PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3))
  printf '  %-40s %s passed, %s failed\n' "$1" "$2" "$3"
}

# A C test binary prints "N passed, N failed" last; no such line counts as one failure.
run_ctest() { # label logfile command...
  label=$1; log=$2; shift 2
  "$@" >"$log" 2>&1; rc=$?
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | cut -d' ' -f1); f=$(echo "$line" | cut -d' ' -f3)
  else
    p=0; f=1
  fi
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
  [ "$f" != 0 ] && { echo "--- $label failed (exit $rc), log $log:"; tail -n 40 "$log"; }
  record "$label" "$p" "$f"
}

echo "== C unit tests"
for t in build/tests/test_*; do
  [ -x "$t" ] || continue
  run_ctest "$(basename "$t")" "$OUT/$(basename "$t").log" "$t"
done

if [ "${SEEDREAM_QUICK:-0}" != 1 ]; then
  echo "== C unit tests under ASan/UBSan"
  if make -s B=build/asan CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined" \
       LDFLAGS="-fsanitize=address,undefined" ctest >"$OUT/asan-build.log" 2>&1; then
    for t in build/asan/tests/test_*; do
      [ -x "$t" ] || continue
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_ctest "asan $(basename "$t")" "$OUT/asan-$(basename "$t").log" "$t"
    done
  else
    echo "--- ASan build failed:"; tail -n 30 "$OUT/asan-build.log"; record "asan build" 0 1
  fi

  echo "== C unit tests under valgrind"
  for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    run_ctest "valgrind $(basename "$t")" "$OUT/vg-$(basename "$t").log" \
      valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite "$t"
  done
fi

if [ -f emulator/smoke.sh ]; then
  echo "== emulator smoke test"
  run_ctest "emulator smoke" "$OUT/emulator-smoke.log" sh emulator/smoke.sh
  if [ "${SEEDREAM_QUICK:-0}" != 1 ]; then
    echo "== emulator smoke test under valgrind"
    EMU_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1" \
      run_ctest "emulator smoke under valgrind" "$OUT/emulator-smoke-vg.log" sh emulator/smoke.sh
  fi
fi

# busted prints TAP; count "ok" and "not ok" lines.
run_busted() { # label logfile prefix-command...
  label=$1; log=$2; shift 2
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;" \
  LUA_CPATH="$ROOT/build/?.so;;" SEEDREAM_EMULATOR="$ROOT/build/seedream-emulator" \
    "$@" -o TAP spec >"$log" 2>&1
  rc=$?
  p=$(grep -cE '^ok ' "$log"); f=$(grep -cE '^not ok ' "$log")
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi
  [ "$f" != 0 ] && { echo "--- $label failed (exit $rc), log $log:"; grep -A12 -E '^not ok' "$log" | head -n 80; tail -n 15 "$log"; }
  record "$label" "$p" "$f"
}

echo "== busted specs"
run_busted "specs" "$OUT/busted.log" lua5.4 /usr/bin/busted

if [ "${SEEDREAM_QUICK:-0}" != 1 ]; then
  echo "== busted specs under valgrind (GC forced)"
  SEEDREAM_GC_STRESS=1 run_busted "specs under valgrind" "$OUT/busted-vg.log" \
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --suppressions="$ROOT/spec/valgrind.supp" lua5.4 /usr/bin/busted
fi

# The rockspec builds and installs offline from this checkout into a private tree, and
# the module then loads from another directory.
echo "== luarocks make (private tree)"
TREE="$ROOT/build/rocktree"
rm -rf "$TREE"
if luarocks --lua-version=5.4 --tree "$TREE" make --deps-mode=none \
     rockspec/seedream-scm-1.rockspec >"$OUT/luarocks.log" 2>&1; then
  v=$(cd /tmp && LUA_PATH="$TREE/share/lua/5.4/?.lua;$TREE/share/lua/5.4/?/init.lua;;" \
      LUA_CPATH="$TREE/lib/lua/5.4/?.so;;" lua5.4 -e 'print(require("seedream").VERSION)' 2>&1)
  if echo "$v" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$'; then record "luarocks make + require" 1 0
  else echo "--- require after luarocks make printed: $v"; record "luarocks make + require" 0 1; fi
  # a private tree is used the documented way: `luarocks path` sets LUA_PATH/LUA_CPATH
  if (cd /tmp && eval "$(luarocks --lua-version=5.4 --tree "$TREE" path)" &&
      "$TREE/bin/seedream" validate --help >/dev/null 2>&1); then
    record "installed seedream command" 1 0
  else echo "--- the installed seedream command failed"; record "installed seedream command" 0 1; fi
else
  echo "--- luarocks make failed:"; tail -n 20 "$OUT/luarocks.log"; record "luarocks make" 0 1
fi

# make install under a prefix without root: the seedream command finds its own modules
echo "== make install (private prefix)"
PFX="$ROOT/build/prefix"
rm -rf "$PFX"
if make -s install PREFIX="$PFX" >"$OUT/install.log" 2>&1 &&
   (cd /tmp && env -u LUA_PATH -u LUA_CPATH "$PFX/bin/seedream" version >"$OUT/install-run.log" 2>&1) &&
   grep -qE '[0-9]+\.[0-9]+\.[0-9]+' "$OUT/install-run.log"; then
  record "make install PREFIX + seedream" 1 0
else
  echo "--- make install under a prefix failed:"; tail -n 20 "$OUT/install.log" "$OUT/install-run.log"
  record "make install PREFIX + seedream" 0 1
fi

echo "$PASSED passed, $FAILED failed" >"$ROOT/build/test-summary.txt"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
