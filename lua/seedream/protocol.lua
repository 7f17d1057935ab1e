--- The Runware wire protocol: request bodies and response parsing.
-- Kept apart from the client so that what is *inferred* about the protocol is in one file.
-- @module seedream.protocol
local core = require "seedream.core"
local errors = require "seedream.error"
local image = require "seedream.image"

local M = {}

--- The body of one getResponse POST polling many tasks at once (the body is always an array).
function M.poll_body(uuids)
  local parts = {}
  for i, uuid in ipairs(uuids) do
    parts[i] = '{"taskType":"getResponse","taskUUID":' .. core.json_string(uuid) .. '}'
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

local function snippet(body)
  body = (body or ""):gsub("[%c]", " ")
  if #body > 120 then body = body:sub(1, 117) .. "..." end
  return body
end

-- The members of a data item worth decoding: an image's documented fields, and the status
-- and error of a getResponse item (image.new drops those two from images).
local ITEM_FIELDS = { status = true, error = true }
-- The string members of an item that are used or shown as they come (image data excepted:
-- it is only decoded into a file).
local SCRUBBED = { "imageURL", "imageUUID", "taskUUID", "taskType", "NSFWContent", "status" }
for _, k in ipairs(image.FIELDS) do ITEM_FIELDS[k] = true end

--- Parses a finished transfer (from Http:next()) into
-- `{ items = {uuid -> {item...}}, errors = {uuid -> err}, common = err|nil }`.
-- `common` is an error that applies to every task of the request (transport failure, HTTP
-- error without a task, malformed body). The body is decoded and sorted by task in C
-- (core.answer); only errors become tables here. `secret` (the API key) is removed from
-- any server text that goes into an error.
function M.parse(done, secret)
  if done.code ~= "ok" then
    local message = done.message or done.code
    if message:find("certificate", 1, true) then
      message = message .. " (a CA the system does not know: pass ca_file to seedream.client or"
                .. " set SEEDREAM_CA_FILE)"
    end
    return { items = {}, errors = {}, common = errors.new { code = done.code,
      message = message, retryable = errors.codes[done.code], sent = done.sent == true } }
  end
  local status, body = done.status, done.body or ""
  local out = core.answer(body, ITEM_FIELDS)
  if not out then
    -- the key is replaced before the snippet is cut (cut first, a key across the cut would
    -- show in part)
    local what = body == "" and "an empty body" or ("a body that is not JSON: "
                 .. snippet(errors.clean(body:sub(1, 4096), secret)))
    if status >= 200 and status < 300 then
      return { items = {}, errors = {}, common = errors.new { code = "bad_response",
        status = status, message = "the API answered with " .. what } }
    end
    -- an empty or JSON-typed body that cannot be read may be the API's answer cut short (a
    -- conflictTaskUUID...): the client may poll; an HTML page is somebody else's answer
    local ctype = done.content_type or ""
    return { items = {}, errors = {}, common = errors.new { code = "http", status = status,
      message = "HTTP " .. status .. " with " .. what,
      maybe_api = body == "" or ctype:find("json", 1, true) ~= nil or nil } }
  end
  for uuid, raw in pairs(out.errors) do
    out.errors[uuid] = errors.from_api(raw, status, nil, secret)
  end
  -- (a small answer is searched once; a large one, with image data, field by field)
  if secret and #secret >= 4 and (#body > 65536 or body:find(secret, 1, true)) then
    -- a server (or proxy) that puts the key in an item's strings must not have it sent to
    -- an image host, saved in a run directory or printed: replaced where it stands
    for _, list in pairs(out.items) do
      for _, item in ipairs(list) do
        for _, k in ipairs(SCRUBBED) do
          local v = item[k]
          if type(v) == "string" and v:find(secret, 1, true) then
            item[k] = errors.redact(v, secret)
          end
        end
      end
    end
  end
  if out.common then out.common = errors.from_api(out.common[1], status, nil, secret) end
  if not out.has_data and not out.has_errors and status >= 200 and status < 300 then
    out.common = errors.new { code = "bad_response", status = status,
                              message = "the API answered without data or errors" }
  end
  if status >= 300 and not out.common and not next(out.errors) and not next(out.items) then
    out.common = errors.new { code = "http", status = status, message = "HTTP " .. status }
  end
  return out
end

--- True when an item carries an image (rather than only a status).
function M.is_image(item)
  return type(item.imageUUID) == "string" and (type(item.imageURL) == "string"
    or type(item.imageBase64Data) == "string" or type(item.imageDataURI) == "string")
end

--- Status words of getResponse that mean "not finished" (older docs say pending).
M.running = { processing = true, pending = true }

return M
