-- bench/lua_floor.lua: benchmark 1's middle row: the least a Lua program can do over the
-- same binding for the same work, as a reference for the client's own cost.
--
--   lua5.4 bench/lua_floor.lua URL KEY N CONCURRENCY [work]
--
-- Sends the request bodies raw_multi sends (a template with a fresh UUID v4 each, no
-- validation), CONCURRENCY at a time, through core.http (post / perform / next), and only
-- checks each answer's HTTP status: no tasks, no parsing, no result tables. CPU and wall
-- time are measured over the same span as bench/tasks.lua. Prints one JSON line.
--
-- With "work" it also does what any client that meets the issue must do per task, and
-- nothing else: the request table validated and written as JSON with a fresh taskUUID
-- (core.prepare), the answer decoded and sorted by task (core.answer), and the task's
-- image kept in a result table that lives to the end. No queue, events, budget, journal,
-- retries by task, deadlines or callbacks: the least a validating client can cost.
local core = require "seedream.core"

local url, key, n, conc = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
assert(url and key and n and conc, "usage: lua_floor.lua URL KEY N CONCURRENCY [work]")
local work = arg[5] == "work"
-- the members core.answer keeps, as protocol.parse asks for them
local FIELDS = { status = true, error = true }
for _, k in ipairs(require("seedream.image").FIELDS) do FIELDS[k] = true end

local TEMPLATE = '[{"taskType":"imageInference","taskUUID":"%s",' ..
  '"model":"bytedance:seedream@5.0-lite","positivePrompt":"bench prompt",' ..
  '"width":2048,"height":2048}]'

local c0, w0 = os.clock(), core.now()
local http = assert(core.http { max_connections = conc + 1, ca_file = os.getenv("SEEDREAM_CA_FILE") })
local sent, ok, failed, running = 0, 0, 0, 0
local results, by_id = {}, {}
while ok + failed < n do
  while running < conc and sent < n do
    if work then
      local body, uuid = core.prepare({ positivePrompt = "bench prompt", width = 2048,
                                        height = 2048 }, true)
      local id = assert(http:post(url, key, body))
      local task = { taskUUID = uuid, images = {} }
      results[#results + 1] = task
      by_id[id] = task
    else
      assert(http:post(url, key, TEMPLATE:format(core.uuid())))
    end
    sent, running = sent + 1, running + 1
  end
  http:perform(0.05)
  while true do
    local done = http:next()
    if not done then break end
    running = running - 1
    local good = done.code == "ok" and done.status == 200
    if good and work then
      local task = by_id[done.id]
      by_id[done.id] = nil
      local out = core.answer(done.body, FIELDS)
      local items = out and out.items[task.taskUUID]
      good = items ~= nil and items[1].imageURL ~= nil
      if good then task.images[1] = items[1] end
    end
    if good then ok = ok + 1 else failed = failed + 1 end
  end
end
local c1, w1 = os.clock(), core.now()
local s = http:stats()
http:close()
io.write(string.format('{"n":%d,"concurrency":%d,"ok":%d,"failed":%d,"cpu_s":%.6f,"wall_s":%.6f,' ..
  '"cpu_us_per_task":%.3f,"connects":%d}\n', n, conc, ok, failed, c1 - c0, w1 - w0,
  (c1 - c0) / n * 1e6, s.connects or -1))
os.exit(failed == 0 and 0 or 1)
