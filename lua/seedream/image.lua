--- Image results: the API's item fields (imageUUID, imageURL / imageBase64Data /
-- imageDataURI, seed, cost, taskUUID, NSFWContent) plus `index` (1-based within its task),
-- and methods to save them.
-- @module seedream.image
local core = require "seedream.core"
local errors = require "seedream.error"

local M = {}

local Image = {}
Image.__index = Image
Image.__name = "seedream.Image"
M.Image = Image

-- image -> its task, kept aside so that an image table stays plain data (printable,
-- JSON-encodable) while it can still reach its client to download itself.
local owner = setmetatable({}, { __mode = "k" })

local FIELDS = { "taskType", "taskUUID", "imageUUID", "imageURL", "imageBase64Data",
                 "imageDataURI", "seed", "cost", "NSFWContent" }
M.FIELDS = FIELDS
local EXT = { JPG = "jpg", PNG = "png", WEBP = "webp" }
M.SAVE_OPTIONS = { name = true, timeout = true }     -- of save and client:download

-- The decoded item becomes the image itself (no copy): only the documented fields stay,
-- and JSON nulls (cjson.null, a userdata: webhook bodies are decoded by cjson) are dropped.
local KEEP = {}
for _, k in ipairs(FIELDS) do KEEP[k] = true end

-- `decoded`: the item comes from protocol.parse, which kept only these fields (and status,
-- error) already.
function M.new(item, task, index, decoded)
  local img = item
  if decoded then
    img.status, img.error = nil, nil
  else
    for k, v in pairs(img) do
      if not KEEP[k] or type(v) == "userdata" then img[k] = nil end
    end
  end
  img.index = index
  img.taskUUID = img.taskUUID or task.taskUUID
  img.format = EXT[task.format] or "jpg"
  owner[img] = task
  return setmetatable(img, Image)
end

function Image:__tostring()
  return ("seedream.Image %s"):format(self.imageUUID or "?")
end

function M.is(v) return getmetatable(v) == Image end
function M.task_of(img) return owner[img] end

local function is_dir(path)
  local f = io.open(path .. "/.", "r")
  if f then f:close() return true end
  return false
end
-- True when dir does not exist or is not a directory (not when it only cannot be listed).
function M.missing_dir(dir)
  local f, _, code = io.open(dir .. "/.", "r")
  if f then f:close() return false end
  return code == 2 or code == 20                    -- ENOENT, ENOTDIR
end

--- The file name for an image in a directory: `pattern` with `{taskUUID}`, `{imageUUID}`,
-- `{index}`, `{seed}`, `{ext}` replaced (default `{taskUUID}-{index}.{ext}`, or
-- `{taskUUID}-{imageUUID}.{ext}` for an image without its place in the task, such as a
-- webhook delivery). Values from the server are used only after checking them (a UUID, an
-- integer), so a hostile server cannot make a name that leaves the directory.
function M.file_name(img, pattern)
  pattern = pattern or (img.index and "{taskUUID}-{index}.{ext}" or "{taskUUID}-{imageUUID}.{ext}")
  local bad, unknown
  local name = pattern:gsub("{(%w+)}", function(k)
    local v = img[k]
    if k == "ext" then return img.format end
    if k == "taskUUID" or k == "imageUUID" then
      if type(v) ~= "string" or not core.is_uuid(v) then bad = k; return "" end
      return v
    end
    if k == "index" or k == "seed" then
      if math.type(v) ~= "integer" then bad = k; return "" end
      return tostring(v)
    end
    unknown = k
    return ""
  end)
  if unknown then                 -- the caller's pattern, not the server's values
    return nil, errors.new { code = "invalid", field = "name",
      message = "cannot name the file: {" .. unknown .. "} is not one of {taskUUID}, "
        .. "{imageUUID}, {index}, {seed}, {ext}" }
  end
  if bad then
    return nil, errors.new { code = "bad_response", field = bad,
      message = "cannot name the file: '" .. bad .. "' is missing or not safe in a file name" }
  end
  return name
end

