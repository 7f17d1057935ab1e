-- bench/report.lua: turns the JSON lines written by bench/run.sh into the table on stdout
-- and build/bench/results.json.
--
--   lua5.4 bench/report.lua OUTDIR [SECONDS [FAILED]]
local cjson = require "cjson"

local dir, seconds, failed = arg[1] or "build/bench", tonumber(arg[2]), arg[3] or ""
local null = cjson.null

local function lines(name)
  local out = {}
  local f = io.open(dir .. "/" .. name, "r")
  if not f then return out end
  for l in f:lines() do
    local ok, v = pcall(cjson.decode, l)
    if ok and type(v) == "table" then out[#out + 1] = v end
  end
  f:close()
  return out
end

local function best(list, key)
  local b
  for _, v in ipairs(list) do
    if type(v[key]) == "number" and (not b or v[key] < b[key]) then b = v end
  end
  return b
end

-- The run with the median value of key (the lower middle one of an even count).
local function median(list, key)
  local sorted = {}
  for _, v in ipairs(list) do
    if type(v[key]) == "number" then sorted[#sorted + 1] = v end
  end
  if #sorted == 0 then return nil end
  table.sort(sorted, function(a, b) return a[key] < b[key] end)
  return sorted[(#sorted + 1) // 2]
end

local function sh1(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local s = p:read("l")
  p:close()
  return s
end

local function ratio(a, b)
  if type(a) ~= "number" or type(b) ~= "number" or b == 0 then return nil end
  return a / b
end

local function verdict(ok)
  if ok == nil then return "n/a" end
  return ok and "ok" or "MISSED"
end

local MB = 1e6
local function mb(kb) return kb and kb * 1024 / MB end   -- /proc reports KiB

local results = {
  meta = {
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    cpus = tonumber(sh1("nproc")),
    cpu_model = (sh1("grep -m1 'model name' /proc/cpuinfo") or ""):gsub("^.-:%s*", ""),
    lua = _VERSION,
    curl = sh1("curl --version | head -n 1 | cut -d' ' -f1-2"),
    commit = sh1("git rev-parse --short HEAD"),
    dirty = (sh1("git status --porcelain -- core lua emulator | head -n 1") or "") ~= "",
    seconds = seconds,
    loadavg = (sh1("cat /proc/loadavg") or ""):match("^(%S+ %S+ %S+)"),
    failed = failed ~= "" and failed or nil,
    units = "s = seconds (wall unless cpu_*), MB = 10^6 bytes, kb = KiB from /proc",
  },
}
local out = {}
local function p(fmt, ...) out[#out + 1] = fmt:format(...) end
local function na(v, fmt) return type(v) == "number" and fmt:format(v) or "-" end

local m = results.meta
p("seedream benchmarks  %s  commit %s%s  %d CPU(s)  %s  %s", m.date, m.commit or "?",
  m.dirty and "+dirty" or "", m.cpus or 0, m.lua, m.curl or "")
p("load average at the end %s (other work on the machine adds noise: compare ratios, not times)",
  m.loadavg or "?")
p("emulator: build/seedream-emulator on 127.0.0.1 (a separate process: its CPU is counted for nobody)")

local base_list = lines("base.jsonl")
local base = best(base_list, "hwm_kb")
local base_kb = base and base.hwm_kb

-- 1 -----------------------------------------------------------------------------------
-- The programs' runs, read from <name><suffix>.jsonl ("" over plain HTTP, "_tls" over
-- HTTPS, "_h2" over HTTP/2 + TLS); the target is judged on plain HTTP, as the issue sets it.
local function tasks_section(suffix, title, judged)
  local function list(name) return lines(name .. suffix .. ".jsonl") end
  local files = { raw = "raw", raw_sdopts = "raw_sdopts", core_http = "core_http",
                  lua_floor = "lua_floor", lua_work = "lua_work", seedream = "tasks",
                  raw_nomux = "raw_nomux" }
  local top, med = {}, {}
  for who, name in pairs(files) do
    top[who], med[who] = best(list(name), "cpu_s"), median(list(name), "cpu_s")
  end
  local raw, sd = top.raw, top.seedream
  if not (raw or sd) then return nil end
  local emu = {}
  for _, e in ipairs(lines("emu_cpu.jsonl")) do
    local t = emu[e.who] or { ticks = 0, runs = 0 }
    t.ticks, t.runs, t.tck = t.ticks + e.ticks, t.runs + 1, e.tck
    emu[e.who] = t
  end
  local n = (raw or sd).n
  local function emu_us(who)
    local t = emu[who .. suffix]
    if not t or t.runs == 0 then return nil end
    return t.ticks / t.tck / (t.runs * n) * 1e6
  end
  local r = ratio(sd and sd.cpu_s, raw and raw.cpu_s)
  local rm = ratio(med.seedream and med.seedream.cpu_s, med.raw and med.raw.cpu_s)
  local rw = ratio(sd and sd.wall_s, raw and raw.wall_s)
  local out = { n = n, concurrency = (raw or sd).concurrency, best = top, median = med,
                cpu_ratio = r, cpu_ratio_median = rm, wall_ratio = rw, emulator_cpu_us_per_task = {} }
  for who in pairs(files) do
    out.emulator_cpu_us_per_task[who] = emu_us(who)
    out["cpu_ratio_" .. who] = ratio(top[who] and top[who].cpu_s, raw and raw.cpu_s)
  end
  if judged then
    out.target_cpu_ratio = 1.2
    out.met = (r and r <= 1.2 and rm and rm <= 1.2) or false
  end
  p("")
  p(title, n, (raw or sd).concurrency, #list("tasks"))
  p("   %-40s %10s %8s %10s %9s %8s %9s", "", "CPU/task", "x floor", "median", "x floor",
    "wall", "emu/task")
  local function row(label, who)
    local v, m = top[who], med[who]
    if not v then return end
    p("   %-40s %7.1f us %8s %7.1f us %9s %7.4f s %6s us", label, v.cpu_us_per_task,
      na(ratio(v.cpu_s, raw and raw.cpu_s), "%.2f"), m and m.cpu_us_per_task or 0 / 0,
      na(ratio(m and m.cpu_s, med.raw and med.raw.cpu_s), "%.2f"), v.wall_s,
      na(emu_us(who), "%.0f"))
  end
  if top.raw_nomux then
    row("raw libcurl multi + PIPEWAIT (the floor)", "raw")
    row("  raw libcurl, a connection per request", "raw_nomux")
  else
    row("raw libcurl multi (the floor)", "raw")
  end
  row("  + seedream's curl options (raw C)", "raw_sdopts")
  row("seedream C transport alone (sd_http)", "core_http")
  row("Lua loop over the binding, no client", "lua_floor")
  row("  + validation, JSON, answer decoding", "lua_work")
  row("seedream Lua client (submit + step)", "seedream")
  if judged then
    p("   ratio seedream/raw: CPU %sx best, %sx median (target <= 1.20x: %s), wall %sx",
      na(r, "%.2f"), na(rm, "%.2f"), verdict(r and r <= 1.2 and rm and rm <= 1.2), na(rw, "%.2f"))
    p("   (CPU = user+sys of the client process, best and median run; emu/task = the emulator's")
    p("   CPU per task, not counted. The Lua loop row sends the floor's bodies through")
    p("   core.http with no validation, tasks or parsing: the least any Lua client can cost;")
    p("   the row under it adds only the per-task work the issue requires of a client:")
    p("   core.prepare (validation, taskUUID, JSON) and core.answer (decoding), no bookkeeping.)")
  else
    p("   ratio seedream/raw: CPU %sx best, %sx median, wall %sx (for comparison; not judged)",
      na(r, "%.2f"), na(rm, "%.2f"), na(rw, "%.2f"))
  end
  return out
end

results.tasks = tasks_section("",
  "1. %d sync tasks, %d in flight, zero-latency emulator (%d interleaved runs of each)", true)
results.tasks_tls = tasks_section("_tls",
  "1b. the same over HTTPS (HTTP/1.1 + TLS, emulator with a test certificate; %d tasks, %d in "
  .. "flight, %d runs)", false)
results.tasks_h2 = tasks_section("_h2",
  "1c. the same over HTTP/2 + TLS, the real API's protocol (nghttpx in front of the emulator; "
  .. "%d tasks, %d in flight, %d runs)", false)

-- 2 -----------------------------------------------------------------------------------
local rss = lines("rss.jsonl")
local raw_rss = lines("raw_rss.jsonl")
if #rss > 0 or base_kb then
  local floor1, floorN
  for _, r in ipairs(raw_rss) do
    if r.concurrency == 1 then floor1 = r else floorN = r end
  end
  local floor_per = floor1 and floorN and (floorN.hwm_first_done_kb - floor1.hwm_first_done_kb) / floorN.n
  results.rss = { baseline_hwm_kb = base_kb, target_mb = 32, runs = {},
                  raw_libcurl = { one = floor1, many = floorN, per_request_kb = floor_per } }
  p("")
  p("2. Peak RSS (VmHWM) with 1,000 tasks in flight (emulator latency 3 s)")
  p("   %-44s %9s %9s %8s %13s", "", "VmHWM", "+ base", "KB/task", "target")
  if base_kb then
    p("   %-44s %6.1f MB", "baseline: lua5.4 -e 'require \"seedream\"'", mb(base_kb))
  end
  for _, r in ipairs(rss) do
    local peak = r.hwm_in_flight_kb
    local ok = r.reached_all_in_flight and mb(peak) <= 32
    local entry = { mode = r.mode, reached_all_in_flight = r.reached_all_in_flight,
      hwm_in_flight_kb = peak, hwm_done_kb = r.hwm_done_kb,
      delta_in_flight_kb = base_kb and peak - base_kb, delta_done_kb = base_kb and r.hwm_done_kb - base_kb,
      ratio_to_baseline = ratio(peak, base_kb), per_task_kb = base_kb and (peak - base_kb) / r.n,
      per_task_vs_libcurl = base_kb and floor_per and ratio((peak - base_kb) / r.n, floor_per),
      lua_heap_kb = r.lua_heap_in_flight_kb, met = ok, raw = r }
    results.rss.runs[#results.rss.runs + 1] = entry
    local label = r.mode == "async" and "seedream async: all acknowledged, polled"
                  or "seedream sync: 1,000 requests open"
    p("   %-44s %6.1f MB %6.1f MB %8.1f %13s", label, mb(peak), mb(entry.delta_in_flight_kb or 0),
      entry.per_task_kb or 0, "<=32 MB: " .. verdict(ok))
    p("   %-44s %6.1f MB %6.1f MB", "  ... after all are done", mb(r.hwm_done_kb),
      mb(entry.delta_done_kb or 0))
    if not r.reached_all_in_flight then
      p("   %-44s NOT all in flight at once (server saw %d)", "", r.server_in_flight)
    end
  end
  if floor1 and floorN then
    p("   %-44s %6.1f MB", "floor: raw libcurl, 1 request on the wire", mb(floor1.hwm_first_done_kb))
    p("   %-44s %6.1f MB %6.1f MB %8.1f", "floor: raw libcurl, 1,000 requests open",
      mb(floorN.hwm_first_done_kb), mb(floorN.hwm_first_done_kb - floor1.hwm_first_done_kb), floor_per)
  end
  for _, e in ipairs(results.rss.runs) do
    p("   %-5s %.1f KB/task in flight = %sx libcurl's own per request; Lua heap %.1f MB;",
      e.mode .. ":", e.per_task_kb or 0, na(e.per_task_vs_libcurl, "%.2f"), (e.lua_heap_kb or 0) / 1024)
    p("         all in flight after %.2f s, all done after %.2f s; client CPU %.2f s in the %.2f s wait",
      e.raw.t_all_in_flight_s, e.raw.t_all_done_s, e.raw.cpu_waiting_s or 0,
      e.raw.t_all_done_s - e.raw.t_all_in_flight_s)
  end
end

-- 3 -----------------------------------------------------------------------------------
local polls = lines("polls.jsonl")
if #polls > 0 then
  results.polls = { target_requests_per_cycle = 1, runs = {} }
  p("")
  p("3. HTTP requests per poll cycle, K async tasks in flight (emulator latency 2 s)")
  p("   %6s %7s %10s %10s %10s %11s %8s %8s %8s %8s", "K", "cycles", "poll POSTs", "req/cycle",
    "tasks/POST", "tasks/cycle", "submits", "wall", "CPU", "target")
  local all_ok = true
  for _, r in ipairs(polls) do
    local rpc = ratio(r.server_poll_requests, r.client_cycles)
    local ok = rpc == 1 and r.failed == 0
    all_ok = all_ok and ok
    local submits = r.server_requests - r.server_poll_requests
    results.polls.runs[#results.polls.runs + 1] = { k = r.k, requests_per_cycle = rpc,
      tasks_per_request = ratio(r.server_polls, r.server_poll_requests),
      tasks_per_cycle = ratio(r.client_polls, r.client_cycles), submit_requests = submits,
      met = ok, raw = r }
    p("   %6d %7d %10d %10s %10s %11s %8d %6.2f s %6.2f s %8s", r.k, r.client_cycles,
      r.server_poll_requests, na(rpc, "%.2f"), na(ratio(r.server_polls, r.server_poll_requests), "%.1f"),
      na(ratio(r.client_polls, r.client_cycles), "%.1f"), submits, r.wall_s, r.cpu_s, verdict(ok))
  end
  p("   (req/cycle = the emulator's getResponse POSTs / the client's poll cycles; submits = the")
  p("   other POSTs, i.e. the K tasks' own submissions; CPU = the client's, over the wall time)")
  results.polls.met = all_ok
end

-- 4 -----------------------------------------------------------------------------------
local refs, b64 = lines("refs.jsonl"), best(lines("b64.jsonl"), "best_s")
if #refs > 0 or b64 then
  local r = best(refs, "wall_s")
  local hwm = best(refs, "hwm_after_kb")
  results.refs = { target_mb_s = 1000, target_rss_ratio = 1.5, raw_c = b64, runs = refs }
  p("")
  p("4. Reference images: 14 files x 10 MB (JPEG header + random bytes) through core.prepare")
  if r then
    local mbs = r.body_bytes / r.wall_s / MB
    local delta = base_kb and hwm.hwm_after_kb - base_kb
    local rr = delta and ratio(delta * 1024, r.body_bytes)
    local own = ratio((hwm.hwm_after_kb - hwm.hwm_before_kb) * 1024, r.body_bytes)
    results.refs.body_bytes, results.refs.input_bytes = r.body_bytes, r.input_bytes
    results.refs.prepare_s, results.refs.prepare_cpu_s = r.wall_s, r.cpu_s
    results.refs.encoded_mb_s = mbs
    results.refs.rss_delta_kb, results.refs.rss_ratio = delta, rr
    results.refs.rss_ratio_own_before = own
    results.refs.speed_met = mbs >= 1000
    results.refs.rss_met = rr and rr <= 1.5
    p("   request body %.1f MB (%d data URIs) from %.1f MB of files", r.body_bytes / MB,
      r.data_uris, r.input_bytes / MB)
    p("   %-40s %10s %12s %10s", "", "time", "encoded MB/s", "target")
    p("   %-40s %8.3f s %12.0f %10s", "seedream core.prepare (best of " .. #refs .. ")", r.wall_s, mbs,
      ">=1000: " .. verdict(mbs >= 1000))
    if b64 then
      p("   %-40s %8.3f s %12.0f", "raw sd_base64_encode, 140 MB in memory (C)", b64.best_s,
        b64.encoded_mb_s)
      results.refs.ratio_to_raw_c = ratio(b64.encoded_mb_s, mbs)
      p("   %-40s %22s", "ratio raw C / seedream prepare", na(ratio(b64.encoded_mb_s, mbs), "%.2fx"))
    end
    p("   peak RSS: %.1f MB = baseline %.1f MB + %.1f MB; %.2fx the body (target <= 1.5x: %s)",
      mb(hwm.hwm_after_kb), mb(base_kb or 0), mb(delta or 0), rr or 0, verdict(rr and rr <= 1.5))
  elseif b64 then
    p("   raw sd_base64_encode: %.0f MB/s (seedream run failed)", b64.encoded_mb_s)
  end
end

-- 5 -----------------------------------------------------------------------------------
local dl = lines("downloads.jsonl")[1]
if dl then
  local r = ratio(dl.seedream_s, dl.curl_s)
  results.downloads = { n = dl.n, curl_s = dl.curl_s, seedream_s = dl.seedream_s, ratio = r,
                        bytes = dl.curl_bytes, raw = dl }
  p("")
  p("5. Downloads: %d images 2048x2048 JPG (%.1f MB), 16 at a time, emulator cache warm", dl.n,
    dl.curl_bytes / MB)
  p("   %-40s %10s %10s", "", "wall", "MB/s")
  p("   %-40s %8.4f s %10.0f", "curl --parallel --parallel-max 16", dl.curl_s,
    dl.curl_bytes / dl.curl_s / MB)
  p("   %-40s %8.4f s %10.0f", "seedream client:download", dl.seedream_s,
    dl.seedream_bytes / dl.seedream_s / MB)
  p("   ratio seedream/curl: %sx (best of %d each; the one-time render warm-up took %.1f s)",
    na(r, "%.2f"), #dl.curl_runs, dl.warmup_s)
end

-- 6 -----------------------------------------------------------------------------------
local pinned, shared = lines("game_pinned.jsonl"), lines("game_shared.jsonl")
if #pinned + #shared > 0 then
  local function worst(list, key)
    local w
    for _, v in ipairs(list) do
      if type(v[key]) == "number" and (not w or v[key] > w) then w = v[key] end
    end
    return w
  end
  local pw, sw = worst(pinned, "wall_max_ms"), worst(shared, "wall_max_ms")
  results.game_loop = { target_ms = 2, pinned = pinned, shared = shared,
                        worst_wall_ms_pinned = pw, worst_wall_ms_shared = sw,
                        met = pw ~= nil and pw < 2 }
  p("")
  p("6. Game loop: examples/game_loop.lua, 60 fps, 50 in flight, emulator latency 50 ms")
  p("   time inside client:step(0) per frame, the worst of all runs (ms)")
  p("   %-40s %5s %8s %8s %8s %8s %8s", "", "runs", "frames", "wall max", "wall p99", "CPU max",
    "CPU p99")
  local function row(label, list)
    if #list == 0 then return end
    local frames = 0
    for _, v in ipairs(list) do frames = frames + v.frames end
    p("   %-40s %5d %8d %8.3f %8.3f %8.3f %8.3f", label, #list, frames, worst(list, "wall_max_ms"),
      worst(list, "wall_p99_ms"), worst(list, "cpu_max_ms"), worst(list, "cpu_p99_ms"))
  end
  row("emulator on its own core (taskset)", pinned)
  row("emulator sharing the game's cores", shared)
  local pm = median(pinned, "wall_max_ms")
  results.game_loop.median_run_worst_ms_pinned = pm and pm.wall_max_ms
  p("   worst frame inside the client, emulator on its own core: %s ms (target < 2 ms: %s);",
    na(pw, "%.3f"), verdict(pw and pw < 2))
  p("   the median run's worst frame: %s ms", na(pm and pm.wall_max_ms, "%.3f"))
  p("   (the API server never runs on the player's machine; the shared row shows this 2-core")
  p("   machine when the emulator's rendering competes with the game for a core)")
end

local first = lines("tls_first.jsonl")
if #first > 0 then
  local by = { curl = {}, seedream = {} }
  for _, v in ipairs(first) do
    if by[v.mode] then by[v.mode][#by[v.mode] + 1] = v end
  end
  local c, s = median(by.curl, "worst_step_ms"), median(by.seedream, "worst_step_ms")
  results.tls_first = { curl = by.curl, seedream = by.seedream,
                        median_worst_step_ms_curl = c and c.worst_step_ms,
                        median_worst_step_ms_seedream = s and s.worst_step_ms }
  p("")
  p("6b. A process's first TLS connection: CPU of the longest non-blocking step (median of %d)",
    #by.seedream)
  p("   %-40s %8s %8s", "", "step", "total")
  if c then p("   %-40s %5.1f ms %5.1f ms", "libcurl defaults (the CA bundle)", c.worst_step_ms, c.total_ms) end
  if s then
    p("   %-40s %5.1f ms %5.1f ms", "seedream (the hashed CA directory)", s.worst_step_ms, s.total_ms)
  end
  p("   (the system does not trust the emulator's test certificate: the handshake fails after")
  p("   the trust store was read, which is the part that differs; later connections reuse it)")
end

p("")
p("total %s s%s; JSON: %s/results.json", seconds or "?", failed ~= "" and ("; FAILED:" .. failed) or "",
  dir)
print(table.concat(out, "\n"))

local f = assert(io.open(dir .. "/results.json", "w"))
f:write(cjson.encode(results), "\n")
f:close()
