--- Tasks: one generation request from submit to its images.
-- States: `queued` (waiting for a slot), `sent` (request on the wire), `processing`
-- (accepted, being polled), then `done`, `failed` or `cancelled`.
-- @module seedream.task
local errors = require "seedream.error"
local image = require "seedream.image"
local protocol = require "seedream.protocol"
local scheduler = require "seedream.scheduler"

local Task = {}
Task.__index = Task
Task.__name = "seedream.Task"

local FINAL = { done = true, failed = true, cancelled = true }

-- A task, or a download (seedream.fetch's objects inherit these methods): not what a call
-- with '.' instead of ':' passes as self.
Task._waitable = true
local function check_task(v)
  if type(v) ~= "table" or v._waitable ~= true then errors.bad_self("task", 2) end
end

-- Every submit makes one: the fields every task has in one constructor, sized for them and
-- the two a send adds (http_id, counted): 15 fit the 16 slots Lua allocates, so a plain
-- task is never rehashed. The optional ones (key, on_image, timeout, given_uuid, journaled,
-- batch_rq, ...) are set only when they apply.
function Task.new(client, req, body, uuid, max_images, key, opts)
  local t = setmetatable({
    client = client, request = req, body = body, taskUUID = uuid, max_images = max_images,
    delivery = req.deliveryMethod or "sync", format = req.outputFormat or "JPG",
    status = "queued", cost = 0, deadline = 0, _images = {},
    in_queue = false,             -- an entry in the client's queue (skipped once it ends)
    -- images come inside the answer (base64): a large answer, worth asking gzip for
    inline = req.outputType == "base64Data" or req.outputType == "dataURI",
  }, Task)
  if key then t.key = key end
  if opts.on_image then t.on_image = opts.on_image end
  if opts.timeout then t.timeout = opts.timeout end
  return t
end

function Task:__tostring()
  return ("seedream.Task %s (%s, %d image(s))"):format(self.taskUUID, self.status, #self._images)
end

--- True once the task has finished (done, failed or cancelled).
function Task:done()
  check_task(self)
  return FINAL[self.status] == true
end

--- The images (a list) once done; `nil, err` if it failed or was cancelled (`err.images`
-- then holds any images that had already arrived: nothing paid for is dropped); nothing
-- while still running.
function Task:result()
  check_task(self)
  if self.status == "done" then return self._images end
  if self.err then return nil, self.err end
  return nil
end

-- Wakes every coroutine waiting for progress of this task.
function Task:_wake()
  local w = self._waiters
  if not w then return end
  self._waiters = nil
  for _, entry in ipairs(w) do scheduler.wake(entry[1], entry[2]) end
end

-- Registers coroutine `job` (with its wake token) to be woken by the next progress.
function Task:_add_waiter(job, token)
  local w = self._waiters
  if not w then w = {}; self._waiters = w end
  w[#w + 1] = { job, token }
end

-- Forgets the waiter with this token (a wait_any woken by another of its tasks: left
-- here, it would pile up, one per wait, until this task progressed).
function Task:_drop_waiter(token)
  local w = self._waiters
  if not w then return end
  for i = #w, 1, -1 do
    if w[i][2] == token then table.remove(w, i) end
  end
  if #w == 0 then self._waiters = nil end
end

-- A string error with the stack where it happened (it is raised later, from step).
local function with_traceback(e)
  if type(e) == "string" then return debug.traceback(e, 2) end
  return e
end

function Task:_on_error(fn, ...)
  local ok, e = xpcall(fn, with_traceback, ...)
  if not ok then
    errors.pass_interrupt(e)
    self.client:_report(e)
  end
end

--- Adds an image item unless its imageUUID was seen (polling repeats them), or the task
-- has all the images it can have (a broken or hostile server could send thousands).
-- Returns true when it was new.
function Task:_add_image(item)
  local id, images = item.imageUUID, self._images
  local n = #images
  if n >= self.max_images then return false end
  for i = 1, n do                 -- a few images per task: a scan beats a set per task
    if images[i].imageUUID == id then return false end
  end
  local img = image.new(item, self, n + 1, true)
  images[n + 1] = img
  if type(img.cost) == "number" then self.cost = self.cost + img.cost end
  self.client:_on_image(self, img)
  if self.on_image then self:_on_error(self.on_image, img, self) end
  if self._waiters then self:_wake() end
  return true
end

local NONE = {}

-- Takes the items an answer holds about this task (nil: none): its new images are added.
-- Returns whether any was new, and whether an item says the task is still running.
function Task:_take(items)
  local added, running = false, false
  for _, item in ipairs(items or NONE) do
    if protocol.is_image(item) then
      if self:_add_image(item) then added = true end
    elseif protocol.running[item.status] then
      running = true
    end
  end
  return added, running
end

--- Ends the task: `err` nil means success.
function Task:_finish(err, status)
  if FINAL[self.status] then return end
  if err then
    self.err = err
    err.taskUUID = err.taskUUID or self.taskUUID
    if #self._images > 0 then err.images = self._images end
  end
  self.status = status or (err and "failed" or "done")
  self.client:_on_finish(self)
  if self._waiters then self:_wake() end
end

--- Waits until the task is done and returns `task:result()`. Inside a coroutine of
-- `seedream.run`/`client:spawn` it yields to the scheduler; elsewhere it drives the client's
-- loop (blocking) until done. `timeout` (seconds) bounds this wait only.
function Task:wait(timeout)
  check_task(self)
  local now = self.client.now
  local deadline = timeout and now() + timeout      -- one bound for the whole wait
  while not self:done() do
    local left = deadline and deadline - now()
    if left and left <= 0 then
      return nil, errors.new { code = "timeout", taskUUID = self.taskUUID,
                               message = "waited " .. timeout .. " s and the task is not done" }
    end
    self:_wait_progress(left)          -- progress, a timeout, or nothing: the loop decides
  end
  return self:result()
end

-- Waits for the next image or the end; false if `timeout` passed first.
function Task:_wait_progress(timeout)
  local job = scheduler.current()
  local n, status = #self._images, self.status
  if job then
    local token = scheduler.token(job)
    self:_add_waiter(job, token)
    local timer = timeout and self.client:_wake_at(job, token, timeout)
    scheduler.park()
    -- woken by progress: the timer has no one left to wake (and would keep busy() true);
    -- woken by the timer: this wait's entry must not stay among the waiters (a loop of
    -- short waits would pile them up until the task ends)
    if timer then
      self.client:_drop_timer(timer)
      if self._waiters then self:_drop_waiter(token) end
    end
    return #self._images > n or self.status ~= status
  end
  local client = self.client
  local deadline = timeout and client.now() + timeout
  while #self._images == n and self.status == status do
    local wait = 0.5
    if deadline then
      local left = deadline - client.now()
      if left <= 0 then return false end
      if left < wait then wait = left end
    end
    client:step(wait)
  end
  return true
end

--- Iterates over the images as they arrive: `for img in task:images() do ... end` waits
-- (yielding or driving the loop, as `wait` does) for each next image until the task ends.
function Task:images()
  check_task(self)
  local i = 0
  return function()
    while true do
      if i < #self._images then
        i = i + 1
        return self._images[i], i
      end
      if self:done() then return nil end
      self:_wait_progress()
    end
  end
end

--- Stops waiting for this task locally. The server may still finish it (and charge for it):
-- cancellation is not part of the Runware API.
function Task:cancel()
  check_task(self)
  if self:done() then return false end
  self.client:_cancel(self)
  self:_finish(errors.new { code = "cancelled", message = "cancelled by the caller" },
               "cancelled")
  return true
end

return Task
