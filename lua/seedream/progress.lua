--- Progress reporting for runs (see `seedream.rundir`): a live bar on a terminal
-- (`\r`-updated: tasks done/total, images, cost so far, elapsed time), plain log lines
-- when the output is not a terminal, one JSON object per event line (`json`), or nothing
-- (`quiet`). Never shows the API key (it never sees it).
--
--     local p = require("seedream.progress").new()   -- mode chosen from the output
--     p:attach(run)
-- @module seedream.progress
local core = require "seedream.core"
local errors = require "seedream.error"

local M = {}

local P = {}
P.__index = P
P.__name = "seedream.Progress"

--- True when file descriptor `fd` (default 1, stdout) is a terminal.
function M.is_tty(fd)
  return errors.execute("test -t " .. math.tointeger(fd or 1)) == true
end

--- A progress reporter. Options: `mode` ("tty" | "plain" | "json" | "quiet"; default "tty"
-- when stdout is a terminal, else "plain"), `out` (a file, default io.stdout),
-- `width` (bar width, default 24).
local OPTIONS = { mode = true, out = true, width = true }

function M.new(o)
  o = o or {}
  errors.check_options(o, OPTIONS, "progress.new")
  local mode = o.mode or (M.is_tty(1) and "tty" or "plain")
  if mode ~= "tty" and mode ~= "plain" and mode ~= "json" and mode ~= "quiet" then
    error("bad option 'mode' to progress.new (tty, plain, json or quiet expected)", 2)
  end
  if o.width ~= nil and math.type(o.width) ~= "integer" or (o.width or 1) < 1 then
    error("bad option 'width' to progress.new (a whole number > 0 expected)", 2)
  end
  if o.out ~= nil and not pcall(function() assert(o.out.write) end) then
    error("bad option 'out' to progress.new (a file, or a table with write, expected)", 2)
  end
  return setmetatable({ mode = mode, out = o.out or io.stdout, width = o.width or 24,
                        started = core.now(), bar_shown = false }, P)
end

--- Listens to a run's events.
function P:attach(run)
  run:on(function(ev, data, r) self:event(ev, data, r) end)
  return self
end

local function short(u) return type(u) == "string" and u:sub(1, 8) or "?" end
local function money(v) return ("$%.3f"):format(type(v) == "number" and v or 0) end
local function clip(s, n)
  s = tostring(s or ""):gsub("%s+", " ")
  if #s > n then
    local cut = n
    while cut > 1 and (s:byte(cut + 1) or 0) & 0xC0 == 0x80 do cut = cut - 1 end  -- UTF-8
    s = s:sub(1, cut) .. "..."
  end
  return s
end
local function prompt_of(data)
  local req = data.record and data.record.request or data.request or {}
  return req.positivePrompt
end

