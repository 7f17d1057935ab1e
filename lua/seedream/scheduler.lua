--- The coroutine scheduler: coroutines started by `seedream.run` or `client:spawn` park in
-- `task:wait()` and are resumed by `client:step()` when what they wait for has happened.
-- Coroutines stay in Lua (no C frames are ever yielded across).
-- @module seedream.scheduler
local errors = require "seedream.error"

local M = {}

local jobs = setmetatable({}, { __mode = "k" })   -- coroutine -> job
local ready, later = {}, {}
local failures = {}
local WAIT = setmetatable({}, { __name = "seedream.wait" })
local stepping = {}    -- coroutine -> true while it runs a client's step (its callbacks)
local deferred = 0     -- > 0 while seedream.run runs: its function may still take errors

--- The job of the running coroutine if the scheduler manages it, else nil. Nil as well
-- in a callback of a step() that a managed coroutine runs: a wait there must not yield out
-- of the step (it would leave the client mid-step); it becomes a blocking wait, which step
-- refuses clearly. (A coroutine spawned from the callback is another one: it parks.)
function M.current()
  local co, main = coroutine.running()
  if main or stepping[co] then return nil end
  return jobs[co]
end

--- Runs fn(...) (a client's drain) so that a wait in it cannot park the coroutine running
-- it; returns pcall's results.
function M.unparked(fn, ...)
  local co, main = coroutine.running()
  if main or stepping[co] then return pcall(fn, ...) end
  stepping[co] = true
  local function after(...)
    stepping[co] = nil
    return ...
  end
  return after(pcall(fn, ...))
end

--- The errors of coroutines that nobody took, now taken (for seedream.run to report with
-- its own error, instead of leaving them to a later, unrelated step).
function M.take_failures()
  local out = {}
  for _, job in ipairs(failures) do
    if not job.error_taken then
      job.error_taken = true
      out[#out + 1] = job.error
    end
  end
  failures = {}
  return out
end

--- While seedream.run's function runs, errors of coroutines nobody waited for are kept
-- until it returns (it may still wait for them, in its own order); then raised.
function M.defer_failures(d) deferred = deferred + d end

local Job = {}
Job.__index = Job
Job.__name = "seedream.Job"

--- Set by seedream (init.lua): steps every busy client once, waiting at most `s` seconds.
M.drive = nil

--- Waits until the job's coroutine has returned; gives its results, or `nil, err` with the
-- error if it raised (a string with the traceback appended, or the error table itself with
-- the traceback in its `traceback` field). Yields inside managed coroutines, else drives
-- the clients. An error given to a waiter this way is its to handle: step() does not
-- raise it as well.
function Job:wait()
  while not self.done do
    local me = M.current()
    if me then
      local token = M.token(me)
      self.waiters[#self.waiters + 1] = { me, token }
      M.park()
    else
      self.watchers = self.watchers + 1          -- a blocking waiter will take the error
      local ok, pending = pcall(M.drive, 0.25)
      self.watchers = self.watchers - 1
      if not ok then error(pending, 0) end
      if not pending and not self.done then
        return nil, "seedream: the job waits but nothing is pending"
      end
    end
  end
  if self.error then
    self.error_taken = true
    return nil, self.error
  end
  return table.unpack(self.results, 1, self.results.n)
end

local function finish(job, ok, ...)
  if coroutine.status(job.co) ~= "dead" then return end
  job.done = true
  local waited = #job.waiters > 0 or job.watchers > 0
  for _, w in ipairs(job.waiters) do M.wake(w[1], w[2]) end
  job.waiters = {}
  if ok then
    job.results = table.pack(...)
  else
    -- a table error stays itself (a seedream error keeps its code and is_error), with
    -- the traceback in its `traceback` field; any other value becomes the traceback text
    local e = ...
    if type(e) == "table" then
      if rawget(e, "traceback") == nil then rawset(e, "traceback", debug.traceback(job.co)) end
      job.error = e
    else
      job.error = debug.traceback(job.co, tostring(e))
    end
    if errors.is_interrupt(e) then
      -- Ctrl-C (raised in a coroutine by errors.execute): stops the program now, neither
      -- handed to on_error nor kept for later
      jobs[job.co] = nil
      job.error_taken = true
      error(job.error, 0)
    end
    if job.on_error then
      job.on_error(job.error, job)
    elseif not waited then                       -- nobody to give it to: step() raises it
      failures[#failures + 1] = job
    end
  end
  jobs[job.co] = nil
end

local function resume(job, ...)
  local co = job.co
  local function after(ok, first, ...)
    if coroutine.status(co) == "dead" then return finish(job, ok, first, ...) end
    if first ~= WAIT then                               -- a plain yield: resume next step
      job.token = job.token or {}
      later[#later + 1] = { job, job.token }
    end
  end
  after(coroutine.resume(co, ...))
end

--- Starts fn(...) in a managed coroutine; it runs until its first wait.
-- Returns the job: `{ done, results = table.pack(...), error }` with `job:wait()`.
function M.spawn(fn, on_error, ...)
  local job = setmetatable({ done = false, on_error = on_error, waiters = {}, watchers = 0 },
                           Job)
  job.co = coroutine.create(fn)
  jobs[job.co] = job
  resume(job, ...)
  return job
end

--- Parks the running managed coroutine until `M.wake(job, token)` with the token returned
-- by `M.token(job)`.
function M.token(job)
  local t = {}
  job.token = t
  return t
end

function M.park()
  coroutine.yield(WAIT)
end

-- Each wake carries its token: a job woken twice for the same wait (two tasks of one
-- wait_any finishing in the same step) runs once, and not again in its next wait.
function M.wake(job, token)
  if job.token == token then ready[#ready + 1] = { job, token } end
end

--- Resumes every coroutine that became ready; raises the first error of a coroutine that
-- had no on_error handler, so that failures are reported, not swallowed.
function M.run_ready()
  if #later > 0 then
    for _, entry in ipairs(later) do ready[#ready + 1] = entry end
    later = {}
  end
  while #ready > 0 do
    local batch = ready
    ready = {}
    for i, entry in ipairs(batch) do
      local job = entry[1]
      if not job.done and job.token == entry[2] then
        job.token = nil
        local ok, e = pcall(resume, job)   -- raises only from on_error, or an interrupt
        if not ok then
          -- the rest of the batch stays ready for the next step, not lost
          for j = i + 1, #batch do ready[#ready + 1] = batch[j] end
          error(e, 0)
        end
      end
    end
  end
  if deferred > 0 then return end
  while #failures > 0 do                         -- skipping those a later wait took
    local job = table.remove(failures, 1)
    if not job.error_taken then error(job.error, 0) end
  end
end

--- True when some coroutine can run without any I/O, or an error of one waits to be
-- raised (one per step): an external loop must step again at once.
function M.has_work()
  if #ready > 0 or #later > 0 then return true end
  if deferred > 0 then return false end          -- kept for seedream.run's end
  for _, job in ipairs(failures) do
    if not job.error_taken then return true end
  end
  return false
end

return M
