#!/bin/sh
# bench/run.sh: seedream's benchmarks (`make bench` runs this after `make all`).
#
# Every figure is printed next to a baseline measured in the same run, as a ratio. Only
# 127.0.0.1 is used: each section starts its own build/seedream-emulator on a free port and
# stops it (by its pid) afterwards. Output: a table on stdout, the same figures as JSON in
# build/bench/results.json, the raw JSON lines of every program in build/bench/*.jsonl.
# Takes about 75 s on 2 cores; see bench/README.md for what each section measures.
#
# Environment: LUA (lua5.4), CC (cc), BENCH_REPS (7: runs of each program of benchmark 1,
# interleaved; the best and the median are reported), BENCH_ONLY (e.g. "1 3": run only those sections).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
LUA=${LUA:-lua5.4}
CC=${CC:-cc}
REPS=${BENCH_REPS:-7}
ONLY=${BENCH_ONLY:-1 2 3 4 5 6}
OUT=build/bench
KEY=bench-key
EMU=build/seedream-emulator
export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
export LUA_CPATH="$ROOT/build/?.so;;"

for f in build/libseedream_core.a build/seedream/core.so "$EMU"; do
  [ -e "$f" ] || { echo "bench: $f is missing: run 'make all' first" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.jsonl "$OUT"/results.json
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seedream-bench.XXXXXX")
EMU_PID=
FAILED=

stop_emu() {
  if [ -n "$EMU_PID" ]; then
    kill -TERM "$EMU_PID" 2>/dev/null
    wait "$EMU_PID" 2>/dev/null
    EMU_PID=
  fi
}
H2_PID=
cleanup() { [ -z "$H2_PID" ] || kill "$H2_PID" 2>/dev/null; stop_emu; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "bench: $*" >&2; FAILED="$FAILED $1"; }

# make_cert NAME: a throwaway certificate for 127.0.0.1, $TMP/NAME.pem and $TMP/NAME-key.pem.
make_cert() {
  command -v openssl > /dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/$1-key.pem" -out "$TMP/$1.pem" \
      -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 > /dev/null 2>&1
}

# start_emu ARGS...: starts an emulator (stopping the previous one), sets EMU_URL.
start_emu() {
  stop_emu
  : > "$TMP/emu.url"
  # EMU_PREFIX (e.g. "taskset -c 1") execs the emulator: $! stays its pid
  ${EMU_PREFIX:-} "$EMU" --port 0 --api-key "$KEY" --quiet "$@" > "$TMP/emu.url" 2> "$TMP/emu.err" &
  EMU_PID=$!
  i=0
  while [ ! -s "$TMP/emu.url" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  EMU_URL=$(head -n 1 "$TMP/emu.url")
  case "$EMU_URL" in
    http://127.0.0.1:*/v1 | https://127.0.0.1:*/v1) return 0 ;;
  esac
  echo "bench: the emulator did not start:" >&2
  cat "$TMP/emu.err" >&2
  return 1
}

# emit FILE CMD...: runs CMD, appends its last stdout line (JSON) to FILE; 1 on failure.
emit() {
  file=$1
  shift
  if "$@" > "$TMP/out" 2> "$TMP/err"; then rc=0; else rc=$?; fi
  line=$(tail -n 1 "$TMP/out")
  case "$line" in
    "{"*) printf '%s\n' "$line" >> "$OUT/$file" ;;
    *) rc=${rc:-1}; [ "$rc" -ne 0 ] || rc=1 ;;
  esac
  if [ "$rc" -ne 0 ]; then
    echo "bench: failed ($rc): $*" >&2
    tail -n 5 "$TMP/err" >&2
    return 1
  fi
  return 0
}

want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

CFLAGS_B="-O2 -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Icore"
$CC $CFLAGS_B -o "$OUT/raw_multi" bench/raw_multi.c build/libseedream_core.a -lcurl -luuid \
  || { echo "bench: cannot build bench/raw_multi.c" >&2; exit 1; }
$CC $CFLAGS_B -o "$OUT/core_http" bench/core_http.c build/libseedream_core.a -lcurl -luuid \
  || { echo "bench: cannot build bench/core_http.c" >&2; exit 1; }