-- nil, or the error for a path named for another image format than img's (a JPEG in
-- "x.png" misleads whoever opens it).
local function wrong_extension(img, path)
  local ext = path:lower():match("%.(%w+)$")
  ext = ext == "jpeg" and "jpg" or ext
  if not (ext == "jpg" or ext == "png" or ext == "webp") or not img.format
     or ext == img.format then
    return nil
  end
  return errors.new { code = "invalid", field = "path", message = ("%s names a %s file, but "
    .. "this image is a %s: name it .%s, or ask for outputFormat = \"%s\""):format(path,
    ext:upper(), img.format:upper(), img.format, ext:upper()) }
end

--- Where `save(target)` writes: target itself, or a generated name inside it when target
-- is a directory (or ends with "/"); `nil, err` for a name of another image format.
function M.path_for(img, target, opts)
  opts = opts or {}
  target = target or "."
  local path = target
  if target:sub(-1) == "/" or is_dir(target) then
    local name, err = M.file_name(img, opts.name)
    if not name then return nil, err end
    path = (target:gsub("/+$", "")) .. "/" .. name
  end
  local err = wrong_extension(img, path)
  if err then return nil, err end
  return path
end

-- Writes an inline (base64 / data URI) image; URL images need the client.
function M.write_inline(img, path)
  local ok, err
  if img.imageBase64Data then
    ok, err = core.write_base64(path, img.imageBase64Data, 1, img.format)
  else
    local comma = img.imageDataURI:find(",", 1, true)
    if not comma then
      return nil, errors.new { code = "bad_response", message = "imageDataURI has no ','" }
    end
    ok, err = core.write_base64(path, img.imageDataURI, comma + 1, img.format)
  end
  if not ok then return nil, errors.from_core(err) end
  return path
end

--- Saves the image to `target` (a file path, or a directory: then `opts.name` is the name
-- pattern). URL images are downloaded without any Authorization header, through a
-- temporary file renamed into place, and their format is checked; inline images are
-- decoded in C straight to the file. Inside `seedream.run` this yields while downloading.
-- @return the path written, or `nil, err`
function Image:save(target, opts)
  if getmetatable(self) ~= Image then errors.bad_self("img") end
  errors.check_arg(target, 1, "save", "string|nil")
  errors.check_arg(opts, 2, "save", "table|nil")
  if opts then errors.check_options(opts, M.SAVE_OPTIONS, "save") end
  local path, err = M.path_for(self, target, opts)
  if not path then return nil, err end
  if self.imageBase64Data or self.imageDataURI then return M.write_inline(self, path) end
  local task = owner[self]
  if not self.imageURL then
    return nil, errors.new { code = "invalid", message = "this image has no data or URL to save" }
  end
  if not (task and task.client) then
    return nil, errors.new { code = "invalid", message = "this image belongs to no client: "
      .. "use client:download({ img }, dir)" }
  end
  local f = task.client:fetch(self.imageURL, path, self.format, opts and opts.timeout)
  return f:wait()
end

--- The kind of image some bytes are, from their first bytes (sd_image_sniff, as for
-- files): "jpg", "png", "webp" or nil.
function M.kind_of(bytes) return core.kind_of(bytes) or nil end

--- The encoded image bytes (downloaded for URL images), checked to be the image's format
-- as `save` checks them.
function Image:bytes()
  if getmetatable(self) ~= Image then errors.bad_self("img") end
  local b, err
  if self.imageBase64Data then
    b, err = core.base64_decode(self.imageBase64Data)
    if not b then return nil, errors.from_core(err) end
  elseif self.imageDataURI then
    local comma = self.imageDataURI:find(",", 1, true)
    if not comma then
      return nil, errors.new { code = "bad_response", message = "imageDataURI has no ','" }
    end
    b, err = core.base64_decode(self.imageDataURI, comma + 1)
    if not b then return nil, errors.from_core(err) end
  else
    local task = owner[self]
    if not (task and task.client and self.imageURL) then
      return nil, errors.new { code = "invalid", message = "no data, or no client to download it" }
    end
    b, err = task.client:fetch(self.imageURL, nil, self.format):wait()
    if not b then return nil, err end
  end
  local kind = M.kind_of(b)
  if self.format and kind ~= self.format then
    return nil, errors.new { code = "bad_response", message = ("the image data is not a %s file (got %s)")
      :format(self.format, kind or "unknown data") }
  end
  return b
end

return M
