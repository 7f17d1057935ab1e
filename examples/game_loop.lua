-- A fixed 60 fps loop that keeps 50 generations in flight with client:step(0) and reports
-- the worst time a frame spent inside the client.
--   lua5.4 examples/game_loop.lua [seconds [json [budget_ms]]]
--   (RUNWARE_API_URL / RUNWARE_API_KEY)
-- With "json" the figures also end the output as one JSON line (bench/run.sh reads it).
-- budget_ms: step(0, budget) hands results over for at most about that long per frame.
local seedream = require "seedream"
local core = require "seedream.core"

local SECONDS = tonumber(arg[1]) or 5
local BUDGET = tonumber(arg[3]) and tonumber(arg[3]) / 1000
local IN_FLIGHT = 50
local FRAME = 1 / 60

local client = assert(seedream.client { max_in_flight = IN_FLIGHT, delivery = "async",
                                        poll = { first = 0.2, min = 0.1, max = 1 } })
local start = core.now()
local landed, worst, frames, submitted, worst_frame = 0, 0, 0, 0, 0
local times, cpus = {}, {}   -- wall and CPU seconds spent inside step, per frame
local live = {}
local arrived = {}        -- filled by on_image inside step; printed by the "game" after it

local function top_up()
  while #live < IN_FLIGHT do
    submitted = submitted + 1
    local task = assert(client:submit({ positivePrompt = "game asset #" .. submitted,
      width = 2048, height = 2048 }, { on_image = function(img)
        arrived[#arrived + 1] = img
      end }))
    live[#live + 1] = task
  end
end

while core.now() - start < SECONDS do
  local frame_start = core.now()
  top_up()
  local t0, c0 = core.now(), os.clock()
  client:step(0, BUDGET)               -- never blocks: all I/O that is ready, nothing more
  local spent, cpu = core.now() - t0, os.clock() - c0
  if spent > worst then worst, worst_frame = spent, frames + 1 end
  times[#times + 1], cpus[#cpus + 1] = spent, cpu
  for _, img in ipairs(arrived) do
    landed = landed + 1
    print(("%7.3f s  image %d landed (%s)"):format(core.now() - start, landed, img.imageUUID))
  end
  arrived = {}
  for i = #live, 1, -1 do
    if live[i]:done() then table.remove(live, i) end
  end
  frames = frames + 1
  -- the "game" renders, then sleeps out the rest of its frame
  local left = FRAME - (core.now() - frame_start)
  if left > 0 then core.sleep(left) end
end
for _, t in ipairs(live) do t:cancel() end
local function pct(list, p)
  table.sort(list)
  return list[math.max(1, math.ceil(#list * p))] * 1000
end
print(("%d frames, %d images landed, worst frame time inside the client: %.3f ms")
  :format(frames, landed, worst * 1000))
print(("inside step(0) per frame: wall median %.3f ms, p99 %.3f ms; CPU median %.3f ms, "
  .. "p99 %.3f ms, max %.3f ms"):format(pct(times, 0.5), pct(times, 0.99), pct(cpus, 0.5),
  pct(cpus, 0.99), pct(cpus, 1)))
if arg[2] == "json" then
  print(('{"frames":%d,"images":%d,"wall_max_ms":%.3f,"wall_p99_ms":%.3f,"wall_median_ms":%.3f,'
    .. '"cpu_max_ms":%.3f,"cpu_p99_ms":%.3f,"worst_frame":%d}'):format(frames, landed,
    worst * 1000, pct(times, 0.99), pct(times, 0.5), pct(cpus, 1), pct(cpus, 0.99), worst_frame))
end
client:close()
