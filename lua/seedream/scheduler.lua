--- The coroutine scheduler: coroutines started by `seedream.run` or `client:spawn` park in
-- `task:wait()` and are resumed by `client:step()` when what they wait for has happened.
-- Coroutines stay in Lua (no C frames are ever yielded across).
-- @module seedream.scheduler
local M = {}

local jobs = setmetatable({}, { __mode = "k" })   -- coroutine -> job
local ready, later = {}, {}
local failures = {}
local WAIT = setmetatable({}, { __name = "seedream.wait" })

--- The job of the running coroutine if the scheduler manages it, else nil.
function M.current()
  local co, main = coroutine.running()
  if main then return nil end
  return jobs[co]
end

local Job = {}
Job.__index = Job
Job.__name = "seedream.Job"

--- Set by seedream (init.lua): steps every busy client once, waiting at most `s` seconds.
M.drive = nil

--- Waits until the job's coroutine has returned; gives its results, or `nil, err` with the
-- error (a traceback string) if it raised. Yields inside managed coroutines, else drives
-- the clients.
function Job:wait()
  while not self.done do
    local me = M.current()
    if me then
      local token = M.token(me)
      self.waiters[#self.waiters + 1] = { me, token }
      M.park()
    elseif not M.drive(0.25) and not self.done then
      return nil, "seedream: the job waits but nothing is pending"
    end
  end
  if self.error then return nil, self.error end
  return table.unpack(self.results, 1, self.results.n)
end

local function finish(job, ok, ...)
  if coroutine.status(job.co) ~= "dead" then return end
  job.done = true
  for _, w in ipairs(job.waiters) do M.wake(w[1], w[2]) end
  job.waiters = {}
  if ok then
    job.results = table.pack(...)
  else
    job.error = debug.traceback(job.co, tostring((...)))
    if job.on_error then
      job.on_error(job.error, job)
    else
      failures[#failures + 1] = job.error
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
      later[#later + 1] = job
    end
  end
  after(coroutine.resume(co, ...))
end

--- Starts fn(...) in a managed coroutine; it runs until its first wait.
-- Returns the job: `{ done, results = table.pack(...), error }` with `job:wait()`.
function M.spawn(fn, on_error, ...)
  local job = setmetatable({ done = false, on_error = on_error, waiters = {} }, Job)
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

function M.wake(job, token)
  if job.token == token then ready[#ready + 1] = job end
end

--- Resumes every coroutine that became ready; raises the first error of a coroutine that
-- had no on_error handler, so that failures are reported, not swallowed.
function M.run_ready()
  if #later > 0 then
    for _, job in ipairs(later) do ready[#ready + 1] = job end
    later = {}
  end
  while #ready > 0 do
    local batch = ready
    ready = {}
    for _, job in ipairs(batch) do
      if not job.done and job.token then
        job.token = nil
        resume(job)
      end
    end
  end
  if #failures > 0 then
    local msg = table.remove(failures, 1)
    error(msg, 0)
  end
end

--- True when some coroutine can run without any I/O.
function M.has_work() return #ready > 0 or #later > 0 end

return M
