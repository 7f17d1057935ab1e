--- Batched getResponse polling of async tasks: every async task in
-- flight goes in ONE request per cycle, at an adaptive interval (poll.first after a task is
-- accepted, then poll.min while images arrive, growing by poll.factor up to poll.max), and
-- each answer is handed to its tasks, in slices when a step has a budget. Methods of the
-- client (installed by seedream.client); the client sends the requests, which carry its key.
-- @module seedream.polling
local core = require "seedream.core"
local protocol = require "seedream.protocol"
local errors = require "seedream.error"

local M = {}
local Client = {}
local now = core.now

function Client:_start_polling(task)
  task.status = "processing"
  if self.polling[task] then return end
  -- its first poll comes poll.first after it, however far the interval has backed off
  -- while the others waited (the cycle then goes on from poll.min: there is news to wait for)
  local due = now() + self.poll.first
  if self.n_polling == 0 and not self.poll_busy then
    self.next_poll = due
  elseif due < (self.newcomer_due or math.huge) then
    self.newcomer_due = due
  end
  self.poll_interval = self.poll.min
  self.polling[task] = true
  self.n_polling = self.n_polling + 1
end

function Client:_stop_polling(task)
  if self.polling[task] then
    self.polling[task] = nil
    self.n_polling = self.n_polling - 1
  end
end

-- The poll to send at time t, if one is due: the tasks, the body and whether to ask for
-- gzip; nil otherwise.
function Client:_poll_due(t)
  if self.n_polling == 0 or self.poll_busy then return nil end
  if t < self.next_poll and t < (self.newcomer_due or math.huge) then return nil end
  self.newcomer_due = nil
  local uuids, list, inline = {}, {}, false
  for task in pairs(self.polling) do
    list[#list + 1] = task
    uuids[#uuids + 1] = task.taskUUID
    inline = inline or task.inline
  end
  return list, protocol.poll_body(uuids), inline
end

-- The poll went out as request id.
function Client:_poll_sent(id, list)
  self.requests[id] = { poll = list }
  self.poll_busy = true
  self.counters.poll_requests = self.counters.poll_requests + 1
  self.counters.polls = self.counters.polls + #list
end

-- The answer to one batched getResponse POST (parsed by the client, which holds the key
-- to keep out of its text): kept, then handed to its tasks by
-- _poll_continue, which a step with a budget may stop between two tasks (the rest waits
-- for the next step; no new poll is sent meanwhile).
function Client:_on_poll(tasks, r)
  local whole = r.common and not next(r.items) and not next(r.errors)
  local c = r.common
  -- only the API's own 4xx (an error it wrote: invalidApiKey, ...) ends every task polled;
  -- a 4xx page from something in between (a proxy's 403) is polled again next cycle
  self.poll_rest = { tasks = tasks, r = r, i = 1, progress = false, whole = whole,
    fatal = whole and c.status and c.status >= 400 and c.status < 500
            and c.status ~= 408 and c.status ~= 429 and c.api == true }
end

-- Hands the pending poll answer to its tasks until done (true) or stop_at passes (false).
function Client:_poll_continue(stop_at)
  local rest = self.poll_rest
  local tasks, r, whole, fatal = rest.tasks, rest.r, rest.whole, rest.fatal
  local progress = rest.progress
  while rest.i <= #tasks do
    if stop_at and rest.i > 1 and now() >= stop_at then
      rest.progress = progress
      return false
    end
    local task = tasks[rest.i]
    rest.i = rest.i + 1
    if self.polling[task] and not task:done() then
      if fatal then
        task:_finish(r.common)
      elseif not whole then
        local items = r.items[task.taskUUID]
        local added, running = task:_take(items)
        if added then progress = true end
        local err = r.errors[task.taskUUID]
        local resend = errors.not_found(err) and task.adopted and task.body
        if resend and type(task.body) ~= "string" then
          -- a large body is a single-use seedream.Body, which a first send handed over:
          -- made anew (nil, err when it cannot be: then that is the task's error)
          task.body, err = self._body_for(task)
          resend = task.body ~= nil
        end
        if resend then
          -- the server never got it (a run killed before its POST left, a send whose
          -- outcome was unknown): send it now, same taskUUID (if it did arrive after all,
          -- conflictTaskUUID turns this back into polling)
          task.adopted = false
          self:_stop_polling(task)
          self:_requeue(task)
          progress = true
        elseif err then
          task:_finish(err)
        elseif #task._images >= task.max_images or (items and not running and #task._images > 0) then
          task:_finish(nil)
        end
        if task:done() then progress = true end
      end
    end
  end
  self.poll_rest = nil
  self.poll_busy = false
  if progress then self.poll_interval = self.poll.min
  else self.poll_interval = math.min(self.poll.max, self.poll_interval * self.poll.factor) end
  self.next_poll = now() + self.poll_interval
  return true
end

--- Adds these methods to the client class.
function M.install(class)
  for k, f in pairs(Client) do class[k] = f end
end

return M
