-- bench/profile.lua: where a sync task's CPU goes on the Lua side (not run by `make bench`;
-- a tool for whoever works on benchmark 1's ratio).
--
--   lua5.4 bench/profile.lua [ITER]          (LUA_PATH/LUA_CPATH as in bench/run.sh)
--
-- Times each piece of the per-task work of client:submit + client:step in isolation, ITER
-- (20,000) calls each, no network: the request preparation in C (validation, UUID, JSON),
-- the Lua bookkeeping of submit, the decoding of a typical sync answer, the result objects.
-- Prints microseconds per call (CPU, os.clock) and allocation per call (KB, from
-- collectgarbage "count" with the collector stopped). The sum is compared by the reader with
-- benchmark 1's "seedream" row minus its "sd_http" row (the transport alone).
local core = require "seedream.core"
local protocol = require "seedream.protocol"
local Task = require "seedream.task"
local image = require "seedream.image"
local client_mod = require "seedream.client"
local cjson = require "cjson"

local N = tonumber(arg[1]) or 20000
local req = { positivePrompt = "bench prompt", width = 2048, height = 2048 }
local uuid = core.uuid()
local body = ('{"data":[{"taskType":"imageInference","taskUUID":"%s","imageUUID":"%s",' ..
  '"imageURL":"http://127.0.0.1:1/image/%s.jpg","seed":869685396}]}'):format(uuid, uuid, uuid)
local done = { id = 1, code = "ok", status = 200, body = body,
               content_type = "application/json", attempts = 1, elapsed = 0.001 }
local fake_client = setmetatable({ counters = { images = 0, cost = 0 }, delivery = nil,
  _on_image = function() end, _on_finish = function() end }, client_mod.Client)

local function measure(name, fn)
  for _ = 1, math.min(N, 2000) do fn() end           -- warm
  collectgarbage("collect")
  collectgarbage("stop")
  local k0 = collectgarbage("count")
  local c0 = os.clock()
  for _ = 1, N do fn() end
  local c1 = os.clock()
  local k1 = collectgarbage("count")
  collectgarbage("restart")
  collectgarbage("collect")
  -- the same again with the collector running, to include its cost
  local c2 = os.clock()
  for _ = 1, N do fn() end
  local c3 = os.clock()
  io.write(string.format("  %-48s %8.2f us %8.2f us %8.2f KB\n", name, (c1 - c0) / N * 1e6,
                         (c3 - c2) / N * 1e6, (k1 - k0) / N))
  return (c3 - c2) / N * 1e6
end

io.write(string.format("per-call cost, %d calls each\n  %-48s %11s %11s %11s\n", N, "",
                       "CPU (no GC)", "CPU (GC on)", "allocated"))
local total = 0
total = total + measure("core.prepare(req, true)  [validate+UUID+JSON]", function()
  return core.prepare(req, true)
end)
measure("  of which core.uuid()", function() return core.uuid() end)
measure("  of which core.check(req) [to C + validate]", function() return core.check(req) end)
total = total + measure("client:_resolve(req)", function() return fake_client:_resolve(req) end)
total = total + measure("Task.new + queue/active bookkeeping", function()
  local t = Task.new(fake_client, req, body, uuid, 1, nil, {})
  t.deadline = core.now() + 300
  return t
end)
total = total + measure("core.now() x3 (submit, step x2)", function()
  core.now(); core.now(); return core.now()
end)
measure("cjson.decode(answer) alone (for comparison)", function() return cjson.decode(body) end)
measure("  core.answer(body) [the C decoder]", function() return core.answer(body) end)
total = total + measure("protocol.parse(done) [decode + index]", function()
  return protocol.parse(done)
end)
total = total + measure("http:next-like table (9 fields) + body string", function()
  return { id = 1, code = "ok", status = 200, body = body .. "", content_type = "application/json",
           attempts = 1, elapsed = 0.001 }
end)
local task = Task.new(fake_client, req, body, uuid, 1, nil, {})
local item = core.answer(body).items[uuid][1]
total = total + measure("image.new(item, task, 1)", function() return image.new(item, task, 1) end)
total = total + measure("task:_add_image + _finish (fresh task)", function()
  local t = Task.new(fake_client, req, body, uuid, 1, nil, {})
  t.status = "sent"
  t:_add_image(item)
  t:_finish(nil)
end)
io.write(string.format("  %-48s %8s    %8.2f us\n", "sum of the pieces above (GC on)", "", total))
