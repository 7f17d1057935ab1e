--- The client: submits tasks, drives I/O without blocking, hands results to tasks. Its
-- options are read by seedream.options; sending (queue, POSTs), polling and the tasks of
-- run directories (journaled) are methods added from their own modules.
-- @module seedream.client
local core = require "seedream.core"
local errors = require "seedream.error"
local protocol = require "seedream.protocol"
local scheduler = require "seedream.scheduler"
local Task = require "seedream.task"
local Fetch = require "seedream.fetch"
local image = require "seedream.image"
local Budget = require "seedream.budget"
local polling = require "seedream.polling"
local journaled = require "seedream.journaled"
local options = require "seedream.options"
local sending = require "seedream.sending"

local M = {}
M.DEFAULT_URL = "https://api.runware.ai/v1"

local Client = {}
Client.__index = Client
Client.__name = "seedream.Client"
M.Client = Client

-- The API key lives here, not in the client table, so printing or serialising a client
-- can never show it.
local secrets = setmetatable({}, { __mode = "k" })
-- Live clients, for seedream.run to drive.
local clients = setmetatable({}, { __mode = "k" })
M.clients = clients

local now = core.now
Client.now = now

--- Creates a client.
-- Options (checked and read by seedream.options, which lists them with their defaults):
-- `api_key`, `url`, `timeout`, `connect_timeout`, `retries`, `backoff`, `max_in_flight`,
-- `delivery`, `poll`, `on_image(img, task)`, `on_error(err)`, `budget`, `price`,
-- `dry_run`, `journal` (an object with lookup(key) / submitted(task) / finished(task), see
-- seedream.run_dir: it makes runs resumable), `ca_file`.
-- @return client, or `nil, err`
function M.new(o)
  local c, cerr = options.read(o, M.DEFAULT_URL)
  if not c then return nil, cerr end
  local self = setmetatable({
    url = c.url, timeout = c.timeout, max_in_flight = c.max_in_flight, delivery = c.delivery,
    on_image = c.on_image, on_error = c.on_error, poll = c.poll, dry_run = c.dry_run,
    journal = c.journal, price = c.price, gzip = c.gzip,
    queue = {}, qhead = 1, qtail = 0, queue_dead = 0,   -- queue_dead: cancelled entries in it
    inflight = 0,            -- tasks sent and not finished (bounded by max_in_flight)
    active = {}, n_active = 0, -- every unfinished task
    given_uuids = {},        -- lower-cased taskUUID -> unfinished task, for those the caller gave
    requests = {},           -- http id -> task, or { poll = {tasks} }
    polling = {}, n_polling = 0,
    poll_busy = false, next_poll = nil, poll_interval = c.poll.min,
    next_deadline = math.huge,
    timers = {}, n_timers = 0, next_timer = math.huge,   -- waits with a timeout:
                             -- { at, job, token } -> true, and the earliest at (or sooner)
    n_fetching = 0,          -- downloads in progress
    counters = { submitted = 0, submit_requests = 0, images = 0, cost = 0, polls = 0,
                 poll_requests = 0 },
  }, Client)
  if c.budget then self.budget = Budget.new(c.budget, self.price) end
  local http, err = core.http {
    connect_timeout = c.connect_timeout, retries = c.retries, backoff = c.backoff,
    max_connections = math.max(self.max_in_flight + 1, 4),
    timeout = self.timeout,
    ca_file = c.ca_file,
  }
  if not http then return nil, errors.from_core(err) end
  self.http = http
  secrets[self] = c.api_key
  clients[self] = true
  return self
end

function Client:__tostring()
  return ("seedream.Client %s (%d task(s) active)"):format(errors.url_shown(self.url),
                                                           self.n_active)
end

-- A method called with '.' instead of ':' gets its first argument as self: said plainly.
local function check_self(self)
  if getmetatable(self) ~= Client then errors.bad_self("client", 2) end
end

local function check_open(self)
  if getmetatable(self) ~= Client then errors.bad_self("client", 2) end
  if self.closed then error("seedream: attempt to use a closed client", errors.user_level()) end
end

