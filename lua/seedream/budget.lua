--- Cost control: a budget that refuses, before anything is sent, a task whose worst case
-- (the images it may produce x the price per image) could exceed what is left.
-- @module seedream.budget
local errors = require "seedream.error"

local Budget = {}
Budget.__index = Budget

local EPS = 1e-9

--- `limit` in USD; `price` per image (0.035, from the API reference's example responses).
function Budget.new(limit, price)
  return setmetatable({ limit = limit, price = price, reported = 0, estimated = 0,
                        committed = 0 }, Budget)
end

--- What is spent or may still be: reported costs, estimates for tasks whose charge is not
-- known (cancelled, timed out), and the worst case of tasks still running.
function Budget:used() return self.reported + self.estimated + self.committed end

--- Reserves a task's worst case; refuses (nothing reserved) when it does not fit, unless
-- `force` (a task already sent by an earlier run: its cost is owed whatever the budget).
function Budget:reserve(task, force)
  local worst = task.max_images * self.price
  if not force and self:used() + worst > self.limit + EPS then
    return nil, errors.new { code = "budget", taskUUID = task.taskUUID,
      message = ("this task may cost up to $%.3f (%d image(s) x $%.3f) but only $%.3f of the "
                 .. "$%.2f budget is left"):format(worst, task.max_images, self.price,
                 math.max(0, self.limit - self:used()), self.limit) }
  end
  task.reserved = worst
  self.committed = self.committed + worst
  return true
end

--- Called once a task has finished: its reservation becomes what it really cost.
function Budget:settle(task)
  if not task.reserved then return end
  self.committed = self.committed - task.reserved
  local reported, unknown = 0, 0
  for _, img in ipairs(task._images) do
    if type(img.cost) == "number" then reported = reported + img.cost
    elseif not img.planned then unknown = unknown + 1 end
  end
  self.reported = self.reported + reported
  self.estimated = self.estimated + unknown * self.price
  -- a task that ended without its answer (cancelled, timed out, cut off, lost) may still
  -- be charged: count its worst case as estimated
  if task.status == "cancelled"
     or (task.status == "failed" and errors.outcome_unknown(task.err)) then
    self.estimated = self.estimated + math.max(0, task.reserved - reported - unknown * self.price)
  end
  -- planned (dry run), or delivered to a webhook: charged, but no cost comes back here
  if task.webhook or (task.status == "done" and #task._images > 0 and task._images[1].planned) then
    self.estimated = self.estimated + task.reserved
  end
  task.reserved = nil
end

function Budget:summary()
  return { budget = self.limit, price = self.price, reported = self.reported,
           estimated = self.estimated, committed = self.committed,
           remaining = math.max(0, self.limit - self:used()) }
end

return Budget
