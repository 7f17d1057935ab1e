#!/bin/sh
# `make demo`: starts a private emulator on a free port, runs the examples against it and
# leaves the images in out/demo. Uses nothing but localhost.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/out/demo"
rm -rf "$OUT"; mkdir -p "$OUT"
KEY="demo-key-$$"
LOG="$OUT/emulator.log"
./build/seedream-emulator --port 0 --api-key "$KEY" --quiet >"$LOG" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null' EXIT INT TERM
URL=""; n=0
while [ -z "$URL" ] && [ $n -lt 100 ]; do
  URL=$(head -n 1 "$LOG" | grep -E '^http://' || true); n=$((n + 1)); sleep 0.05
done
[ -n "$URL" ] || { echo "the emulator did not start:"; cat "$LOG"; exit 1; }
echo "emulator: $URL"
export RUNWARE_API_URL="$URL" RUNWARE_API_KEY="$KEY"
export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/build/?.so;;"
echo "== the four example requests of the API reference"
lua5.4 examples/seed_requests.lua "$OUT/seed_requests"
if [ -f examples/series_refine.lua ]; then
  echo "== a storyboard series, then each frame refined"
  lua5.4 examples/series_refine.lua "$OUT/series_refine"
fi
echo
echo "images: $OUT"
ls -1 "$OUT"/*/* 2>/dev/null | sed 's/^/  /'
[ -f "$OUT/series_refine/gallery.html" ] && echo "gallery: $OUT/series_refine/gallery.html"
exit 0