$CC $CFLAGS_B -o "$OUT/b64" bench/b64.c build/libseedream_core.a -lcurl -luuid \
  || { echo "bench: cannot build bench/b64.c" >&2; exit 1; }
$CC $CFLAGS_B -o "$OUT/tls_first" bench/tls_first.c build/libseedream_core.a -lcurl -luuid \
  || { echo "bench: cannot build bench/tls_first.c" >&2; exit 1; }
TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# CPU ticks (user+sys) the running emulator has used so far.
emu_ticks() { awk '{ print $14 + $15 }' "/proc/$EMU_PID/stat" 2>/dev/null || echo 0; }

# timed FILE WHO CMD...: emit, and add the emulator's CPU during CMD to emu_cpu.jsonl.
timed() {
  file=$1 who=$2
  shift 2
  e0=$(emu_ticks)
  emit "$file" "$@"
  rc=$?
  e1=$(emu_ticks)
  printf '{"who":"%s","ticks":%s,"tck":%s}\n' "$who" "$((e1 - e0))" "$TCK" >> "$OUT/emu_cpu.jsonl"
  return $rc
}

# run_programs SUFFIX URL [h2]: benchmark 1's programs, REPS interleaved runs of each, into
# <name>SUFFIX.jsonl. With h2 the floor (raw) multiplexes (PIPEWAIT) like seedream's transport,
# and raw libcurl with its defaults (a connection per transfer) runs as raw_nomux.
run_programs() {
  sfx=$1 url=$2 mode=
  [ "${3:-}" = h2 ] && mode=pipewait
  r=0
  while [ $r -lt "$REPS" ]; do
    if [ -n "$mode" ]; then
      timed "raw_nomux$sfx.jsonl" "raw_nomux$sfx" "$OUT/raw_multi" "$url" "$KEY" 1000 16 \
        || return 1
    fi
    # $mode unquoted: no argument at all when empty
    timed "raw$sfx.jsonl" "raw$sfx" "$OUT/raw_multi" "$url" "$KEY" 1000 16 $mode || return 1
    timed "raw_sdopts$sfx.jsonl" "raw_sdopts$sfx" "$OUT/raw_multi" "$url" "$KEY" 1000 16 sdopts \
      || return 1
    timed "core_http$sfx.jsonl" "core_http$sfx" "$OUT/core_http" "$url" "$KEY" 1000 16 || return 1
    timed "lua_floor$sfx.jsonl" "lua_floor$sfx" "$LUA" bench/lua_floor.lua "$url" "$KEY" 1000 16 \
      || return 1
    timed "lua_work$sfx.jsonl" "lua_work$sfx" "$LUA" bench/lua_floor.lua "$url" "$KEY" 1000 16 \
      work || return 1
    timed "tasks$sfx.jsonl" "seedream$sfx" "$LUA" bench/tasks.lua "$url" "$KEY" 1000 16 || return 1
    r=$((r + 1))
  done
}

T0=$(date +%s)
echo "seedream benchmarks: sections $ONLY (build/bench/results.json) ..." >&2

# The baseline process of sections 2 and 4: the peak RSS of a bare `require "seedream"`.
for _ in 1 2 3; do
  emit base.jsonl "$LUA" -e 'require "seedream"
    for l in io.lines("/proc/self/status") do
      local v = l:match("^VmHWM:%s*(%d+)")
      if v then io.write(("{\"hwm_kb\":%d}\n"):format(tonumber(v))) end
    end' || fail base
done

