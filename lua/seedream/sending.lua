--- Sending: the client's queue of tasks waiting for a slot, their POSTs (one task alone, or
-- several async ones sharing one), the batched poll when it is due, and what a task that
-- ends or must go again does to them. Methods of seedream.Client (see client.lua).
-- @module seedream.sending
local errors = require "seedream.error"

local M = {}
local Client = {}

-- Async submissions are small and answered at once: up to BATCH of them share one POST
-- (the body is always an array of tasks), so a frame that starts 50 tasks makes one
-- request, not 50. Sync tasks go alone: each answer waits for its own images.
local BATCH, BATCH_BYTES = 64, 65536

-- Journals a task (written and fsynced) before it is sent, so that a run killed now can
-- still find it; the error when that failed: the task must then not go.
function Client:_journal_submitted(task)
  if not self.journal or task.journaled then return nil end   -- a resend: journaled already
  local ok, err = self.journal:submitted(task)
  if ok == false then return errors.new { code = "io", message = tostring(err) } end
  task.journaled = true
end

-- One task in its own POST (sync tasks, large bodies).
function Client:_send_one(task, timeout)
  -- journaled (and fsynced) before it is sent: a run killed now can still find it
  local jerr = self:_journal_submitted(task)
  if jerr then return task:_finish(jerr) end
  if task.status ~= "queued" then return end       -- cancelled by a journal listener
  local id, err = self:_post(task.body, timeout, nil, task.inline)
  if not id then return task:_finish(errors.from_core(err)) end
  self.counters.submit_requests = self.counters.submit_requests + 1
  task.status = "sent"
  task.counted = true
  task.http_id = id
  self.inflight = self.inflight + 1
  self.requests[id] = task
end

-- Several async tasks in one POST.
function Client:_send_batch(all, timeout)
  for _, task in ipairs(all) do
    local jerr = self:_journal_submitted(task)
    if jerr then
      -- the others could go, but one error for the lot keeps the journal simple
      for _, t in ipairs(all) do t:_finish(jerr) end
      return
    end
  end
  -- the body is made only now: a journal listener may have cancelled one of them
  local tasks, parts, inline = { batch = true }, {}, false
  for _, task in ipairs(all) do
    if task.status == "queued" then
      tasks[#tasks + 1] = task
      parts[#parts + 1] = task.body:sub(2, -2)         -- the task object inside "[...]"
      inline = inline or task.inline
    end
  end
  if #tasks == 0 then return end
  local id, err = self:_post("[" .. table.concat(parts, ",") .. "]", timeout, nil, inline)
  for _, task in ipairs(tasks) do
    if id then
      task.status = "sent"
      self.inflight = self.inflight + 1
      task.counted = true
    else
      task:_finish(errors.from_core(err))
    end
  end
  if not id then return end
  self.counters.submit_requests = self.counters.submit_requests + 1
  local rq = { batch = tasks, id = id }
  for _, task in ipairs(tasks) do task.batch_rq = rq end
  self.requests[id] = rq
end

-- Sends queued tasks while slots are free, and the batched poll when it is due.
-- (Runs once or twice per step: nothing is allocated unless something is sent.)
function Client:_dispatch(t)
  local batch, timeout
  while self.qhead <= self.qtail
        and self.inflight + (batch and #batch or 0) < self.max_in_flight do
    local task = self.queue[self.qhead]
    self.queue[self.qhead] = nil
    self.qhead = self.qhead + 1
    task.in_queue = false
    if task.status ~= "queued" then
      self.queue_dead = self.queue_dead - 1        -- a cancelled one, counted when it ended
    else
      if task.deadline == math.huge then self:_arm(task, t) end
      local left = task.deadline - t
      if left < 0.001 then left = 0.001 end
      if task.delivery == "async" and type(task.body) == "string"
         and #task.body <= BATCH_BYTES then
        if not batch then batch, timeout = {}, 0 end
        batch[#batch + 1] = task
        if left > timeout then timeout = left end
        if #batch >= BATCH then
          self:_send_batch(batch, timeout)
          batch = nil
        end
      else
        self:_send_one(task, left)
      end
    end
  end
  if batch then self:_send_batch(batch, timeout) end
  local list, body, inline = self:_poll_due(t)
  if list then
    -- a poll has its own short timeout and no retries: the next cycle is its retry, and a
    -- stalled one must not hold up the polling of every task
    local p = self.poll
    local timeout = p.timeout or (inline and math.max(60, 3 * p.max) or math.max(20, 2 * p.max))
    -- nobody waits for it past the last deadline of the tasks it asks about
    local last = 0
    for _, task in ipairs(list) do if task.deadline > last then last = task.deadline end end
    if last - t < timeout then timeout = last - t end
    if timeout >= 0.001 then              -- else all of them time out in this step anyway
      local id = self:_post(body, timeout, 0, inline)
      if id then self:_poll_sent(id, list) end
    end
  end
end

-- A queued task is ending (cancelled): its entry stays in the queue, skipped when reached;
-- while every slot is busy they would pile up (a game that cancels a preview each frame),
-- so the queue is compacted once most of it is dead.
function Client:_drop_queued(task)
  self.queue_dead = self.queue_dead + 1
  local size = self.qtail - self.qhead + 1
  if self.queue_dead < 64 or self.queue_dead * 2 < size then return end
  local q, n = {}, 0
  for i = self.qhead, self.qtail do
    local t = self.queue[i]
    if t and t ~= task and t.status == "queued" then n = n + 1; q[n] = t
    elseif t then t.in_queue = false end
  end
  self.queue, self.qhead, self.qtail, self.queue_dead = q, 1, n, 0
end

-- A task sent (or polled) that must go again, same taskUUID: back at the head of the queue
-- (its clock is running: tasks submitted after it must not go first), its slot given back.
function Client:_requeue(task)
  if task.counted then
    task.counted = false
    self.inflight = self.inflight - 1
  end
  task.status = "queued"
  task.in_queue = true
  self.qhead = self.qhead - 1
  self.queue[self.qhead] = task
end

function Client:_cancel(task)
  if task.in_queue then self:_drop_queued(task) end
  if task.http_id then
    self.requests[task.http_id] = nil
    self.http:cancel(task.http_id)
    task.http_id = nil
  end
  local rq = task.batch_rq
  if rq then
    -- a POST shared with other tasks: stopped (left running, its retries would send this
    -- task, which has ended, and the server charge it); the others go again without it,
    -- same taskUUIDs (one the server already has answers conflictTaskUUID: polled)
    task.batch_rq = nil
    if self.requests[rq.id] == rq then
      self.requests[rq.id] = nil
      self.http:cancel(rq.id)
      for i = #rq.batch, 1, -1 do          -- in reverse: the head of the queue keeps their order
        local other = rq.batch[i]
        if other.batch_rq == rq then
          other.batch_rq = nil
          if not self.closed then self:_requeue(other) end
        end
      end
    end
  end
end

--- Adds these methods to the client class.
function M.install(class)
  for k, f in pairs(Client) do class[k] = f end
end

return M
