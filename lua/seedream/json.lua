--- JSON for files people read: manifests and journal lines. lua-cjson decodes; encoding is
-- done here because cjson neither sorts keys nor indents, and a manifest should read and
-- diff well.
-- @module seedream.json
local cjson = require("cjson").new()

local M = {}

local ARRAY = { __name = "seedream.json.array" }
--- Marks a table as a JSON array (so that an empty one is written `[]`).
local function array(t) return setmetatable(t or {}, ARRAY) end
M.array = array

local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return ESC[c] or ("\\u%04x"):format(c:byte()) end) .. '"'
end

local function enc(v, ind, cur, out)
  local tv = type(v)
  if tv == "string" then out[#out + 1] = quote(v)
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" or (v == math.floor(v) and math.abs(v) < 2^53) then
      out[#out + 1] = ("%d"):format(v)
    else out[#out + 1] = ("%.14g"):format(v) end
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv ~= "table" then out[#out + 1] = "null"
  else
    local inner = ind and cur .. ind
    local nl, close = ind and ("\n" .. inner) or "", ind and ("\n" .. cur) or ""
    local keys, n = {}, #v
    for k in pairs(v) do keys[#keys + 1] = k end
    if getmetatable(v) == ARRAY or (n > 0 and #keys == n) then
      if n == 0 then out[#out + 1] = "[]" return end
      for i = 1, n do
        out[#out + 1] = (i > 1 and "," or "[") .. nl
        enc(v[i], ind, inner, out)
      end
      out[#out + 1] = close .. "]"
      return
    end
    if #keys == 0 then out[#out + 1] = "{}" return end
    for i, k in ipairs(keys) do keys[i] = { tostring(k), v[k] } end
    table.sort(keys, function(a, b) return a[1] < b[1] end)
    for i, kv in ipairs(keys) do
      out[#out + 1] = (i > 1 and "," or "{") .. nl .. quote(kv[1]) .. (ind and ": " or ":")
      enc(kv[2], ind, inner, out)
    end
    out[#out + 1] = close .. "}"
  end
end

--- JSON text of a value; `indent` (e.g. "  ") pretty-prints. Object keys are sorted.
function M.encode(v, indent)
  local out = {}
  enc(v, indent, "", out)
  return table.concat(out)
end

local function normalize(v)
  if v == cjson.null then return nil end
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2^53 then
    return math.tointeger(v) or v
  end
  if type(v) == "table" then for k, x in pairs(v) do v[k] = normalize(x) end end
  return v
end

--- Decodes JSON text: integral numbers become integers, nulls are dropped.
-- @return the value, or `nil, message`
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, tostring(v) end
  return normalize(v)
end

return M
