--- Run directories: the images of a workflow in one directory, with `manifest.json`,
-- `gallery.html` and `journal.jsonl`, an append-only log (one JSON line per event, each
-- fsynced) of every task submitted and finished. The journal makes a run resumable:
-- running the same script again on the same directory replays every finished task
-- (nothing is sent or paid again) and polls the tasks that were submitted but never seen
-- finished, instead of sending them again.
--
--     local run = assert(seedream.run_dir("out/story"))
--     local client = assert(run:client{ budget = 2 })   -- any seedream.client option
--     ... client:generate / series / refine ...
--     run:finish()                                       -- waits for the downloads
--
-- A task is identified by its request's key (a hash of the request without its taskUUID):
-- the n-th task of a given request in a run is matched with the n-th one journaled.
-- One process at a time uses a directory (a lock, .seedream-lock, held until run:close()).
-- @module seedream.rundir
local core = require "seedream.core"
local errors = require "seedream.error"
local image = require "seedream.image"
local scheduler = require "seedream.scheduler"
local json = require "seedream.json"
local sanitize = require "seedream.sanitize"

local M = {}
M.FORMAT = "seedream-run/1"

local array = json.array

local Run = {}
Run.__index = Run
Run.__name = "seedream.Run"
M.Run = Run

-- Flushes a file to disk (the binding's fsync; a no-op where it is missing).
local fsync = core.fsync or function() return true end

local function iso(t) return t and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) or nil end
local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
-- An image file that is there and whole: files are renamed into place without an fsync, so
-- after a power loss one can be there with no bytes, and a server that cut an image short
-- without saying so leaves one without its end. Either is fetched again.
local function has_image(path)
  return path ~= nil and core.whole_image(path)
end

--- A copy of a request fit for the manifest (see seedream.sanitize).
M.sanitize = sanitize

