-- bench/rss.lua: benchmark 2, peak RSS of one client with many tasks in flight.
--
--   lua5.4 bench/rss.lua URL KEY N async|sync
--
-- Submits N tasks with max_in_flight = N against an emulator started with a long
-- --latency-ms (so that they stay in flight), steps until every task is in flight, reads
-- VmHWM/VmRSS from /proc/self/status there, then waits for all of them and reads VmHWM again.
--   async: delivery = "async", poll.min = 0.5; "in flight" = every task acknowledged and
--          being polled (status "processing").
--   sync:  N open HTTP requests; "in flight" = every task sent and the emulator reports N
--          tasks in flight (GET /stats, fetched on the client's spare connection).
-- Prints one JSON line. The baseline (a bare `require "seedream"` process) is measured by
-- run.sh in a separate process.
local seedream = require "seedream"
local core = require "seedream.core"

local url, key, n, mode = arg[1], arg[2], tonumber(arg[3]), arg[4]
assert(url and key and n and (mode == "async" or mode == "sync"),
       "usage: rss.lua URL KEY N async|sync")
local base = url:gsub("/v1/?$", "")

local status_kb = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/common.lua").status_kb

local w0, c0 = core.now(), os.clock()
local client = assert(seedream.client {
  url = url, api_key = key, max_in_flight = n, delivery = mode,
  poll = { min = 0.5 }, timeout = 120,
})
local tasks = {}
for i = 1, n do
  tasks[i] = assert(client:submit { positivePrompt = "bench prompt " .. i, width = 2048,
                                    height = 2048 })
end

local function all(status)
  for _, t in ipairs(tasks) do if t.status ~= status then return false end end
  return true
end

local function server_in_flight()
  local body = client:fetch(base .. "/stats", nil, nil, 10):wait()
  return tonumber(body and body:match('"in_flight":(%d+)')) or -1
end

local reached, server_n = false, -1
local give_up = core.now() + 60
while core.now() < give_up do
  client:step(0.01)
  if mode == "async" then
    if all("processing") then reached = true break end
  elseif all("sent") then
    server_n = server_in_flight()
    if server_n >= n then reached = true break end
  end
  local done = 0
  for _, t in ipairs(tasks) do if t:done() then done = done + 1 end end
  if done > 0 then break end           -- the latency was too short to see them all in flight
end
local at_peak = status_kb()
local lua_heap_kb = collectgarbage("count")
local w1, c1 = core.now(), os.clock()
local s1 = client:stats()

while client:step(0.5) > 0 do end
local w2, c2 = core.now(), os.clock()
local after = status_kb()
local ok, failed, first_err = 0, 0, nil
for _, t in ipairs(tasks) do
  local images, err = t:result()
  if images and #images == 1 then ok = ok + 1
  else failed = failed + 1; first_err = first_err or tostring(err) end
end
local s2 = client:stats()
client:close()
io.write(string.format(
  '{"mode":"%s","n":%d,"reached_all_in_flight":%s,"server_in_flight":%d,' ..
  '"hwm_in_flight_kb":%d,"rss_in_flight_kb":%d,"hwm_done_kb":%d,"rss_done_kb":%d,' ..
  '"t_all_in_flight_s":%.3f,"t_all_done_s":%.3f,"ok":%d,"failed":%d,"connects":%d,' ..
  '"poll_requests":%d,"in_flight_at_peak":%d,"cpu_to_in_flight_s":%.3f,"cpu_waiting_s":%.3f,' ..
  '"lua_heap_in_flight_kb":%.0f%s}\n',
  mode, n, tostring(reached), server_n, at_peak.VmHWM, at_peak.VmRSS, after.VmHWM, after.VmRSS,
  w1 - w0, w2 - w0, ok, failed, s2.http_connects or -1, s2.poll_requests or -1,
  s1.in_flight or -1, c1 - c0, c2 - c1, lua_heap_kb,
  first_err and (',"error":"' .. first_err:gsub('[%c"\\]', " ") .. '"') or ""))
os.exit(failed == 0 and reached and 0 or 1)
