-- bench/polls.lua: benchmark 3, HTTP requests per poll cycle with K async tasks in flight.
--
--   lua5.4 bench/polls.lua URL KEY K
--
-- Against an emulator with --latency-ms (2000 in run.sh): submits K async tasks
-- (max_in_flight = K, default poll options) and waits for all of them. Reads the emulator's
-- GET /stats before and after (poll_requests: POSTs carrying getResponse tasks; polls:
-- getResponse tasks) and the client's stats() (poll_requests: poll cycles, one batched POST
-- each; polls: tasks polled, summed over cycles). Prints one JSON line; the target is
-- requests per cycle = emulator poll_requests / client poll cycles = exactly 1.
local seedream = require "seedream"
local core = require "seedream.core"

local url, key, k = arg[1], arg[2], tonumber(arg[3])
assert(url and key and k, "usage: polls.lua URL KEY K")
local base = url:gsub("/v1/?$", "")

local client = assert(seedream.client {
  url = url, api_key = key, max_in_flight = k, delivery = "async", timeout = 120,
})

local function server_stats()
  local body = assert(client:fetch(base .. "/stats", nil, nil, 10):wait())
  local out = {}
  for name, v in body:gmatch('"([%w_]+)":([%d.]+)') do out[name] = tonumber(v) end
  return out
end

local before = server_stats()
local w0, c0 = core.now(), os.clock()
local tasks = {}
for i = 1, k do
  tasks[i] = assert(client:submit { positivePrompt = "poll bench " .. i, width = 2048,
                                    height = 2048 })
end
local _, errs = seedream.wait_all(tasks)
local w1, c1 = core.now(), os.clock()
local after = server_stats()
local failed, first_err = 0, nil
for i = 1, k do
  if errs[i] then failed = failed + 1; first_err = first_err or tostring(errs[i]) end
end
local s = client:stats()
client:close()
local d_req = after.poll_requests - before.poll_requests
local d_polls = after.polls - before.polls
io.write(string.format(
  '{"k":%d,"ok":%d,"failed":%d,"wall_s":%.3f,"cpu_s":%.3f,' ..
  '"client_cycles":%d,"client_polls":%d,"server_poll_requests":%d,"server_polls":%d,' ..
  '"server_requests":%d%s}\n',
  k, k - failed, failed, w1 - w0, c1 - c0, s.poll_requests, s.polls, d_req, d_polls,
  after.requests - before.requests,
  first_err and (',"error":"' .. first_err:gsub('[%c"\\]', " ") .. '"') or ""))
os.exit(failed == 0 and 0 or 1)