-- A plain image item, without inline data.
-- Images are known by (taskUUID, imageUUID), as webhook deliveries carry them: an
-- imageUUID alone may come again in another task (a server's reuse, or a hostile one).
local function ikey(it, task_uuid)
  return tostring(it.taskUUID or task_uuid) .. "/" .. tostring(it.imageUUID)
end

local function item_of(img, task)
  local seed = img.seed
  if type(seed) == "number" then seed = math.tointeger(seed) or seed end
  return { imageUUID = img.imageUUID, imageURL = img.imageURL, seed = seed, cost = img.cost,
           index = img.index, taskUUID = img.taskUUID or task.taskUUID, format = img.format,
           NSFWContent = img.NSFWContent, planned = img.planned or nil }
end

-- ---- opening, loading the journal ----

local OPEN_OPTIONS = { on_event = true, title = true, gallery = true, write_interval = true }

--- Opens (creating it if needed) a run directory and reads its journal.
-- Options: `on_event(ev, data, run)` (see `Run:on`), `title` (for the gallery),
-- `gallery` (false: no gallery.html), `write_interval` (seconds between rewrites of the
-- manifest and gallery, default 0: on every event; see `Run:_touch` for large runs).
-- @treturn Run|nil the run
-- @return err
function M.open(dir, opts)
  if type(dir) ~= "string" or dir == "" then
    error("bad argument #1 to 'run_dir' (directory path expected)", 2)
  end
  opts = opts or {}
  errors.check_options(opts, OPEN_OPTIONS, "run_dir")
  dir = dir:gsub("(.)/+$", "%1")
  local mkdir = "mkdir -p -- " .. shq(dir)                      -- "--": "-x" is a name
  if not errors.execute(mkdir .. " 2>/dev/null") then
    local p = io.popen(mkdir .. " 2>&1")               -- again, for mkdir's reason
    local why = p and p:read("a"):gsub("^mkdir: ", ""):gsub("%s+$", "") or ""
    if p then p:close() end
    return nil, errors.new { code = "io", message = "cannot create the directory " .. dir
      .. (why ~= "" and (" (" .. why .. ")") or "") }
  end
  local self = setmetatable({
    dir = dir, manifest_path = dir .. "/manifest.json", gallery_path = dir .. "/gallery.html",
    journal_path = dir .. "/journal.jsonl",
    tasks = {}, order = {}, by_key = {}, indexed = {}, from = {}, claimed = {}, session = {},
    in_session = {},
    saved = {}, live_images = setmetatable({}, { __mode = "v" }),
    listeners = {}, savers = {}, saving = {}, dl_errors = {}, refused = array(), refetching = {},
    clients = {}, started = core.now(), title = opts.title, gallery = opts.gallery ~= false,
    price = core.limits.cost_per_image,
    write_interval = opts.write_interval or 0, last_write = -math.huge, write_cost = 0,
    write_bytes = 0, writes = 0,
  }, Run)
  if opts.on_event then self.listeners[1] = opts.on_event end
  -- one process at a time: two on one journal would each send what the other has not
  -- journaled yet, and pay for it twice
  local lock, lerr = core.lock(dir .. "/.seedream-lock")
  if not lock then
    local msg = tostring(lerr.message)
    if lerr.code ~= "locked" then            -- not another run: a directory we cannot write
      return nil, errors.new { code = "io", message = "cannot write to the run directory "
        .. dir .. ": " .. msg }
    end
    return nil, errors.new { code = "locked", message = "the run directory " .. dir
      .. " is in use: " .. msg .. ". One run at a time (run:close() ends one), or tasks "
      .. "would be paid twice" }
  end
  self.lock = lock
  -- temporary files of a killed run (manifest, gallery, downloads: "<name>.part-XXXXXX");
  -- the lock says no one is writing them now
  errors.execute("rm -f -- " .. shq(dir) .. "/*.part-?????? 2>/dev/null")
  local ok, err = self:_load()
  if not ok then return nil, err end
  local f, e = io.open(self.journal_path, "a")
  if not f then return nil, errors.new { code = "io", message = "cannot open the journal: " .. e } end
  self.jf = f
  if self.needs_newline and f:write("\n") and f:flush() then self.needs_newline = false end
  self:_write()
  return self
end

function Run:__tostring()
  return ("seedream.Run %s (%d task(s))"):format(self.dir, #self.order)
end

-- Tasks by request key, in journal order (the n-th identical request of a run is matched
-- with the n-th one journaled). A task is listed once (indexed[u]); `from[key]` skips the
-- claimed head of the list, so that a run of thousands of one prompt stays linear.
function Run:_index(key, u)
  if not key or self.indexed[u] then return end
  self.indexed[u] = true
  local l = self.by_key[key]
  if not l then l = {}; self.by_key[key] = l end
  l[#l + 1] = u
end

function Run:_record(u, key)
  local rec = self.tasks[u]
  if not rec then
    rec = { taskUUID = u, key = key }
    self.tasks[u] = rec
    self.order[#self.order + 1] = u
  end
  if key then rec.key = key; self:_index(key, u) end
  return rec
end

-- A journal line's fields, of the types this file writes them with (a hand-edited or
-- damaged line is read as far as it makes sense, never trusted to crash the run).
local function of_type(v, kind) if type(v) == kind then return v end end

local function image_items(list)
  local out = array()
  for _, it in ipairs(of_type(list, "table") or {}) do
    if type(it) == "table" and type(it.imageUUID) == "string" then out[#out + 1] = it end
  end
  return out
end

function Run:_apply(ev)
  local u = ev.taskUUID
  if type(u) ~= "string" then return end
  self.created = self.created or of_type(ev.t, "number")
  local rec = self:_record(u, of_type(ev.key, "string"))
  if ev.ev == "submitted" then
    rec.request, rec.submitted = of_type(ev.request, "table"), of_type(ev.t, "number")
    rec.max_images = type(ev.max_images) == "number" and math.tointeger(ev.max_images) or 1
    rec.status = rec.status or "submitted"
  elseif ev.ev == "finished" then
    rec.request = rec.request or of_type(ev.request, "table")
    rec.status = of_type(ev.status, "string") or "failed"
    rec.images, rec.error = image_items(ev.images), of_type(ev.error, "table")
    rec.finished = of_type(ev.t, "number")
    rec.webhook = ev.webhook == true or nil
  end
end

function Run:_load()
  local f = io.open(self.journal_path, "rb")
  if not f then self.created = os.time() return true end
  local text = f:read("a")
  f:close()
  -- a run killed while writing leaves a partial last line: skip it, and start the next
  -- line on a fresh one
  self.needs_newline = #text > 0 and text:sub(-1) ~= "\n"
  for line in text:gmatch("[^\n]+") do
    local ev = json.decode(line)
    if type(ev) == "table" then self:_apply(ev) end
  end
  for _, u in ipairs(self.order) do
    for _, it in ipairs(self.tasks[u].images or {}) do
      if it.imageUUID and has_image(self:_path(it)) then self.saved[ikey(it)] = true end
    end
  end
  self.created = self.created or os.time()
  return true
end

-- Appends one event and fsyncs it; true, or nil and why (a full disk, ...: then counted in
-- journal_errors, which the summary reports).
function Run:_append(ev)
  ev.t = ev.t or os.time()
  local line = json.encode(ev)
  -- after a line cut short (a full disk), the next starts on a fresh line: glued to the
  -- partial one, the loader would skip both
  local ok, err = self.jf:write(self.needs_newline and "\n" or "", line, "\n")
  if ok then ok, err = self.jf:flush() end
  if ok then ok, err = fsync(self.journal_path) end
  if ok then self.needs_newline = false return true end
  self.needs_newline = true
  self.journal_errors = (self.journal_errors or 0) + 1
  local msg = "cannot write the journal " .. self.journal_path .. ": " .. tostring(err)
  self:_emit("error", { error = msg })
  return nil, msg
end

-- ---- events ----

--- Adds a listener `fn(ev, data, run)` called on every event: "submitted", "adopted"
-- (polled, submitted by an earlier run), "replayed" (finished in an earlier run), "planned"
-- (dry run), "refused" (by the budget, or invalid: not sent), "image", "finished", "saved", "save_failed", "error",
-- "summary". data has `task`, `record`, `image`, `file`, `error` as they apply.
function Run:on(fn) self.listeners[#self.listeners + 1] = fn end

function Run:_emit(ev, data)
  self.nevents = (self.nevents or 0) + 1
  if ev == "summary" then self:_write() else self:_touch() end
  for _, fn in ipairs(self.listeners) do
    local ok, e = pcall(fn, ev, data, self)
    if not ok then
      errors.pass_interrupt(e)
      io.stderr:write("seedream: event listener failed: ", tostring(e), "\n")
    end
  end
end

function Run:_session(u)
  if not self.in_session[u] then
    self.in_session[u] = true
    self.session[#self.session + 1] = u
  end
end

-- ---- the journal interface used by the client (lookup / submitted / finished) ----

-- A failed task the server may still have made and charged (see error.outcome_unknown):
-- a rerun polls it under its taskUUID instead of paying for it again under a new one. A
-- task the server answered with its own error (or that was never sent) is sent again.
local function outcome_unknown(rec)
  return rec.status == "failed" and errors.outcome_unknown(rec.error)
end

-- Whether a journaled task can be taken by a request of this run: replayed (done) or
-- polled (sent, and not known to have been refused).
function Run:_matchable(u)
  local rec = self.tasks[u]
  if self.claimed[u] then return false end
  local st = rec.status
  return st == "done" or st == "submitted" or st == "cancelled" or outcome_unknown(rec)
end

--- Journal: the record of the next unclaimed journaled task with this request key:
-- `{status="done", taskUUID, images, webhook}` (replayed) or `{status="submitted", taskUUID}` (to
-- poll: sent by an earlier run that did not see it finish, or failed without learning
-- whether the server made it).
function Run:lookup(k)
  local l = self.by_key[k] or {}
  local i = self.from[k] or 1
  -- skip, once, the head no request can take any more: claimed, or ended in a way that
  -- is not reused (neither can change during this run)
  while l[i] and not self:_matchable(l[i]) do i = i + 1 end
  self.from[k] = i
  for j = i, #l do
    local u = l[j]
    local rec = self.tasks[u]
    local st = rec.status
    if self:_matchable(u) then
      self.claimed[u] = true
      if st == "done" then
        return { status = "done", taskUUID = u, images = rec.images, webhook = rec.webhook }
      end
      rec.adopted = true
      return { status = "submitted", taskUUID = u }
    end
  end
  return nil
end

-- True when a finished task has an image that came inline (no URL) and has no file here.
function Run:_inline_missing(rec)
  for _, it in ipairs(rec.images or {}) do
    if not it.imageURL and not it.planned and it.imageUUID then
      local path = self:_path(it)
      if path and not (self.saved[ikey(it)] or has_image(path)) then return true end
    end
  end
  return false
end

--- Journal: a task is about to be sent. Writes and fsyncs its line first; false, err when
-- that fails (the task is then not sent).
function Run:submitted(task)
  local u = task.taskUUID
  local key = task.key
  local req = M.sanitize(task.request)
  local ok, err = self:_append { ev = "submitted", taskUUID = u, key = key, request = req,
                                 max_images = task.max_images }
  -- not journaled, not sent: a run killed after the send could not find it again
  if not ok then return false, err end
  local rec = self:_record(u, key)
  rec.request, rec.max_images, rec.submitted, rec.status = req, task.max_images, os.time(), "submitted"
  self.claimed[u] = true
  self:_session(u)
  self:_emit("submitted", { task = task, record = rec })
  return true
end

--- Journal: a task ended (done, failed or cancelled). Inline images are written first, then
-- the line is journaled, then URL images are downloaded into the directory.
function Run:finished(task)
  local ok, err = pcall(self._finished, self, task)
  if not ok then
    errors.pass_interrupt(err)
    self:_emit("error", { error = err, task = task })
  end
end

function Run:_path(item)
  local name = image.file_name(item)
  return name and (self.dir .. "/" .. name), name
end

-- An inline image (base64Data, dataURI) written into the directory. When that fails (a full
-- disk) its data is only on the server: the next run polls the task again for it (_repair).
function Run:_write_inline(img, item)
  if not (img.imageBase64Data or img.imageDataURI) then return end
  local path = self:_path(item)
  if not path then return end
  local ok, werr = image.write_inline(img, path)
  if ok then
    img.file, self.saved[ikey(item)], self.dl_errors[ikey(item)] = path, true, nil
  else
    self.dl_errors[ikey(item)] = tostring(werr)
    self:_emit("save_failed", { image = item, error = werr })
  end
end

-- A task polled again only for the inline data of a finished one (_repair): its images are
-- written, and the record (done, with its images) is left as it is, whatever the poll says.
function Run:_refetched(task)
  self.refetching[task.taskUUID] = nil
  for _, img in ipairs(task._images) do self:_write_inline(img, item_of(img, task)) end
  local rec = self.tasks[task.taskUUID]
  for _, it in ipairs(rec and rec.images or {}) do
    local k = ikey(it)
    if not it.imageURL and not self.saved[k] and task.err then
      self.dl_errors[k] = "its data could not be fetched again: " .. tostring(task.err)
    end
  end
  self:_touch()
end

function Run:_finished(task)
  if task.refetch then return self:_refetched(task) end
  local u = task.taskUUID
  local rec = self:_record(u)
  rec.request = rec.request or M.sanitize(task.request or {})
  local items = array()
  for i, img in ipairs(task._images) do
    local item = item_of(img, task)
    if item.imageUUID then self.live_images[ikey(item)] = img end
    self:_write_inline(img, item)
    items[i] = item
  end
  rec.status, rec.images, rec.finished = task.status, items, os.time()
  rec.webhook = task.webhook          -- its images went to the webhook, not here
  local e = task.err
  -- sent, maybe_api: what error.outcome_unknown needs to judge it again on resume
  rec.error = e and { code = e.code, message = e.message, field = e.field, status = e.status,
                      sent = e.sent, maybe_api = e.maybe_api } or nil
  if rec.adopted and errors.not_found(e) then rec.status = "lost" end
  -- written or not (a full disk), the images are still fetched: they are paid for
  self:_append { ev = "finished", taskUUID = u, key = rec.key, status = rec.status,
                 images = items, error = rec.error, webhook = rec.webhook }
  self:_session(u)
  for _, item in ipairs(items) do self:_save(task.client, item) end
  self:_emit("finished", { task = task, record = rec })
end

-- Downloads an image into the directory unless its file is there (in a coroutine).
function Run:_save(client, item)
  local path = self:_path(item)
  if not path or not item.imageUUID then return end
  local uuid = ikey(item)
  if self.saved[uuid] or has_image(path) then
    self.saved[uuid] = true
    if self.live_images[uuid] then self.live_images[uuid].file = path end
    return
  end
  if self.saving[uuid] or not item.imageURL or not client or client.closed then return end
  self.saving[uuid] = true
  local function done(p, err)
    self.saving[uuid] = nil
    if p then
      self.dl_errors[uuid], self.saved[uuid] = nil, true
      if self.live_images[uuid] then self.live_images[uuid].file = p end
      self:_emit("saved", { image = item, file = p })
    else
      self.dl_errors[uuid] = tostring(err)
      self:_emit("save_failed", { image = item, error = err })
    end
  end
  -- the downloads in progress, a set: a finished one leaves it (a run open for hours keeps
  -- no job per image)
  local job
  job = scheduler.spawn(function()
    local ok, f = pcall(client.fetch, client, item.imageURL, path, item.format)
    if not ok then done(nil, f)
    else done(f:wait()) end
    if job then self.savers[job] = nil end
  end, function(msg)
    done(nil, msg)
    if job then self.savers[job] = nil end
  end)
  if not job.done then self.savers[job] = true end
end

-- ---- clients ----

--- A client wired to this run: `journal = run` (resume), every finished image saved into
-- the directory as `<taskUUID>-<n>.<ext>`, progress events. `opts` are those of
-- `seedream.client` (budget, dry_run, url, ...) plus `include_cost` (default true: requests
-- that do not say get includeCost = true, so the manifest has every image's cost).
-- @return client or `nil, err`
function Run:client(opts)
  local seedream = require "seedream"
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local user_on_image = o.on_image
  self.include_cost = o.include_cost ~= false
  o.include_cost = nil
  o.journal = self
  o.on_image = function(img, task)
    self:_on_image(img, task)
    if user_on_image then return user_on_image(img, task) end
  end
  local c, err = seedream.client(o)
  if not c then return nil, err end
  local submit, step = c.submit, c.step
  c.submit = function(cl, req, sopts) return self:_submit(submit, cl, req, sopts) end
  c.step = function(cl, ...)
    local n = step(cl, ...)
    self:_flush_due()
    return n
  end
  if c.budget then self.price = c.budget.price end
  self.clients[#self.clients + 1] = c
  if #self.clients == 1 then self:_repair(c) end
  return c
end

-- Images an earlier run paid for but did not save (killed while downloading, a file left
-- empty or cut short, an inline image that could not be written): fetch them; inline ones
-- by a task that only polls (never sent again, not counted again).
function Run:_repair(c)
  for _, u in ipairs(self.order) do
    local rec = self.tasks[u]
    for _, item in ipairs(rec.images or {}) do
      if not item.planned then self:_save(c, item) end
    end
    -- inline images an earlier run could not write: their data is asked of the server again
    -- by a task that only polls (never sends, never counts against a budget)
    if rec.status == "done" and not c.dry_run and not self.refetching[u]
       and self:_inline_missing(rec) then
      self.refetching[u] = true
      c:_adopt(u, rec.request, rec.max_images, rec.key, true)
    end
  end
end

function Run:_on_image(img, task)
  local rec = self.tasks[task.taskUUID]
  if img.imageUUID then self.live_images[ikey(img, task.taskUUID)] = img end
  if rec then
    rec.images = rec.images or array()
    local seen = false
    for _, it in ipairs(rec.images) do if it.imageUUID == img.imageUUID then seen = true end end
    if not seen then rec.images[#rec.images + 1] = item_of(img, task) end
  end
  self:_emit("image", { image = img, task = task, record = rec })
end

function Run:_submit(submit, cl, req, sopts)
  if type(req) ~= "table" then return submit(cl, req, sopts) end
  local r = cl:_resolve(req)
  if self.include_cost and r.includeCost == nil then
    local copy = {}
    for k, v in pairs(r) do copy[k] = v end
    copy.includeCost = true
    r = copy
  end
  local task, err = submit(cl, r, sopts)
  if not task then
    -- refused before anything was sent (the budget, an invalid request): in the manifest
    -- and the progress, so that a script that ignores the error still leaves a trace
    if errors.is(err) then
      -- an invalid request may be anything (a cycle, userdata): only its prompt is kept
      local s = err.code == "budget" and M.sanitize(r)
                or { positivePrompt = type(r.positivePrompt) == "string" and r.positivePrompt
                                      or nil }
      self.refused[#self.refused + 1] = { prompt = s.positivePrompt, error = err.message,
                                          code = err.code, field = err.field,
                                          at = iso(os.time()) }
      self:_emit("refused", { error = err, request = s })
    end
    return nil, err
  end
  local u = task.taskUUID
  if task.replayed then
    local rec = self.tasks[u]
    rec.replayed = true
    self:_session(u)
    for i, img in ipairs(task._images) do
      if img.imageUUID then self.live_images[ikey(img, task.taskUUID)] = img end
      self:_save(cl, rec.images[i] or item_of(img, task))
    end
    self:_emit("replayed", { task = task, record = rec })
  elseif task.status == "done" and task._images[1] and task._images[1].planned then
    local rec = self:_record(u, task.key)
    self.claimed[u] = true                     -- this run's own: never matched again
    local items = array()
    for i, img in ipairs(task._images) do items[i] = item_of(img, task) end
    rec.request, rec.max_images, rec.status, rec.images = M.sanitize(r), task.max_images,
      "planned", items
    rec.estimate = task.max_images * self.price
    rec.submitted = os.time()
    self:_session(u)
    self:_emit("planned", { task = task, record = rec })
  elseif self.tasks[u] and not self.in_session[u] then
    self:_session(u)
    self:_emit("adopted", { task = task, record = self.tasks[u] })
  end
  return task
end

-- ---- state, manifest, gallery ----

local FAILED = { failed = true, cancelled = true, lost = true }

--- Counters of this session (tasks, finished, done, failed, planned, replayed, adopted,
-- images, saved, cost = reported cost of new images, estimate = planned worst case) and
-- of the whole directory (run_images, run_cost), and elapsed seconds.
function Run:summary()
  local s = { tasks = 0, finished = 0, done = 0, failed = 0, planned = 0, replayed = 0,
              adopted = 0, images = 0, saved = 0, cost = 0, estimate = 0, run_images = 0,
              run_cost = 0, elapsed = core.now() - self.started, dir = self.dir,
              journal_errors = self.journal_errors or 0 }
  for _, u in ipairs(self.order) do
    local rec = self.tasks[u]
    for _, it in ipairs(rec.images or {}) do
      if not it.planned then
        s.run_images = s.run_images + 1
        if type(it.cost) == "number" then s.run_cost = s.run_cost + it.cost end
      end
    end
  end
  for _, u in ipairs(self.session) do
    local rec = self.tasks[u]
    s.tasks = s.tasks + 1
    local st = rec.status
    if st == "done" then s.done = s.done + 1; s.finished = s.finished + 1
    elseif FAILED[st] then s.failed = s.failed + 1; s.finished = s.finished + 1
    elseif st == "planned" then s.planned = s.planned + 1; s.finished = s.finished + 1
      s.estimate = s.estimate + (rec.estimate or 0) end
    if rec.replayed then s.replayed = s.replayed + 1 end
    if rec.adopted then s.adopted = s.adopted + 1 end
    for _, it in ipairs(rec.images or {}) do
      if not it.planned then
        s.images = s.images + 1
        if self.saved[ikey(it)] then s.saved = s.saved + 1 end
        if type(it.cost) == "number" and not rec.replayed then s.cost = s.cost + it.cost end
      end
    end
  end
  return s
end

local function parents_of(req, by_url)
  local list = array()
  local inputs = type(req.inputs) == "table" and req.inputs or {}
  for _, ref in ipairs(inputs.referenceImages or req.referenceImages or {}) do
    if type(ref) == "string" then
      if core.is_uuid(ref) then list[#list + 1] = ref
      elseif by_url[ref] then list[#list + 1] = by_url[ref] end
    end
  end
  return list
end

--- The manifest as a table (what manifest.json holds): `format`, `model`, `created`,
-- `updated`, `totals`, `tasks` (taskUUID, key, status, prompt, request, submitted,
-- finished, images, error, estimate for planned tasks, webhook when its images went to
-- the request's webhookURL), `images` (file, status, prompt, params, width, height, seed,
-- imageUUID, taskUUID, index, cost, parents, created), `refused` (requests not sent: prompt,
-- error, code, field, at) and `title`.
function Run:manifest()
  local by_url, tasks, images = {}, array(), array()
  for _, u in ipairs(self.order) do
    for _, it in ipairs(self.tasks[u].images or {}) do
      if it.imageURL then by_url[it.imageURL] = it.imageUUID end
    end
  end
  for _, u in ipairs(self.order) do
    local rec = self.tasks[u]
    local req = rec.request or {}
    local params = {}
    for k, v in pairs(req) do
      if k ~= "positivePrompt" and k ~= "taskUUID" then params[k] = v end
    end
    local parents = parents_of(req, by_url)
    local uuids = array()
    for i, it in ipairs(rec.images or {}) do
      uuids[i] = it.imageUUID
      local path, name = self:_path(it)
      local status
      if it.planned then status, name = "planned", nil
      elseif self.saved[ikey(it)] then status = "saved"
      elseif self.saving[ikey(it)] then status, name = "downloading", nil
      else status, name = "missing", nil end
      images[#images + 1] = {
        file = name, status = status, prompt = req.positivePrompt, params = params,
        width = req.width, height = req.height, seed = it.seed, imageUUID = it.imageUUID,
        taskUUID = u, index = it.index, cost = it.cost, format = it.format,
        parents = parents, created = iso(rec.finished or rec.submitted),
        error = self.dl_errors[ikey(it)], NSFWContent = it.NSFWContent,
      }
    end
    tasks[#tasks + 1] = {
      taskUUID = u, key = rec.key, status = rec.status, prompt = req.positivePrompt,
      request = req, max_images = rec.max_images, images = uuids, error = rec.error,
      submitted = iso(rec.submitted), finished = iso(rec.finished), estimate = rec.estimate,
      replayed = rec.replayed, adopted = rec.adopted, webhook = rec.webhook,
    }
  end
  local s = self:summary()
  return {
    format = M.FORMAT, model = core.model, title = self.title, created = iso(self.created),
    updated = iso(os.time()), tasks = tasks, images = images, refused = self.refused,
    totals = { tasks = #tasks, images = s.run_images, cost = s.run_cost,
               session = { tasks = s.tasks, done = s.done, failed = s.failed,
                           planned = s.planned, replayed = s.replayed, adopted = s.adopted,
                           images = s.images, saved = s.saved, cost = s.cost,
                           estimate = s.estimate } },
  }
end

-- The manifest and gallery are rewritten on every event, so that they can be watched live.
-- Each rewrite covers the whole run, which would make a run of n images cost O(n^2): once
-- the two files pass LARGE_WRITE bytes (hundreds of images), events are folded so that
-- rewriting takes at most ~10% of the time (a rewrite at most every 10x its duration), and
-- `write_interval` spaces them further on request. (Size, not time, decides: the time of a
-- small rewrite is mostly its fsync, and says nothing of the run's size.) A folded change
-- is written by the next event or client step that finds it due, and always by
-- finish/close. Resume relies on the journal, appended on every event whatever happens here.
local LARGE_WRITE = 64 * 1024

function Run:_touch()
  local gap = self.write_interval
  if self.write_bytes > LARGE_WRITE then gap = math.max(gap, 10 * self.write_cost) end
  if gap <= 0 or core.now() - self.last_write >= gap then return self:_write() end
  self.dirty = true
end

-- The folded change, if it is due (called after every step of the run's clients).
function Run:_flush_due()
  if self.dirty then self:_touch() end
end

--- Writes manifest.json and gallery.html now (each atomically: temporary file + rename).
-- Call it yourself after changing `run.title`.
function Run:_write()
  local t0 = core.now()
  self.dirty = false
  local m = self:manifest()
  local text = json.encode(m, "  ") .. "\n"
  local ok, err = core.write_file(self.manifest_path, text)
  self.write_bytes = #text
  if ok and self.gallery then
    local page = require("seedream.gallery").render(m)
    ok, err = core.write_file(self.gallery_path, page)
    self.write_bytes = self.write_bytes + #page
  end
  self.last_write = core.now()
  self.write_cost = self.last_write - t0
  self.writes = self.writes + 1
  if not ok then self.write_error = err; return nil, err end
  return true
end
Run.write = Run._write

--- Waits until every task of the run's clients has ended and every image is saved, writes
-- the manifest and the gallery, emits "summary" and returns `run:summary()`. Inside
-- `seedream.run` it yields; outside it drives the clients.
-- Tasks an earlier run sent and never saw end that this run did not ask for again (the
-- script changed, or stopped sooner): they may be made and paid, so they are polled now
-- and their images saved, by the run's first open client that sends.
function Run:_recover()
  local c
  for _, cl in ipairs(self.clients) do
    if not cl.closed and not cl.dry_run then c = cl break end
  end
  if not c then return end
  for _, u in ipairs(self.order) do
    local rec = self.tasks[u]
    if self:_matchable(u) and rec.status ~= "done" then      -- done ones are only replayed
      self.claimed[u] = true
      rec.adopted = true
      self:_session(u)
      local task = c:_adopt(u, rec.request, rec.max_images, rec.key)
      self:_emit("adopted", { task = task, record = rec })
    end
  end
end

function Run:finish()
  self:_recover()
  for _, c in ipairs(self.clients) do
    if not c.closed then
      local list = {}
      for task in pairs(c.active) do list[#list + 1] = task end
      for _, task in ipairs(list) do task:wait() end
    end
  end
  while next(self.savers) do
    local job = next(self.savers)
    if not job.done then job:wait() end
    self.savers[job] = nil
  end
  local s = self:summary()
  -- once per state: close() after finish() with nothing in between says it once
  if self.summarized ~= self.nevents then
    self:_emit("summary", s)
    self.summarized = self.nevents
  end
  return s
end

--- Finishes (see `finish`) and closes the journal; the clients stay open.
function Run:close()
  if not self.jf then return end
  local s = self:finish()
  self.jf:close()
  self.jf = nil
  self.lock:release()
  return s
end
Run.__close = Run.close

--- The manifest's image entries (see `manifest`).
function Run:images() return self:manifest().images end

return M
