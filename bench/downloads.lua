-- bench/downloads.lua: benchmark 5, downloading 100 images: client:download vs curl.
--
--   lua5.4 bench/downloads.lua URL KEY DIR [N [REPS]]
--
-- Generates N (100) 2048x2048 JPG images through the emulator with client:generate (one
-- coroutine each, 16 on the wire at a time), fetches every URL once with curl (the emulator renders an image
-- on its first GET and caches it: this warm-up makes both sides measure transfer, not
-- rendering), then alternates REPS (3) times:
--   curl:     curl --parallel --parallel-max 16 -s --no-progress-meter --fail
--             -o DIR/c/<i>.jpg URL ... (one process; curl 7.88 draws its parallel progress
--             meter despite -s, hence --no-progress-meter)
--   seedream: a fresh client, client:download(images, DIR/s) (16 connections)
-- Both start with no open connection; curl's time includes starting its process. The best
-- wall time of each is reported, with the total bytes. Prints one JSON line.
local seedream = require "seedream"
local core = require "seedream.core"

local url, key, dir = arg[1], arg[2], arg[3]
local n, reps = tonumber(arg[4]) or 100, tonumber(arg[5]) or 3
assert(url and key and dir, "usage: downloads.lua URL KEY DIR [N [REPS]]")

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- 1. generate
local gen = assert(seedream.client { url = url, api_key = key, max_in_flight = 16 })
local tg = core.now()
local images = seedream.run(function()
  local jobs, out = {}, {}
  for i = 1, n do
    jobs[i] = gen:spawn(function()
      return assert(gen:generate { positivePrompt = ("download bench image %d"):format(i),
                                   width = 2048, height = 2048, outputFormat = "JPG" })[1]
    end)
  end
  for i, job in ipairs(jobs) do out[i] = assert(job:wait()) end
  return out
end)
tg = core.now() - tg
gen:close()

-- 2. the curl command line (URLs come from the emulator: they are plain http://127.0.0.1
-- URLs without quotes or spaces, checked here anyway)
local function curl_cmd(sub)
  local parts = { "curl --parallel --parallel-max 16 -s --no-progress-meter --fail" }
  for i, img in ipairs(images) do
    assert(img.imageURL:match("^http://127%.0%.0%.1:%d+/image/[%w%-]+%.jpg$"), img.imageURL)
    parts[#parts + 1] = ("-o %s/%s/%03d.jpg %s"):format(dir, sub, i, img.imageURL)
  end
  return table.concat(parts, " ")
end

local function fresh(sub)
  assert(sh(("rm -rf %s/%s && mkdir -p %s/%s"):format(dir, sub, dir, sub)))
end

local function dir_bytes(sub)
  local total, count = 0, 0
  for i = 1, n do
    local f = io.open(("%s/%s/%03d.jpg"):format(dir, sub, i), "rb")
    if f then total = total + f:seek("end"); count = count + 1; f:close() end
  end
  return total, count
end

local function time_curl()
  fresh("c")
  local cmd = curl_cmd("c")
  local t0 = core.now()
  local ok = sh(cmd)
  local t = core.now() - t0
  assert(ok, "curl failed")
  local bytes, count = dir_bytes("c")
  assert(count == n, "curl wrote " .. count .. " files")
  return t, bytes
end

local function time_seedream()
  fresh("s")
  local t0 = core.now()
  local client = assert(seedream.client { url = url, api_key = key, max_in_flight = 16 })
  local paths, errs = client:download(images, dir .. "/s")
  local t = core.now() - t0
  local s = client:stats()
  client:close()
  local bytes, count = 0, 0
  for i = 1, n do
    assert(paths[i], errs[i] and tostring(errs[i]))
    local f = assert(io.open(paths[i], "rb"))
    bytes = bytes + f:seek("end"); count = count + 1
    f:close()
  end
  return t, bytes, s.http_connects
end

-- 3. warm-up: every image rendered and cached by the emulator
fresh("w")
local tw = core.now()
assert(sh(curl_cmd("w")), "warm-up curl failed")
tw = core.now() - tw

-- 4. alternate, best of reps
local best_c, best_s, bytes_c, bytes_s, connects = math.huge, math.huge, 0, 0, 0
local runs_c, runs_s = {}, {}
for _ = 1, reps do
  local t, b = time_curl()
  runs_c[#runs_c + 1] = t
  if t < best_c then best_c, bytes_c = t, b end
  local t2, b2, c2 = time_seedream()
  runs_s[#runs_s + 1] = t2
  if t2 < best_s then best_s, bytes_s, connects = t2, b2, c2 end
end
sh(("rm -rf %s/c %s/s %s/w"):format(dir, dir, dir))

local function list(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = ("%.4f"):format(v) end
  return "[" .. table.concat(out, ",") .. "]"
end
io.write(string.format(
  '{"n":%d,"generate_s":%.3f,"warmup_s":%.3f,"curl_s":%.4f,"seedream_s":%.4f,' ..
  '"curl_bytes":%d,"seedream_bytes":%d,"seedream_connects":%d,"curl_runs":%s,' ..
  '"seedream_runs":%s}\n',
  n, tg, tw, best_c, best_s, bytes_c, bytes_s, connects or -1, list(runs_c), list(runs_s)))
