--- Webhook deliveries: Runware POSTs each finished image to `webhookURL` as the flat item
-- (no `data` wrapper) and retries on non-2xx, so the same image can arrive more than once.
-- No signature scheme is documented: treat the URL itself as the secret (a long random path).
-- @module seedream.webhook
local cjson = require("cjson").new()
local core = require "seedream.core"
local errors = require "seedream.error"
local image = require "seedream.image"

local M = {}

local function bad(msg)
  return nil, errors.new { code = "bad_response", message = "webhook body: " .. msg }
end

--- Parses one delivery body. Returns the image table (the API's item fields), or
-- `nil, err` (the item's own error for a failed task: `err.code` is Runware's code).
-- `secret` (default: RUNWARE_API_KEY) is replaced wherever the delivery's error or image
-- URL would show it.
function M.parse(body, secret)
  if type(body) ~= "string" then error("bad argument #1 to 'parse' (string expected)", 2) end
  secret = secret or os.getenv("RUNWARE_API_KEY")
  local ok, item = pcall(cjson.decode, body)
  if not ok or type(item) ~= "table" then return bad("not a JSON object") end
  if type(item.data) == "table" and type(item.data[1]) == "table" then item = item.data[1] end
  -- a failed task may come as an API error envelope: {"errors": [e]} or {"error": e,
  -- "taskUUID": ...}; its error is the answer
  if type(item.errors) == "table" and type(item.errors[1]) == "table" then
    local e = item.errors[1]
    item = { taskUUID = e.taskUUID, error = e }
  elseif type(item.error) == "table" and item.error.taskUUID and item.taskUUID == nil then
    item.taskUUID = item.error.taskUUID
  end
  if type(item.taskUUID) ~= "string" or not core.is_uuid(item.taskUUID) then
    return bad("taskUUID is missing or not a UUID")
  end
  if item.status == "error" or (item.error ~= nil and item.error ~= cjson.null) then
    return nil, errors.from_api(item, nil, item.taskUUID, secret)
  end
  if type(item.imageUUID) ~= "string" or not core.is_uuid(item.imageUUID) then
    return bad("imageUUID is missing or not a UUID")
  end
  for _, k in ipairs { "imageURL", "imageBase64Data", "imageDataURI" } do
    if item[k] == cjson.null then item[k] = nil end
    if item[k] ~= nil and type(item[k]) ~= "string" then return bad(k .. " is not a string") end
  end
  if not (item.imageURL or item.imageBase64Data or item.imageDataURI) then
    return bad("no imageURL, imageBase64Data or imageDataURI")
  end
  item.imageURL = errors.redact(item.imageURL, secret)
  -- the format: from the URL's extension, else the data URI's type, else the bytes' magic
  local fmt = type(item.imageURL) == "string" and item.imageURL:match("%.(%a+)$")
  if not fmt and item.imageDataURI then fmt = item.imageDataURI:match("^data:image/(%a+);") end
  if not fmt and item.imageBase64Data then
    fmt = image.kind_of(core.base64_decode(item.imageBase64Data:sub(1, 24)) or "")
  end
  local task = { taskUUID = item.taskUUID, format = (fmt or "jpg"):upper() }
  if task.format == "JPEG" then task.format = "JPG" end
  return image.new(item, task, nil)
end

local Dedup = {}
Dedup.__index = Dedup

--- A de-duplicator of deliveries keyed by (taskUUID, imageUUID): `d:first(img)` is true
-- the first time an image is seen. Keeps at most `max` keys (oldest forgotten first).
function M.dedup(max)
  return setmetatable({ seen = {}, order = {}, head = 1, tail = 0, max = max or 100000 }, Dedup)
end

-- order[head..tail] holds the keys, oldest first (counted, not taken by #: the list's
-- start is cleared as keys are forgotten, and # of such a table is not its length).
function Dedup:first(img)
  local key = img.taskUUID .. "/" .. img.imageUUID
  if self.seen[key] then return false end
  self.seen[key] = true
  self.tail = self.tail + 1
  self.order[self.tail] = key
  if self.tail - self.head + 1 > self.max then
    self.seen[self.order[self.head]] = nil
    self.order[self.head] = nil
    self.head = self.head + 1
  end
  return true
end

--- Parses a body and says whether it is new: `img, is_new` or `nil, err`.
function Dedup:accept(body)
  local img, err = M.parse(body)
  if not img then return nil, err end
  return img, self:first(img)
end

return M