-- References may be image tables from earlier results: they become their imageUUID (or
-- URL, or inline data). Copies only what changes; the caller's table is never modified.
local function resolve_refs(list)
  if type(list) ~= "table" then return list end
  local out
  for i, ref in ipairs(list) do
    if image.is(ref) then
      out = out or table.move(list, 1, #list, 1, {})
      out[i] = ref.imageUUID or ref.imageURL or ref.imageDataURI or ref.imageBase64Data
    end
  end
  return out or list
end

local function shallow_copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- The request as sent: client defaults applied, references resolved (a shallow copy when
-- anything changes).
function Client:_resolve(req)
  -- the common request: no references, nothing to fill in (checked before any call)
  if req.referenceImages == nil and req.inputs == nil
     and not (self.delivery and req.deliveryMethod == nil)
     and not (self.budget and req.includeCost == nil) then
    return req
  end
  local delivery = self.delivery and req.deliveryMethod == nil
  local cost = self.budget and req.includeCost == nil
  local top = resolve_refs(req.referenceImages)
  local inputs = type(req.inputs) == "table" and req.inputs or nil
  local refs = inputs and resolve_refs(inputs.referenceImages)
  if inputs and refs ~= inputs.referenceImages then
    inputs = shallow_copy(inputs)
    inputs.referenceImages = refs
  else
    inputs = nil
  end
  if not (delivery or cost or inputs) and top == req.referenceImages then return req end
  local copy = shallow_copy(req)
  if delivery then copy.deliveryMethod = self.delivery end
  if cost then copy.includeCost = true end
  copy.referenceImages = top
  if inputs then copy.inputs = inputs end
  return copy
end

local FILE_MT = getmetatable(core.file("."))      -- seedream.file's userdata

-- Names the local file of a reference-image error (`inputs.referenceImages[3] (cat.png)`).
local function note_file(err, req)
  local i = err.field and tonumber(err.field:match("eferenceImages%[(%d+)%]$"))
  if not i then return err end
  local list = err.field:find("^inputs%.") and type(req.inputs) == "table"
               and req.inputs.referenceImages or req.referenceImages
  local ref = type(list) == "table" and list[i]
  if getmetatable(ref) == FILE_MT then err.file = ref.path end   -- not cjson.null
  if type(ref) == "string" and #ref < 4096 and not ref:find("^%a[%w+.-]*:") then
    local f = io.open(ref, "rb")       -- a path given as a string: say how to send a file
    if f then
      f:close()
      err.message = err.message .. " (a local file: pass seedream.file(path))"
    elseif ref:lower():find("%.jpe?g$") or ref:lower():find("%.png$")
           or ref:lower():find("%.webp$") then                   -- named like an image file
      err.message = err.message .. " (a local file? pass seedream.file(path); " .. ref
                    .. " does not exist here)"
    end
  end
  return err
end
M.note_file = note_file

local NO_OPTS = {}

-- The most bytes an answer without inline images is read to (items of a few hundred bytes
-- each: thousands of tasks fit); past it, it is broken or hostile, not held in memory.
local URL_ANSWER_MAX = 64 * 1024 * 1024

--- Submits a request and returns its task at once; `nil, err` when the request is invalid
-- (nothing is sent then). `opts`: `timeout` (seconds), `on_image(img, task)`.
function Client:submit(req, opts)
  check_self(self)
  if type(req) ~= "table" then
    error("bad argument #1 to 'submit' (table expected)", errors.user_level())
  end
  check_open(self)
  if opts then
    errors.check_arg(opts, 2, "submit", "table")
    errors.check_options(opts, options.SUBMIT, "submit")
  else
    opts = NO_OPTS
  end
  req = self:_resolve(req)
  local body, uuid, max_images, key = core.prepare(req, true, self.journal ~= nil)
  if not body then return nil, note_file(errors.from_core(uuid), req) end
  local api_key = secrets[self]
  if (not api_key or api_key == "") and not self.dry_run then   -- a plan needs no key
    return nil, errors.new { code = "missing_key",
      message = "no API key: pass api_key to seedream.client{} or set RUNWARE_API_KEY" }
  end
  local given = req.taskUUID and uuid:lower()
  if given and self.given_uuids[given] then
    -- the server would answer conflictTaskUUID (or the first task's images) for the second
    return nil, errors.new { code = "invalid", field = "taskUUID",
      message = "taskUUID " .. uuid .. " is already used by an unfinished task of this client "
                .. "(a taskUUID must be unique per task)" }
  end
  local task = Task.new(self, req, body, uuid, max_images, key, opts)
  local rec = self.journal and self.journal:lookup(key)
  if rec and rec.status == "done" then return self:_replay(task, rec) end
  if rec and rec.taskUUID and rec.status ~= "done" then
    -- the same request under the journaled taskUUID, in case the server never got it
    task.taskUUID = rec.taskUUID
    task.body = Client._body_for(task) or task.body
  end
  if self.budget then
    -- a task an earlier run already sent is counted, never refused: it is paid for
    local ok, err = self.budget:reserve(task, rec ~= nil)
    if not ok then return nil, err end
  end
  if self.dry_run then return self:_plan(task) end
  local t = now()
  task.deadline = math.huge                  -- armed when it leaves the queue (_arm)
  if given then
    task.given_uuid = given
    self.given_uuids[given] = task
  end
  self.active[task] = true
  self.n_active = self.n_active + 1
  self.counters.submitted = self.counters.submitted + 1
  if rec and rec.taskUUID then
    -- submitted by an earlier run that did not see the answer (its taskUUID, set above):
    -- poll it, never resend
    self:_arm(task, t)
    return self:_poll_adopted(task)
  end
  self.qtail = self.qtail + 1
  self.queue[self.qtail] = task
  task.in_queue = true
  -- sync tasks leave at once; async ones wait for the next step so that all submitted in
  -- one frame share a request
  if task.delivery ~= "async" then self:_dispatch(t) end
  return task
end

-- A task's clock starts when it leaves the queue, as the transport's does: time spent
-- waiting for a slot is no time the server took.
function Client:_arm(task, t)
  task.deadline = t + (task.timeout or self.timeout)
  if task.deadline < self.next_deadline then self.next_deadline = task.deadline end
end

--- Submits and waits: the images (a list) or `nil, err`.
function Client:generate(req, opts)
  check_self(self)
  errors.check_arg(req, 1, "generate", "table")
  local task, err = self:submit(req, opts)
  if not task then return nil, err end
  return task:wait()
end

--- Starts fn(...) in a coroutine whose `task:wait()` calls yield; it runs until its first
-- wait, then advances whenever `client:step()` runs. Returns the job (`job.done`,
-- `job.results`, `job.error`). An error in fn is raised by the next `step()` unless the
-- client's `on_error` handles it or a `job:wait()` takes it.
function Client:spawn(fn, ...)
  check_open(self)
  return scheduler.spawn(fn, self.on_error, ...)
end

-- A POST to the API: the transport's id, or nil, err. `retries` nil: the client's; `inline`:
-- the answer carries images (gzip asked for unless the client says not, no size cap), else
-- it is read to at most
-- URL_ANSWER_MAX bytes.
function Client:_post(body, timeout, retries, inline)
  return self.http:post(self.url, secrets[self], body, timeout, retries,
                        inline and self.gzip, not inline and URL_ANSWER_MAX or nil)
end

-- The answer to a task's own POST (sync result, async acknowledgement or an error).
function Client:_on_submit(task, done, r)
  task.http_id = nil
  task.batch_rq = nil
  if task.status ~= "sent" then return end
  r = r or protocol.parse(done, secrets[self])
  local items = r.items[task.taskUUID]
  local err = r.errors[task.taskUUID] or (not items and r.common) or nil
  task:_take(items)
  if err and err.code == "conflictTaskUUID" then
    -- the server has this task already: polled, never sent again. Usually a send of ours got
    -- through before (a retry, a resend, libcurl's quiet resend after a kept-alive
    -- connection died unanswered, a proxy that sent the POST twice). Even with one send
    -- of a taskUUID the caller gave, the task may be this request's and paid (a proxy's
    -- duplicate cannot be told apart): its images are not dropped. A taskUUID the caller
    -- reuses for another request gets that request's images; the API asks for unique ones,
    -- and this client refuses one its own unfinished task holds.
    return self:_start_polling(task)
  end
  -- (not after a timeout: a POST's timeout is what is left of its task's time, so the task
  -- itself has timed out; a run directory's next run polls it)
  if not items and not r.errors[task.taskUUID] and not task.repolled
     and (not err or (errors.outcome_unknown(err) and err.code ~= "timeout")) then
    -- no word of this task that can be read (the connection broke after the request left,
    -- an answer cut short or garbled, a 2xx that does not name it): it may be made and
    -- charged. Poll it once under its taskUUID; if the server does not know it, it is sent
    -- again under the same UUID (never paid twice).
    task.adopted = true
    task.repolled = true
    return self:_start_polling(task)
  end
  if err then return task:_finish(err) end
  if #task._images == 0 and items and task.request.webhookURL then
    -- the images go to the webhook: the API acknowledges the task without them (sync or
    -- async), and the task is done once accepted
    task.webhook = true
    return task:_finish(nil)
  end
  if #task._images >= task.max_images then return task:_finish(nil) end
  if task.delivery == "async" then return self:_start_polling(task) end
  if #task._images == 0 then
    return task:_finish(errors.new { code = "bad_response", status = done.status,
      message = "the API answered without an image for this task" })
  end
  task:_finish(nil)   -- sync: the answer is complete, a series may be shorter than asked
end

function Client:_on_image(task, img)
  -- a finished task polled again for its inline data only: paid and counted before
  if task.refetch then return end
  self.counters.images = self.counters.images + 1
  if type(img.cost) == "number" then self.counters.cost = self.counters.cost + img.cost end
  if self.on_image then task:_on_error(self.on_image, img, task) end
end

function Client:_on_finish(task)
  if self.budget then self.budget:settle(task) end
  -- a large request body is not kept once the task has ended: one never sent (cancelled
  -- in the queue) is freed now, not whenever the collector gets to a 16-byte userdata
  local body = task.body
  if type(body) == "userdata" then body:close() end
  task.body = nil
  if task.counted then
    task.counted = false
    self.inflight = self.inflight - 1
  end
  if self.n_polling > 0 then self:_stop_polling(task) end
  if task.given_uuid then self.given_uuids[task.given_uuid] = nil end
  if self.active[task] then
    self.active[task] = nil
    self.n_active = self.n_active - 1
    if self.n_active == 0 then self.next_deadline = math.huge end   -- no deadline left
  end
  -- last: the journal runs listeners, and an interrupt (Ctrl-C) raised there must find the
  -- client's books already closed on this task
  if self.journal then self.journal:finished(task) end
end

-- Errors of user callbacks run inside step go to on_error, or are raised at the end of
-- step (so is an error of on_error itself).
function Client:_report(msg)
  if self.on_error then
    local ok, e = pcall(self.on_error, msg)
    if ok then return end
    errors.pass_interrupt(e)
    msg = e
  end
  self.failures = self.failures or {}
  self.failures[#self.failures + 1] = msg
end

-- A timer that wakes job (if token is still its) after timeout seconds; returns it.
function Client:_wake_at(job, token, timeout)
  local tm = { now() + timeout, job, token }
  self.timers[tm] = true
  self.n_timers = self.n_timers + 1
  if tm[1] < self.next_timer then self.next_timer = tm[1] end
  return tm
end

-- O(1): next_timer may then be early, which costs one look at the timers, no wrong wake.
function Client:_drop_timer(tm)
  if self.timers[tm] then
    self.timers[tm] = nil
    self.n_timers = self.n_timers - 1
  end
end

-- Fails tasks whose deadline passed and fires wait timeouts.
function Client:_check_time(t)
  if t >= self.next_deadline then
    local nextd = math.huge
    for task in pairs(self.active) do
      if t >= task.deadline then
        self:_cancel(task)
        task:_finish(errors.new { code = "timeout", taskUUID = task.taskUUID,
          message = ("no result within %g s (the server may still finish and charge it)")
                    :format(task.timeout or self.timeout) })
      elseif task.deadline < nextd then
        nextd = task.deadline
      end
    end
    self.next_deadline = nextd
  end
  if t >= self.next_timer then                   -- only when one may be due
    local nextt = math.huge
    for tm in pairs(self.timers) do
      if t >= tm[1] then
        self:_drop_timer(tm)
        scheduler.wake(tm[2], tm[3])
      elseif tm[1] < nextt then
        nextt = tm[1]
      end
    end
    self.next_timer = nextt
  end
end

-- Seconds until the client itself must act (poll, deadline, timer), or nil.
function Client:_next_timer(t)
  local at = self.next_deadline
  if self.n_polling > 0 and not self.poll_busy then
    local poll_at = math.min(self.next_poll, self.newcomer_due or math.huge)
    if poll_at < at then at = poll_at end
  end
  if self.n_timers > 0 and self.next_timer < at then at = self.next_timer end
  if at == math.huge then return nil end
  return math.max(0, at - t)
end

-- Hands every finished transfer to its task, poll or download, then checks deadlines.
-- With stop_at (a step's budget), it stops between two answers (or two tasks of a poll
-- answer) once that time has passed, after at least one; what is left is taken first by
-- the next step (`self.backlog`).
function Client:_drain(stop_at)
  self.backlog = false
  local started = false
  while not self.closed do
    if stop_at and started and now() >= stop_at then
      self.backlog = true
      break
    end
    if self.poll_rest then
      started = true
      if not self:_poll_continue(stop_at) then
        self.backlog = true
        break
      end
    end
    local done = self.http:next()
    if not done then break end
    started = true
    local what = self.requests[done.id]
    self.requests[done.id] = nil
    if what then
      if what.poll then self:_on_poll(what.poll, protocol.parse(done, secrets[self]))
      elseif what.batch then
        local r = protocol.parse(done, secrets[self])
        for _, task in ipairs(what.batch) do self:_on_submit(task, done, r) end
      elseif what.url then what:_on_done(done)
      else self:_on_submit(what, done) end
    end
  end
  self:_check_time(now())
end

--- Performs all pending I/O and resumes what became ready, waiting at most `timeout`
-- seconds (default 0: never blocks; this is what a game loop calls each frame).
-- `budget` (seconds, optional) bounds the time spent handing results to tasks and their
-- callbacks in this step: past it, the step stops between two answers (or two tasks of one
-- poll answer), after at least one, and the next steps go on from there. For game loops
-- whose `on_image` work is heavy: 50 images landing at once are then spread over frames.
-- Returns the number of unfinished tasks.
function Client:step(timeout, budget)
  check_self(self)
  errors.check_arg(timeout, 1, "step", "number|nil")
  errors.check_arg(budget, 2, "step", "number|nil")
  if self.closed and not self.stepping then
    -- a game loop that goes on stepping after close(): the coroutines that waited for its
    -- tasks (now cancelled) run here, as they would in any other step
    scheduler.run_ready()
    return 0
  end
  check_open(self)
  if self.stepping then
    error("seedream: client:step() (or a blocking wait) from inside a callback of the same "
          .. "client; wait in a coroutine (seedream.run, client:spawn) instead", 2)
  end
  local t = now()
  self:_dispatch(t)
  local wait = timeout or 0
  if wait > 0 then
    local nt = self:_next_timer(t)
    if nt and nt < wait then wait = nt end
    if scheduler.has_work() or self.backlog then wait = 0 end
  end
  local _, err = self.http:perform(wait)
  if err then error(tostring(errors.from_core(err)), 2) end
  -- callbacks (on_image, ...) run in here: a step from inside one would re-enter this loop
  self.stepping = true
  -- (a wait in a callback must not yield out of this step: it becomes a blocking wait,
  -- refused below with its reason)
  local ok, e = scheduler.unparked(self._drain, self, budget and now() + budget)
  self.stepping = false
  if self.closed then self:_release() end          -- a callback closed the client
  if not ok then error(e, 0) end
  if not self.closed then self:_dispatch(now()) end
  if self.failures and #self.failures > 0 then self:_raise_failures() end
  scheduler.run_ready()
  return self.n_active
end

-- Raises the errors of this step's callbacks, all at once (one per step would pile up
-- while callbacks keep failing), after the coroutines woken meanwhile have run.
function Client:_raise_failures()
  local failures = self.failures
  self.failures = nil
  local ok, e = pcall(scheduler.run_ready)
  if not ok then
    errors.pass_interrupt(e)
    self.failures = { e }                -- a coroutine's error: raised by the next step
  end
  local msg = failures[1]
  if #failures > 1 and type(msg) == "string" then
    msg = msg .. ("\n(and %d more errors of callbacks in this step)"):format(#failures - 1)
  end
  error(msg, 0)
end

--- Starts a download of `url` (never with the API key) into `path` (atomically), or into
-- memory when path is nil; `expect` ("jpg"|"png"|"webp") checks the bytes' format.
-- Returns a waitable like a task: `f:wait()` gives the path (or bytes) or `nil, err`.
function Client:fetch(url, path, expect, timeout)
  check_open(self)
  local f = Fetch.new(self, url, path, expect)
  local dir = path and (path:match("^(.*)/[^/]*$") or ".")
  if dir and dir ~= "" and image.missing_dir(dir) then
    -- said now, as a local problem, not as a failed download naming a temporary file
    f.status = "failed"
    f.err = errors.new { code = "io", message = ("cannot write %s: the directory %s does not "
      .. "exist (or is not a directory)"):format(path, dir) }
    return f
  end
  local id, err = self.http:get(url, path, timeout or self.timeout, nil, path and expect)
  if not id then
    f.status = "failed"
    f.err = errors.from_core(err)
    return f
  end
  f.http_id = id
  self.requests[id] = f
  self.n_fetching = self.n_fetching + 1
  return f
end

function Client:_on_fetch_finish(f)
  if f.http_id then
    self.requests[f.http_id] = nil
    f.http_id = nil
  end
  self.n_fetching = self.n_fetching - 1
end

--- Saves many images into `dir` concurrently (see `Image:save` for `opts.name`).
-- Returns `paths, errs`: two tables indexed like `images`.
function Client:download(images, dir, opts)
  check_self(self)
  errors.check_arg(images, 1, "download", "table")
  errors.check_arg(dir, 2, "download", "string")
  errors.check_arg(opts, 3, "download", "table|nil")
  if opts then errors.check_options(opts, image.SAVE_OPTIONS, "download") end
  local paths, errs, pending = {}, {}, {}
  for i, img in ipairs(images) do
    local path, err = image.path_for(img, dir .. "/", opts)
    if not path then
      errs[i] = err
    elseif img.imageBase64Data or img.imageDataURI then
      paths[i], errs[i] = image.write_inline(img, path)
    elseif img.imageURL then
      pending[i] = self:fetch(img.imageURL, path, img.format, opts and opts.timeout)
    else
      errs[i] = errors.new { code = "invalid", message = "image " .. i .. " has no data or URL" }
    end
  end
  for i, f in pairs(pending) do paths[i], errs[i] = f:wait() end
  return paths, errs
end

--- True while tasks or downloads are unfinished.
function Client:busy()
  check_self(self)
  if self.closed then return scheduler.has_work() end  -- coroutines its tasks woke
  return self.n_active > 0 or self.n_fetching > 0 or self.n_timers > 0
      or scheduler.has_work()                      -- coroutines to resume, errors to raise
end

--- What an external event loop (luv, cqueues, copas, a game engine) should wait on:
-- a list of `{ fd = n, read = bool, write = bool }` and the seconds until `step()` must be
-- called anyway (nil: no timer). Call `client:step(0)` when any fd is ready or time is up.
function Client:pollfds()
  check_open(self)
  local fds, t = self.http:fds()
  local own = self:_next_timer(now())
  if (self.qhead <= self.qtail and self.inflight < self.max_in_flight) or self.backlog
     or scheduler.has_work() or (self.failures and #self.failures > 0) then
    own = 0                -- work that needs no I/O: coroutines to resume, errors to raise
  end
  if own and (not t or own < t) then t = own end
  return fds, t
end

--- Money so far: `{ budget, price, reported, estimated, committed, remaining }` with a
-- budget; without one, `{ reported = <sum of reported costs>, estimated = <worst case of
-- the tasks a dry run planned> }`.
function Client:cost()
  check_self(self)
  if self.budget then return self.budget:summary() end
  return { reported = self.counters.cost, estimated = self.counters.estimated or 0,
           price = self.price }
end

--- Counters: submitted, images, cost, polls (getResponse tasks), poll_requests (POSTs),
-- plus the transport's started/finished/retries/connects.
function Client:stats()
  check_self(self)
  local s = {}
  for k, v in pairs(self.counters) do s[k] = v end
  if self.http then
    for k, v in pairs(self.http:stats()) do s["http_" .. k] = v end
  end
  s.active, s.in_flight = self.n_active, self.inflight
  s.queued = self.qtail - self.qhead + 1 - self.queue_dead
  return s
end

--- Cancels every unfinished task and releases the transport. Idempotent; also `__close`.
-- (No `__gc`: a collected client takes its tasks with it, and its transport's own `__gc`
-- frees the connections.)
function Client:close()
  check_self(self)
  if self.closed then return end
  self.closed = true
  for task in pairs(self.active) do task:cancel() end
  for _, what in pairs(self.requests) do
    if what.url then what:cancel() end
  end
  self.queue, self.qhead, self.qtail, self.queue_dead = {}, 1, 0, 0   -- nothing waits to go
  self.poll_rest, self.backlog = nil, false
  clients[self] = nil
  -- closed from a callback: the step running it still holds the transport, and lets it go
  -- when it unwinds
  if not self.stepping then self:_release() end
end

function Client:_release()
  if self.http then
    self.http:close()
    self.http = nil
  end
end
Client.__close = Client.close
sending.install(Client)
polling.install(Client)
journaled.install(Client, check_open)

return M
