-- bench/tasks.lua: benchmark 1, the seedream side: N sync tasks through the client.
--
--   lua5.4 bench/tasks.lua URL KEY N CONCURRENCY
--
-- client:submit for all N requests (max_in_flight = CONCURRENCY), then client:step(0.05)
-- until nothing is active; every task must be done with exactly one image. CPU is
-- os.clock() (process CPU time, user+sys) and wall time core.now() (monotonic), both over
-- the span from creating the client to the last result, the same span raw_multi measures.
-- Prints one JSON line.
local seedream = require "seedream"
local core = require "seedream.core"

local url, key, n, conc = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
assert(url and key and n and conc, "usage: tasks.lua URL KEY N CONCURRENCY")

local c0, w0 = os.clock(), core.now()
local client = assert(seedream.client { url = url, api_key = key, max_in_flight = conc })
local tasks = {}
for i = 1, n do
  tasks[i] = assert(client:submit { positivePrompt = "bench prompt", width = 2048, height = 2048 })
end
local steps = 0
while client:step(0.05) > 0 do steps = steps + 1 end
local c1, w1 = os.clock(), core.now()

local ok, failed, first_err = 0, 0, nil
for _, t in ipairs(tasks) do
  local images, err = t:result()
  if images and #images == 1 and images[1].imageURL then ok = ok + 1
  else
    failed = failed + 1
    first_err = first_err or tostring(err or ("task has " .. #(images or {}) .. " images"))
  end
end
local s = client:stats()
client:close()
local cpu, wall = c1 - c0, w1 - w0
io.write(string.format(
  '{"n":%d,"concurrency":%d,"ok":%d,"failed":%d,"cpu_s":%.6f,"wall_s":%.6f,' ..
  '"cpu_us_per_task":%.3f,"steps":%d,"connects":%d,"retries":%d%s}\n',
  n, conc, ok, failed, cpu, wall, cpu / n * 1e6, steps, s.http_connects or -1,
  s.http_retries or -1,
  first_err and (',"error":"' .. first_err:gsub('[%c"\\]', " ") .. '"') or ""))
os.exit(failed == 0 and 0 or 1)
