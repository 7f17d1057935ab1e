--- Workflow composition: `map` with a concurrency cap, sequential series, refinement of
-- images by using each one as a reference.
--
--     seedream.run(function()
--       local frames = assert(client:series({ positivePrompt = "a storyboard",
--                                             width = 2848, height = 1600 }, 4))
--       local refined, errs = client:refine(frames, "the same frame, finished in ink",
--                                           { concurrency = 4 })
--     end)
--
-- Everything works inside `seedream.run` (waits yield) and, blocking, outside it.
-- @module seedream.workflow
local core = require "seedream.core"
local errors = require "seedream.error"
local image = require "seedream.image"
local scheduler = require "seedream.scheduler"

local M = {}

--- Default number of items `map` runs at once.
M.DEFAULT_CONCURRENCY = 8

local function as_error(e)
  if errors.is(e) then return e end
  if type(e) == "table" and e.code and e.message then return errors.new(e) end
  return errors.new { code = "callback", message = tostring(e) }
end

-- How many items a list has: `n` (as table.pack sets it), else its largest positive
-- integer key. A results list of map or refine has holes where items failed, and `#`
-- of a list with holes may stop at any of them.
local function extent(list)
  if math.type(list.n) == "integer" and list.n >= 0 then return list.n end
  local mt = getmetatable(list)
  if mt and mt.__len then return #list end        -- map's results: their own length
  local n = 0
  for k in pairs(list) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  return n
end

-- The keys map's and refine's options may have (others raise, with the nearest name).
local MAP_OPTIONS = { concurrency = true }
local REFINE_OPTIONS = { references = true, request = true, width = true, height = true,
                         concurrency = true, timeout = true }

--- Runs `fn(item, i)` for every item of `list` (1 to `list.n`, else to its largest index:
-- a list with holes, such as the results of an earlier map, is gone through whole) in
-- coroutines, at most `opts.concurrency` (default 8) at once, and waits for all of them.
-- Returns `results, errs`: two tables indexed like `list`. An item whose fn raised, or
-- returned `nil, err`, has its error in `errs[i]` (raised strings become errors with code
-- "callback"); one failure never loses the other items' results. Inside `seedream.run` the
-- waits yield; outside, `map` drives the clients until every item is done.
-- @tparam table list the items (a sequence)
-- @tparam function fn called as fn(item, i)
-- @tparam[opt] table opts `{ concurrency = n }`
-- @treturn table results
-- @treturn table errs
function M.map(list, fn, opts)
  if type(list) ~= "table" then error("bad argument #1 to 'map' (table expected)", 2) end
  if type(fn) ~= "function" then error("bad argument #2 to 'map' (function expected)", 2) end
  opts = opts or {}
  errors.check_options(opts, MAP_OPTIONS, "map")
  local conc = opts.concurrency or M.DEFAULT_CONCURRENCY
  if type(conc) ~= "number" or conc < 1 or (conc ~= math.huge and conc % 1 ~= 0) then
    error("bad option 'concurrency' to 'map' (positive integer expected)", 2)
  end
  local n = extent(list)
  local results, errs, state = {}, {}, {}
  local nexti = 0
  local function worker()
    while true do
      nexti = nexti + 1
      local i = nexti
      if i > n then return end
      state[i] = "running"
      local ok, r, e = pcall(fn, list[i], i)
      if not ok then errs[i] = as_error(r)
      elseif r == nil then errs[i] = e ~= nil and as_error(e) or nil
      else results[i] = r end
      state[i] = "done"
    end
  end
  local jobs = {}
  local broken
  for w = 1, math.min(conc, n) do
    jobs[w] = scheduler.spawn(worker, function(msg) broken = msg end)
  end
  for _, job in ipairs(jobs) do
    if not job.done then
      local ok, err = job:wait()
      if ok == nil and err then broken = broken or err end
    end
  end
  for i = 1, n do
    if state[i] ~= "done" then
      errs[i] = errors.new { code = "callback",
        message = "map: item " .. i .. " did not finish: " .. tostring(broken or "not run") }
    end
  end
  -- # of both is the length of list, trailing failures included (a later map or refine
  -- over the results then sees every index)
  local len = { __len = function() return n end }
  setmetatable(results, len)
  setmetatable(errs, len)
  return results, errs
end

-- The client methods below are called with ':' (a '.' would shift every argument).
local Client_class
local function check_client(c)
  if getmetatable(c) ~= Client_class then errors.bad_self("client", 2) end
end

--- Client method: `client:map(list, fn, opts)`, see `map`.
local function client_map(self, list, fn, opts)
  check_client(self)
  return M.map(list, fn, opts)
end

local function refs_of(req)
  local inputs = type(req.inputs) == "table" and req.inputs or {}
  local list = inputs.referenceImages or req.referenceImages
  return type(list) == "table" and list or {}
end

