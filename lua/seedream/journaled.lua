--- Tasks that are not simply sent (methods of the client, installed by seedream.client):
-- replayed (finished by an earlier run: its journal record), adopted (sent by an earlier
-- run, or of unknown outcome: polled under its taskUUID, never sent again unless the
-- server does not know it), refetched (finished, polled again only for inline data an
-- earlier run could not write) and planned (a dry run).
-- @module seedream.journaled
local core = require "seedream.core"
local errors = require "seedream.error"
local image = require "seedream.image"
local Task = require "seedream.task"

local M = {}
local Client = {}
local now = core.now
local NO_OPTS = {}
local check_open

-- The request body of a task under its own taskUUID, made anew: for a task sent again (a
-- large body is a single-use seedream.Body, handed to the transport by the first send).
-- nil, err when the request cannot be prepared any more (a reference file gone).
function Client._body_for(task)
  local again = {}
  for k, v in pairs(task.request) do again[k] = v end
  again.taskUUID = task.taskUUID
  local body, err = core.prepare(again, true)
  if not body then return nil, errors.from_core(err) end
  return body
end

-- A task an earlier run sent: polled under its taskUUID, never sent again (unless the
-- server does not know it and the task still has its body).
function Client:_poll_adopted(task)
  task.adopted = true
  task.counted = true
  self.inflight = self.inflight + 1
  self:_start_polling(task)
  self.counters.adopted = (self.counters.adopted or 0) + 1
  return task
end

-- A run directory's leftover (a task an earlier run sent that this one did not ask for
-- again): a task that polls `uuid` until it ends, so that what was paid is not lost.
-- `req` is the journaled request (for the output format), `max_images` its image count.
-- `refetch`: a finished task polled again only for its inline image data (the run already
-- counted it: not counted against the budget again).
function Client:_adopt(uuid, req, max_images, key, refetch)
  check_open(self)
  local task = Task.new(self, req or {}, nil, uuid, max_images or 1, key, NO_OPTS)
  task.refetch = refetch
  self:_arm(task, now())
  if self.budget and not refetch then self.budget:reserve(task, true) end  -- paid: counted, never refused
  self.active[task] = true
  self.n_active = self.n_active + 1
  return self:_poll_adopted(task)
end

-- A step an earlier run finished (journal record): a done task with the recorded images,
-- nothing sent, nothing charged.
function Client:_replay(task, rec)
  if rec.taskUUID then task.taskUUID = rec.taskUUID end
  for i, item in ipairs(rec.images or {}) do
    task._images[i] = image.new(item, task, i)
  end
  task.status = "done"
  task.replayed = true
  task.webhook = rec.webhook
  if self.budget then
    -- paid in an earlier run: it counts against the budget (never refused), with the costs
    -- it reported, as if this run had made it
    self.budget:reserve(task, true)
    self.budget:settle(task)
  end
  self.counters.replayed = (self.counters.replayed or 0) + 1
  return task
end

-- Dry run: the task is planned, not sent; it finishes at once with placeholder images
-- (`planned = true`, a fresh imageUUID so they can be used as references downstream).
function Client:_plan(task)
  self.counters.planned = (self.counters.planned or 0) + 1
  -- its worst case, so that a dry run costs a pipeline with or without a budget
  self.counters.estimated = (self.counters.estimated or 0) + task.max_images * self.price
  for i = 1, task.max_images do
    local img = image.new({ imageUUID = core.uuid(), taskUUID = task.taskUUID }, task, i)
    img.planned = true
    task._images[i] = img
  end
  task.status = "done"
  if self.budget then self.budget:settle(task) end
  return task
end

--- Adds these methods to the client class; `open_check(client)` raises on a closed one.
function M.install(class, open_check)
  check_open = open_check
  for k, f in pairs(Client) do class[k] = f end
end

return M