-- One line describing an event (nil: not worth a line).
local function describe(ev, d)
  local task, rec = d.task, d.record or {}
  local u = task and task.taskUUID or rec.taskUUID
  if ev == "submitted" then
    return ("submitted %s (up to %d image(s)) %q"):format(short(u), task.max_images or 1,
                                                          clip(prompt_of(d), 60))
  elseif ev == "adopted" then
    return ("resuming %s (submitted by an earlier run; polling it)"):format(short(u))
  elseif ev == "replayed" then
    return ("reused %s: %d image(s) from an earlier run"):format(short(u), #(rec.images or {}))
  elseif ev == "planned" then
    return ("planned %s: up to %d image(s), est. %s (dry run, nothing sent) %q")
      :format(short(u), task.max_images or 1, money(rec.estimate), clip(prompt_of(d), 50))
  elseif ev == "refused" then
    local e = d.error or {}
    if e.code == "budget" then return "refused by the budget: " .. tostring(e.message) end
    return "not sent: " .. (e.field and (e.field .. ": ") or "") .. tostring(e.message)
      .. " (" .. tostring(e.code) .. ")"
  elseif ev == "image" then
    local img = d.image
    local seed = type(img.seed) == "number" and (math.tointeger(img.seed) or img.seed) or "?"
    return ("image %d of %s, seed %s%s"):format(img.index or 0, short(u), tostring(seed),
      type(img.cost) == "number" and (", " .. money(img.cost)) or "")
  elseif ev == "finished" then
    if rec.status == "done" then
      return ("done %s: %d image(s)"):format(short(u), #(rec.images or {}))
    end
    local e = rec.error or {}
    return ("%s %s: %s (%s)"):format(rec.status or "failed", short(u), tostring(e.message),
                                     tostring(e.code))
  elseif ev == "saved" then
    return "saved " .. tostring(d.file)
  elseif ev == "save_failed" then
    return ("could not save image %s: %s"):format(short(d.image and d.image.imageUUID),
                                                  tostring(d.error))
  elseif ev == "error" then
    return "error: " .. tostring(d.error)
  elseif ev == "summary" then
    local s = d
    local parts = { ("%d task(s): %d done"):format(s.tasks, s.done) }
    if s.failed > 0 then parts[#parts + 1] = s.failed .. " failed" end
    if s.replayed > 0 then parts[#parts + 1] = s.replayed .. " reused" end
    if s.adopted > 0 then parts[#parts + 1] = s.adopted .. " resumed" end
    if s.planned > 0 then
      parts[#parts + 1] = ("%d planned (est. %s)"):format(s.planned, money(s.estimate))
    end
    -- a resumed run's earlier images were paid before: said apart from this session's
    local cost = money(s.cost)
    if s.run_cost and math.abs(s.run_cost - s.cost) > 1e-9 then
      cost = ("%s this session, %s in all runs of it"):format(cost, money(s.run_cost))
    end
    return ("%s; %d image(s), %d saved; cost %s; %.1f s; %s"):format(
      table.concat(parts, ", "), s.images, s.saved, cost, s.elapsed, s.dir or "")
  end
  return nil
end
M.describe = describe

local NOTABLE = { finished = true, refused = true, save_failed = true, error = true,
                  adopted = true, summary = true }

-- The fields of an event for JSON output (plain data only).
local function fields(ev, d, run)
  local o = { event = ev, t = nil }
  local task, rec = d.task, d.record
  if task then o.taskUUID = task.taskUUID; o.max_images = task.max_images end
  if rec then
    o.taskUUID = o.taskUUID or rec.taskUUID
    o.status = rec.status
    if rec.error then o.error = rec.error end
    if rec.estimate then o.estimate = rec.estimate end
    if ev == "submitted" or ev == "planned" then o.prompt = prompt_of(d) end
  end
  if d.image then
    local seed = d.image.seed
    o.imageUUID, o.cost, o.index = d.image.imageUUID, d.image.cost, d.image.index
    o.seed = type(seed) == "number" and (math.tointeger(seed) or seed) or nil
  end
  if d.file then o.file = d.file end
  if d.error and not o.error then
    local e = d.error
    o.error = type(e) == "table" and { code = e.code, message = e.message } or tostring(e)
  end
  if ev == "summary" then
    for k, v in pairs(d) do o[k] = v end
    o.event = "summary"
    if run then
      local files = {}
      for _, img in ipairs(run:images()) do
        if img.file then files[#files + 1] = run.dir .. "/" .. img.file end
      end
      o.files = require("seedream.json").array(files)
      o.manifest, o.gallery = run.manifest_path, run.gallery_path
    end
  end
  return o
end

function P:_bar(s)
  local total = math.max(s.tasks, 1)
  local fill = math.floor(self.width * s.finished / total + 0.5)
  local el = math.floor(s.elapsed)
  return ("\r\27[K[%s%s] %d/%d tasks  %d image(s)  %s  %02d:%02d"):format(
    ("#"):rep(fill), ("."):rep(self.width - fill), s.finished, s.tasks, s.images,
    money(s.cost + (s.estimate or 0)), el // 60, el % 60)
end

-- The run's totals. A summary walks every task of the run, and a run has several events
-- per task (recomputed on each, 8,000 tasks took a minute): it is recomputed once the time
-- since the last one is min(0.2 s, ten times what that one took): exact for small runs, at
-- most 0.2 s old for large ones.
local SUMMARY_EVERY = 0.2

function P:_summary(run, now)
  if not self.sum or now - self.sum_at >= math.min(SUMMARY_EVERY, 10 * self.sum_cost) then
    local t0 = core.now()
    self.sum = run:summary()
    self.sum_cost = core.now() - t0
    self.sum_at = now
  end
  return self.sum
end

--- Handles one event of a run (what `attach` wires). The totals that json lines and the
-- bar show are exact for small runs, at most 0.2 s old for large ones; the "summary"
-- event's are exact.
function P:event(ev, data, run)
  local mode = self.mode
  if mode == "quiet" then return end
  local out = self.out
  data = data or {}
  local elapsed = core.now() - self.started
  if mode == "json" then
    local o = fields(ev, data, run)
    o.t = math.floor(elapsed * 1000 + 0.5) / 1000
    if run and ev ~= "summary" then
      local s = self:_summary(run, elapsed)
      o.tasks_done, o.tasks_total, o.images, o.cost_total = s.finished, s.tasks, s.images, s.cost
    end
    out:write(require("seedream.json").encode(o), "\n")
  elseif mode == "plain" then
    local line = describe(ev, data)
    if line then out:write(("[%7.2fs] %s\n"):format(elapsed, line)) end
  else
    local line = NOTABLE[ev] and describe(ev, data)
    if line then
      out:write("\r\27[K", line, "\n")
      self.bar_shown = false
    end
    if ev ~= "summary" and run then
      out:write(self:_bar(self:_summary(run, elapsed)))
      self.bar_shown = true
    end
  end
  out:flush()
end

--- Ends the bar's line (tty mode).
function P:close()
  if self.mode == "tty" and self.bar_shown then
    self.out:write("\n")
    self.out:flush()
    self.bar_shown = false
  end
end

return M