--- Client method: `client:series(req, n [, opts])` makes ONE task asking for a sequential
-- series of `n` images (`providerSettings.bytedance.maxSequentialImages = n`) and returns
-- its images in order. The model may make fewer than asked: the list then has
-- `short = true`; it always has `requested` (n, times numberResults when that asks for
-- several series). References + n must stay <= 15.
-- `opts` are `submit`'s (`timeout`, `on_image`).
-- @treturn table|nil images
-- @return err
function M.series(client, req, n, opts)
  check_client(client)
  if type(req) ~= "table" then error("bad argument #1 to 'series' (table expected)", 2) end
  if n == nil then error("bad argument #2 to 'series' (number of images expected)", 2) end
  local limits = core.limits
  local field = "providerSettings.bytedance.maxSequentialImages"
  if math.type(n) ~= "integer" then n = math.tointeger(n) end
  if not n or n < 1 or n > limits.sequential_max then
    return nil, errors.new { code = "invalid", field = field,
      message = ("a series has 1 to %d images"):format(math.floor(limits.sequential_max)) }
  end
  local nrefs = #refs_of(req)
  if nrefs + n > limits.refs_plus_sequential_max then
    return nil, errors.new { code = "invalid", field = field,
      message = ("%d reference image(s) + a series of %d = %d, more than the %d allowed "
                 .. "(referenceImages + maxSequentialImages <= %d)")
                :format(nrefs, n, nrefs + n, math.floor(limits.refs_plus_sequential_max),
                        math.floor(limits.refs_plus_sequential_max)) }
  end
  local r = {}
  for k, v in pairs(req) do r[k] = v end
  local ps = {}
  for k, v in pairs(type(req.providerSettings) == "table" and req.providerSettings or {}) do
    ps[k] = v
  end
  local bd = {}
  for k, v in pairs(type(ps.bytedance) == "table" and ps.bytedance or {}) do bd[k] = v end
  bd.maxSequentialImages = n
  ps.bytedance = bd
  r.providerSettings = ps
  local images, err = client:generate(r, opts)
  if not images then return nil, err end
  -- numberResults > 1 asks for that many series
  images.requested = n * (math.tointeger(req.numberResults) or 1)
  if #images < images.requested then images.short = true end
  return images
end

-- The size of the request that made img, if known.
local function size_of(img)
  local task = type(img) == "table" and image.task_of(img)
  local req = task and task.request
  if req and req.width and req.height then return req.width, req.height end
  return nil
end

--- Client method: `client:refine(images, prompt [, opts])` makes one refined image for each
-- image, using it as the first reference image (image tables, imageUUIDs or URLs).
-- `prompt` is a string or `function(img, i) -> string`. Options: `references` (extra
-- references added after the image; 1 + #references <= 14), `request` (other fields of
-- the refine request, e.g. outputFormat), `width`/`height` (default: the source image's
-- size, else 2048x2048), `concurrency` (as in `map`), `timeout`.
-- Returns `results, errs` like `map`: `results[i]` is the refined image of `images[i]`.
function M.refine(client, images, prompt, opts)
  check_client(client)
  if type(images) ~= "table" then error("bad argument #1 to 'refine' (table expected)", 2) end
  local tp = type(prompt)
  if tp ~= "string" and tp ~= "function" then
    error("bad argument #2 to 'refine' (string or function expected)", 2)
  end
  opts = opts or {}
  errors.check_options(opts, REFINE_OPTIONS, "refine")
  local base = opts.request or {}
  local extra = opts.references or refs_of(base)
  local max = core.limits.refs_max
  return M.map(images, function(img, i)
    if img == nil then
      return nil, errors.new { code = "invalid", field = "images[" .. i .. "]",
        message = "no image to refine (the step that should have made it failed)" }
    end
    if 1 + #extra > max then
      return nil, errors.new { code = "invalid", field = "inputs.referenceImages",
        message = ("refine uses the image + %d extra reference(s) = %d, more than %d")
                  :format(#extra, 1 + #extra, math.floor(max)) }
    end
    local text = prompt
    if tp == "function" then
      local e
      text, e = prompt(img, i)
      if text == nil then return nil, e end
    end
    local req = {}
    for k, v in pairs(base) do req[k] = v end
    req.referenceImages = nil
    req.positivePrompt = text
    local w, h = size_of(img)
    req.width = req.width or opts.width or w or 2048
    req.height = req.height or opts.height or h or 2048
    local inputs = {}
    for k, v in pairs(type(base.inputs) == "table" and base.inputs or {}) do inputs[k] = v end
    local refs = { img }
    for _, ref in ipairs(extra) do refs[#refs + 1] = ref end
    inputs.referenceImages = refs
    req.inputs = inputs
    local out, err = client:generate(req, { timeout = opts.timeout })
    if not out then return nil, err end
    return out[1]
  end, { concurrency = opts.concurrency })
end

--- Installs the workflow layer: `client:map`, `client:series`, `client:refine` on the
-- client class, and `seedream.map`, `seedream.run_dir` on the module table.
function M.install(seedream, Client)
  Client_class = Client
  Client.map = client_map
  Client.series = M.series
  Client.refine = M.refine
  seedream.map = M.map
  seedream.run_dir = function(dir, opts) return require("seedream.rundir").open(dir, opts) end
  return seedream
end

return M
