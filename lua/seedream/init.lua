--- seedream: ByteDance Seedream 5.0 Lite image generation through the Runware API.
--
--     local seedream = require "seedream"
--     local client = assert(seedream.client{})        -- RUNWARE_API_KEY from the environment
--     local images = assert(client:generate{ positivePrompt = "a lighthouse", width = 2304,
--                                            height = 1728 })
--
-- Every run-time failure is `nil, err` (see `seedream.error`); wrong argument types raise.
-- @module seedream
local core = require "seedream.core"
local client = require "seedream.client"
local errors = require "seedream.error"
local scheduler = require "seedream.scheduler"

local M = {}

M.VERSION = core.version
M.MODEL = core.model
M.limits = core.limits
M.codes = errors.codes
M.is_error = errors.is
M.webhook = require "seedream.webhook"

--- A local image file to use as a reference: `inputs = { referenceImages =
-- { seedream.file("cat.png") } }`. It is checked (format, size, pixel size) when the request
-- is validated and streamed into the request body as a data URI. Plain strings are never
-- taken for paths.
M.file = core.file

--- Creates a client (see `seedream.client.new` for the options).
-- @return client or `nil, err`
M.client = client.new

--- Validates a request without sending anything: `true` or `nil, err`.
function M.validate(req)
  if type(req) ~= "table" then error("bad argument #1 to 'validate' (table expected)", 2) end
  req = client.Client._resolve(client.Client, req)   -- image tables as references
  local ok, err = core.check(req)
  if not ok then return nil, client.note_file(errors.from_core(err), req) end
  return true
end

--- What a local image file is: `kind` ("jpg"|"png"|"webp", or false), `width`, `height`,
-- `size` (bytes), read from its header only; `nil, err` if it cannot be read.
function M.image_info(path)
  local kind, w, h, size = core.sniff(path)
  if kind == nil then return nil, errors.from_core(w) end
  return kind, w, h, size
end

-- err, with the errors of the run's coroutines that nobody took (they belong to this run,
-- not to a later step): listed after a string's first line, or as `err.others`.
local function with_others(err)
  local others = scheduler.take_failures()
  if #others == 0 or errors.is_interrupt(err) then return err end
  if type(err) == "table" then
    if rawget(err, "others") == nil then rawset(err, "others", others) end
    return err
  end
  local lines = {}
  for i, o in ipairs(others) do
    lines[i] = tostring(type(o) == "table" and (o.message or o) or o):match("^[^\n]*")
  end
  return tostring(err) .. "\n(coroutines of this run failed as well: "
         .. table.concat(lines, "; ") .. ")"
end

--- Runs fn(...) in a coroutine in which `task:wait()`, `client:generate()` and friends
-- yield instead of blocking, drives every client until fn returns, and returns fn's
-- results. An error in fn is raised with its traceback (a string error gets it appended;
-- an error table, such as a seedream error, is raised as itself with it in `traceback`).
-- An error of a coroutine fn spawned is raised once fn has returned, unless fn took it
-- (`job:wait()`) meanwhile, in whatever order it waits for its jobs.
function M.run(fn, ...)
  scheduler.defer_failures(1)
  local ok, job = pcall(scheduler.spawn, fn, nil, ...)   -- job: the error when not ok
  local stuck = false
  if ok then
    local res
    ok, res = pcall(function()
      while not job.done do
        if not M.drive(0.25) and not job.done then return true end
      end
      return false
    end)
    if ok then stuck = res else job = res end
  end
  scheduler.defer_failures(-1)
  if not ok then error(with_others(job), 0) end
  if stuck then
    scheduler.run_ready()                 -- a coroutine's error may be why: that first
    error("seedream.run: the coroutine waits but no task is pending", 2)
  end
  if job.error then
    job.error_taken = true                -- raised here, not again by a later step
    error(with_others(job.error), 0)
  end
  scheduler.run_ready()                   -- what fn's coroutines left unhandled
  return table.unpack(job.results, 1, job.results.n)
end

--- Steps every client that has work once (waiting at most `wait` seconds when only one
-- has); returns false when nothing at all is pending.
function M.drive(wait)
  local busy = {}
  for c in pairs(client.clients) do
    if not c.closed and c:busy() then busy[#busy + 1] = c end
  end
  if #busy == 0 then
    if not scheduler.has_work() then return false end
    scheduler.run_ready()
    return true
  end
  if #busy == 1 then
    busy[1]:step(wait)
    return true
  end
  -- several clients: wait on all their sockets at once, then let each do its work
  local fds, soonest = {}, wait
  for _, c in ipairs(busy) do
    local list, t = c:pollfds()
    for _, f in ipairs(list) do fds[#fds + 1] = f end
    if t and t < soonest then soonest = t end
  end
  if soonest > 0 and not scheduler.has_work() then core.poll(fds, soonest) end
  for _, c in ipairs(busy) do c:step(0) end
  return true
end
scheduler.drive = M.drive
require("seedream.workflow").install(M, client.Client)

--- Waits for every task; returns `results, errs`: two tables indexed like `tasks`
-- (`results[i]` the images of task i, or `errs[i]` its error).
function M.wait_all(tasks)
  errors.check_arg(tasks, 1, "wait_all", "table")
  local results, errs = {}, {}
  for i, t in ipairs(tasks) do
    local r, e = t:wait()
    results[i], errs[i] = r, e
  end
  return results, errs
end

--- Waits until any of the tasks is done; returns that task and its index.
function M.wait_any(tasks)
  errors.check_arg(tasks, 1, "wait_any", "table")
  if tasks[1] == nil then return nil end      -- nothing to wait for (not forever)
  while true do
    for i, t in ipairs(tasks) do
      if t:done() then return t, i end
    end
    local job = scheduler.current()
    if job then
      local token = scheduler.token(job)
      for _, t in ipairs(tasks) do t:_add_waiter(job, token) end
      scheduler.park()
      for _, t in ipairs(tasks) do t:_drop_waiter(token) end
    elseif not M.drive(0.5) then
      return nil                    -- nothing pending anywhere: the tasks cannot finish
    end
  end
end

return M
