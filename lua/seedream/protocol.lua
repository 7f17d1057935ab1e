--- The Runware wire protocol (DESIGN.md section 4): request bodies and response parsing.
-- Kept apart from the client so that what is *inferred* about the protocol is in one file.
-- @module seedream.protocol
local cjson = require("cjson").new()
local core = require "seedream.core"
local errors = require "seedream.error"

cjson.decode_max_depth(64)

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

local function is_array(v) return type(v) == "table" end

--- Parses a finished transfer (from Http:next()) into
-- `{ items = {uuid -> {item...}}, errors = {uuid -> err}, common = err|nil }`.
-- `common` is an error that applies to every task of the request (transport failure, HTTP
-- error without a task, malformed body).
function M.parse(done)
  local out = { items = {}, errors = {} }
  if done.code ~= "ok" then
    out.common = errors.new { code = done.code, message = done.message or done.code,
                              retryable = errors.codes[done.code] }
    return out
  end
  local status, body = done.status, done.body or ""
  local ok, doc = pcall(cjson.decode, body)
  if not ok or type(doc) ~= "table" then
    local what = body == "" and "an empty body" or ("a body that is not JSON: " .. snippet(body))
    if status >= 200 and status < 300 then
      out.common = errors.new { code = "bad_response", status = status,
                                message = "the API answered with " .. what }
    else
      out.common = errors.new { code = "http", status = status,
                                message = "HTTP " .. status .. " with " .. what }
    end
    return out
  end
  local errs = doc.errors
  if type(doc.error) == "table" then errs = { doc.error } end
  if is_array(errs) then
    for _, e in ipairs(errs) do
      if type(e) == "table" then
        local err = errors.from_api(e, status)
        local uuid = type(e.taskUUID) == "string" and e.taskUUID or nil
        if uuid then out.errors[uuid] = out.errors[uuid] or err
        else out.common = out.common or err end
      end
    end
  end
  if is_array(doc.data) then
    for _, item in ipairs(doc.data) do
      if type(item) == "table" and type(item.taskUUID) == "string" then
        if item.status == "error" then
          out.errors[item.taskUUID] = out.errors[item.taskUUID] or errors.from_api(item, status)
        else
          local list = out.items[item.taskUUID]
          if not list then list = {}; out.items[item.taskUUID] = list end
          list[#list + 1] = item
        end
      end
    end
  elseif not errs and status >= 200 and status < 300 then
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
  return type(item.imageUUID) == "string" and (item.imageURL or item.imageBase64Data
    or item.imageDataURI) ~= nil
end

--- Status words of getResponse that mean "not finished" (older docs say pending).
M.running = { processing = true, pending = true }

return M
