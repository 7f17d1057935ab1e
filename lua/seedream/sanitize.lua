--- What a request looks like where it is written down (a run directory's manifest and
-- journal): no inline image data, no secrets.
-- @module seedream.sanitize
local core = require "seedream.core"
local image = require "seedream.image"
local array = require("seedream.json").array

local function placeholder(s)
  if s:sub(1, 5) == "data:" then return ("<data URI %d bytes>"):format(#s) end
  return ("<base64 %d bytes>"):format(#s)
end

local function ref_view(r)
  local t = type(r)
  if t == "string" then
    if core.is_uuid(r) or r:match("^https?://") then return r end
    return placeholder(r)
  elseif t == "table" and image.is(r) then
    return r.imageUUID or (r.imageURL or "<image>")
  elseif t == "userdata" then
    local ok, p = pcall(function() return r.path end)
    return "<file " .. tostring(ok and p or "?") .. ">"
  end
  return "<" .. t .. ">"
end

local SECRET = { api_key = true, apiKey = true, Authorization = true, authorization = true }

local function clean(v, key)
  local t = type(v)
  if t == "string" then
    if v:sub(1, 5) == "data:" and #v > 64 then return placeholder(v) end
    return v
  elseif t == "table" then
    if image.is(v) then return ref_view(v) end
    local out = {}
    for k, x in pairs(v) do
      if not SECRET[k] then
        if k == "referenceImages" and type(x) == "table" then
          local list = array()
          for i, r in ipairs(x) do list[i] = ref_view(r) end
          out[k] = list
        else
          out[k] = clean(x, k)
        end
      end
    end
    return out
  elseif t == "userdata" or t == "function" or t == "thread" then
    return ref_view(v)
  end
  return v
end

-- A copy of a request fit for a manifest or a journal: reference images that are inline
-- data become `"<data URI 12345 bytes>"` / `"<base64 ... bytes>"`, local files
-- `"<file path>"`, image tables their imageUUID; keys that could hold secrets are dropped.
return function(req) return clean(req) end