# 1. CPU per task: seedream vs the raw libcurl floor (N=1000, 16 in flight, no latency).
if want 1; then
  echo "  1. tasks: raw libcurl vs seedream, $REPS runs each" >&2
  if start_emu; then
    # one untimed pass of each first: the emulator's tables and both programs' files warm
    "$OUT/raw_multi" "$EMU_URL" "$KEY" 200 16 > /dev/null 2>&1
    "$LUA" bench/tasks.lua "$EMU_URL" "$KEY" 200 16 > /dev/null 2>&1
    run_programs "" "$EMU_URL" || fail tasks
  else fail tasks; fi
  # 1b. The same programs over HTTPS, for comparison (the real API is TLS): a throwaway
  # certificate for 127.0.0.1, trusted through SEEDREAM_CA_FILE by every program.
  if make_cert cert && start_emu --tls-cert "$TMP/cert.pem" --tls-key "$TMP/cert-key.pem"; then
    export SEEDREAM_CA_FILE="$TMP/cert.pem"
    "$OUT/raw_multi" "$EMU_URL" "$KEY" 200 16 > /dev/null 2>&1
    run_programs _tls "$EMU_URL" || fail tasks_tls
    unset SEEDREAM_CA_FILE
  else echo "bench: no openssl or no TLS emulator: section 1b skipped" >&2; fi
  # 1c. HTTP/2 over TLS, the real API's protocol: nghttpx (Debian nghttp2-proxy) in front of a
  # plain emulator that publishes its image URLs on the front. The floor is raw libcurl with
  # PIPEWAIT (its 16 transfers share one connection, as seedream's do); raw libcurl with its
  # defaults (a connection per transfer) is shown next to it.
  NGHTTPX=$(command -v nghttpx || echo /usr/sbin/nghttpx)
  H2_PORT=$("$LUA" -e 'local s = require("socket").bind("127.0.0.1", 0)
    local _, port = s:getsockname() print(port) s:close()' 2>/dev/null)
  if [ -x "$NGHTTPX" ] && [ -s "$TMP/cert.pem" ] && [ -n "$H2_PORT" ] &&
     start_emu --public-url "https://127.0.0.1:$H2_PORT"; then
    EMU_PORT=$(echo "$EMU_URL" | sed 's|.*:\([0-9]*\)/v1$|\1|')
    # --conf=/dev/null: Debian's /etc/nghttpx/nghttpx.conf adds a frontend on port 3000
    "$NGHTTPX" --conf=/dev/null --frontend="127.0.0.1,$H2_PORT" --backend="127.0.0.1,$EMU_PORT" \
      --workers=1 --no-ocsp --errorlog-file=/dev/null --accesslog-file=/dev/null \
      "$TMP/cert-key.pem" "$TMP/cert.pem" > /dev/null 2>&1 &
    H2_PID=$!
    H2_URL="https://127.0.0.1:$H2_PORT/v1"
    export SEEDREAM_CA_FILE="$TMP/cert.pem"
    i=0
    until "$OUT/raw_multi" "$H2_URL" "$KEY" 50 4 > /dev/null 2>&1 || [ $i -ge 50 ]; do
      sleep 0.1; i=$((i + 1))
    done
    if "$OUT/raw_multi" "$H2_URL" "$KEY" 200 16 pipewait > /dev/null 2>&1; then
      run_programs _h2 "$H2_URL" h2 || fail tasks_h2
    else
      fail tasks_h2
      echo "bench: nghttpx on port $H2_PORT does not answer" >&2
    fi
    kill "$H2_PID" 2>/dev/null
    wait "$H2_PID" 2>/dev/null
    H2_PID=
    unset SEEDREAM_CA_FILE
  else echo "bench: no nghttpx (nghttp2-proxy) or no certificate: section 1c skipped" >&2; fi
fi

# 2. Peak RSS with 1,000 tasks in flight (emulator latency 3 s keeps them in flight).
if want 2; then
  echo "  2. peak RSS, 1,000 tasks in flight (async, then sync)" >&2
  if start_emu --latency-ms 3000; then
    # the floor: libcurl alone, 1 and then 1,000 requests on the wire
    emit raw_rss.jsonl "$OUT/raw_multi" "$EMU_URL" "$KEY" 1 1 rss || fail rss_raw
    emit raw_rss.jsonl "$OUT/raw_multi" "$EMU_URL" "$KEY" 1000 1000 rss || fail rss_raw
    emit rss.jsonl "$LUA" bench/rss.lua "$EMU_URL" "$KEY" 1000 async || fail rss_async
    emit rss.jsonl "$LUA" bench/rss.lua "$EMU_URL" "$KEY" 1000 sync || fail rss_sync
  else fail rss; fi
fi

# 3. HTTP requests per poll cycle with K = 1, 100, 1000 async tasks (latency 2 s).
if want 3; then
  echo "  3. poll requests per cycle, K = 1, 100, 1000" >&2
  if start_emu --latency-ms 2000; then
    for k in 1 100 1000; do
      emit polls.jsonl "$LUA" bench/polls.lua "$EMU_URL" "$KEY" $k || fail polls
    done
  else fail polls; fi
fi
stop_emu

# 6. Game loop: examples/game_loop.lua (60 fps, 50 in flight, emulator latency 50 ms), time
# inside step(0) per frame. It runs before sections 4 and 5: on this VM a process that
# follows their 200 MB of allocations and 100 downloads shows rare multi-ms CPU stalls
# that have nothing to do with its own work (measured: 4 of 9 sets over 2 ms after them,
# 1 of 10 without them). The API server never runs on the player's machine, so the main
# rows keep the emulator off the game's core (taskset, when there are 2+ CPUs); the shared
# rows show what this 2-core machine gives when both compete for the same cores.
if want 6; then
  echo "  6. game loop frame times, 3 x 5 s pinned, 3 x 5 s shared" >&2
  if command -v taskset > /dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    if EMU_PREFIX="taskset -c 1" start_emu --latency-ms 50; then
      for _ in 1 2 3; do
        RUNWARE_API_URL=$EMU_URL RUNWARE_API_KEY=$KEY emit game_pinned.jsonl \
          taskset -c 0 "$LUA" examples/game_loop.lua 5 json || fail game
      done
    else fail game; fi
  fi
  if start_emu --latency-ms 50; then
    for _ in 1 2 3; do
      RUNWARE_API_URL=$EMU_URL RUNWARE_API_KEY=$KEY emit game_shared.jsonl \
        "$LUA" examples/game_loop.lua 5 json || fail game
    done
  else fail game; fi
  # 6b. A process's first TLS connection, inside one non-blocking step: the trust store is
  # read then (a throwaway certificate the system does not trust; see bench/tls_first.c).
  if make_cert cert6 && start_emu --tls-cert "$TMP/cert6.pem" --tls-key "$TMP/cert6-key.pem"; then
    for _ in 1 2 3 4 5; do
      emit tls_first.jsonl "$OUT/tls_first" "${EMU_URL%/v1}/health" curl || fail tls_first
      emit tls_first.jsonl "$OUT/tls_first" "${EMU_URL%/v1}/health" seedream || fail tls_first
    done
  else fail tls_first; fi
  stop_emu
fi

# 4. Reference images: 14 files of 10 MB through core.prepare; raw C base64 as reference.
if want 4; then
  echo "  4. reference images: 14 x 10 MB through prepare; raw base64" >&2
  mkdir -p "$TMP/refs"
  if emit refs_make.jsonl "$LUA" bench/refs.lua make "$TMP/refs" 14 10000000; then
    for _ in 1 2 3; do
      emit refs.jsonl "$LUA" bench/refs.lua encode "$TMP/refs" 14 || fail refs
    done
  else fail refs; fi
  rm -rf "$TMP/refs"
  emit b64.jsonl "$OUT/b64" 140 3 || fail b64
fi

# 5. Downloads: 100 generated 2048x2048 JPGs, client:download vs curl --parallel (16).
if want 5; then
  echo "  5. downloads: 100 images, seedream vs curl --parallel-max 16" >&2
  if start_emu; then
    mkdir -p "$TMP/dl"
    emit downloads.jsonl "$LUA" bench/downloads.lua "$EMU_URL" "$KEY" "$TMP/dl" 100 3 \
      || fail downloads
  else fail downloads; fi
  stop_emu
fi

T1=$(date +%s)
"$LUA" bench/report.lua "$OUT" "$((T1 - T0))" "$FAILED" || FAILED="$FAILED report"
if [ -n "$FAILED" ]; then
  echo "bench: FAILED:$FAILED" >&2
  exit 1
fi
exit 0
