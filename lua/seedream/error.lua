--- Error values: every failure at the Lua boundary is `nil, err` with `err` one of these.
-- Fields: `code` (Runware's own code, passed through, or one of the client's lower-case
-- codes), `message`, `field` (path of the offending field), `status` (HTTP), `taskUUID`,
-- `retryable`, `documentation`; `tostring(err)` gives one readable line.
-- @module seedream.error
local core = require "seedream.core"

local M = {}

local Error = {}
Error.__index = Error
Error.__name = "seedream.Error"

function Error.__tostring(e)
  local s = "seedream: "
  if e.field and e.field ~= "" then
    s = s .. e.field .. (e.file and (" (" .. e.file .. ")") or "") .. ": "
  end
  s = s .. tostring(e.message or "error") .. " (" .. tostring(e.code)
  if e.status and e.status ~= 0 then s = s .. ", HTTP " .. e.status end
  return s .. ")"
end

--- Client codes with their default retryability, from the C core's one list.
M.codes = core.codes

--- Core paths are 0-based like the wire; Lua users count from 1. referenceImages is the
-- only list in a request: a key of the caller's own that holds "[3]" stays as it is.
local function lua_path(field)
  if not field then return nil end
  return (field:gsub("(referenceImages)%[(%d+)%]",
                     function(k, n) return k .. "[" .. (tonumber(n) + 1) .. "]" end))
end

--- Makes an error value from a table of fields.
function M.new(t)
  if t.retryable == nil then
    local r = M.codes[t.code]
    t.retryable = r == true or (t.status == 429) or (t.status ~= nil and t.status >= 500) or false
  end
  return setmetatable(t, Error)
end

--- An error reported by the C core for a request (field paths become 1-based).
function M.from_core(e, extra)
  local field = lua_path(e.field)
  local msg = e.message
  -- the core may repeat the path at the start of its message; say it once
  if e.field and msg:sub(1, #e.field + 2) == e.field .. ": " then msg = msg:sub(#e.field + 3) end
  local t = { code = e.code, message = msg, field = field }
  for k, v in pairs(extra or {}) do t[k] = v end
  return M.new(t)
end

-- s with every occurrence of the plain string old replaced by new (no patterns: paths hold
-- brackets and dots, keys anything).
local function replace_plain(s, old, new)
  if old == "" then return s end
  local at, parts = 1, {}
  while true do
    local i, j = s:find(old, at, true)
    if not i then break end
    parts[#parts + 1] = s:sub(at, i - 1) .. new
    at = j + 1
  end
  parts[#parts + 1] = s:sub(at)
  return table.concat(parts)
end

--- s with the API key (`secret`) replaced by "[API key]", nothing else changed (for values
-- a server sent that are used as they are, such as an image URL).
function M.redact(s, secret)
  if secret and #secret >= 4 and type(s) == "string" then
    return replace_plain(s, secret, "[API key]")
  end
  return s
end

--- A URL as errors may show it: scheme://host[:port]/path, without user:password@, query or
-- fragment (they may hold secrets, such as the signature of a signed download URL).
function M.url_shown(url)
  url = tostring(url)
  local scheme, rest = url:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then return (url:gsub("[?#].*$", "")) end
  local authority = rest:match("^[^/?#]*")
  local path = rest:sub(#authority + 1):gsub("[?#].*$", "")
  return scheme .. authority:gsub("^.*@", "") .. path
end

--- Server text made safe to show: `secret` (the API key, should a server or proxy echo it)
-- replaced, control characters (terminal escapes) made spaces, at most 1,000 bytes.
function M.clean(text, secret)
  text = tostring(text)
  if secret and #secret >= 4 then text = replace_plain(text, secret, "[API key]") end
  text = text:gsub("%c", " ")
  if #text > 1000 then text = text:sub(1, 997) .. "..." end
  return text
end

--- An error item of a Runware response (`errors[i]` or a failed getResponse item). Any
-- shape is taken (a hostile or broken server may send numbers where objects belong).
-- `secret`: the API key, removed from the server's text.
function M.from_api(item, status, task_uuid, secret)
  if type(item) ~= "table" then item = { message = item } end
  local e = item.error
  if type(e) ~= "table" then e = e ~= nil and { message = e } or item end
  local message = type(e.message) == "number" and ("%.14g"):format(e.message) or e.message
  message = type(message) == "string" and M.clean(message, secret) or "the API reported an error"
  local field = type(e.parameter) == "string" and lua_path(e.parameter) or nil
  if field and field ~= e.parameter then
    -- the wire's paths are 0-based: where the message names the same place, say it as the
    -- field does
    message = replace_plain(message, e.parameter, field)
  end
  return M.new {
    code = type(e.code) == "string" and M.clean(e.code, secret) or "http",
    message = message,
    field = field and M.clean(field, secret),
    status = status,
    taskUUID = type(item.taskUUID) == "string" and item.taskUUID or task_uuid,
    documentation = type(e.documentation) == "string" and M.clean(e.documentation, secret) or nil,
    api = true,                      -- written by the server, even without a code of its own
  }
end

function M.is(v) return getmetatable(v) == Error end

-- The folder of the library's own files ("@.../seedream/"), to tell its frames apart.
local LIB = "@" .. (debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "")

--- The level, for `error(msg, level)` in the function that calls this, of the first caller
-- outside the library: misuse is then reported at the user's line however deep in the
-- library it was found (client:generate -> submit -> ...). 0 (no position) if none.
function M.user_level()
  local level = 3                                -- 1: this function, 2: its caller
  while true do
    local info = debug.getinfo(level, "S")
    if not info then return 0 end
    if info.what ~= "C" and info.source:sub(1, #LIB) ~= LIB then return level - 1 end
    level = level + 1
  end
end

--- Raises for a method called with `.` instead of `:` (`client.generate(req)`): its self is
-- then the first argument, and whatever fails next would blame the library. `what` names
-- the object ("client"); the method's name is read from the call, `depth` levels up (1: the
-- method itself called this, 2: a check it called did).
function M.bad_self(what, depth)
  local info = debug.getinfo(2 + (depth or 1) - 1, "n")
  local name = info and info.name or "method"
  error(("seedream: call it as %s:%s(...), not %s.%s(...)"):format(what, name, what, name),
        M.user_level())
end

--- True for the error the standalone `lua` makes of a Ctrl-C ("interrupted!", maybe with a
-- position before it and a traceback after it).
function M.is_interrupt(e)
  return type(e) == "string" and e:match("^[^\n]*"):sub(-12) == "interrupted!"
end

--- Raises again an interrupt (Ctrl-C): the library's own pcalls (listeners, callbacks)
-- must not swallow it.
function M.pass_interrupt(e)
  if M.is_interrupt(e) then error(e, 0) end
end

--- os.execute(cmd), except that a Ctrl-C that stopped the command stops the caller too:
-- system() ignores SIGINT in this process while the shell runs, so only the shell dies,
-- and without this the interrupt would be lost. (A shell whose command died of SIGINT
-- exits 130; none of the library's commands exits 130 on its own.)
function M.execute(cmd)
  local ok, how, code = os.execute(cmd)
  if (how == "signal" and (code == 2 or code == 3)) or (how == "exit" and code == 130) then
    error("interrupted!", 0)
  end
  return ok, how, code
end

--- Checks an argument's type: raises "bad argument #n to 'fname' (kind expected, got
-- type)" at the caller's line, as Lua's own functions do. `kind` may be "kind|nil".
function M.check_arg(v, n, fname, kind)
  local t = type(v)
  if t == kind or (t == "nil" and kind:sub(-4) == "|nil") or kind:sub(1, #t + 1) == t .. "|" then
    return v
  end
  error(("bad argument #%d to '%s' (%s expected, got %s)"):format(n, fname,
        (kind:gsub("|nil$", " or nil")), t), M.user_level())
end

-- Edit distance of a and b, a swap of two neighbours counting as one edit (short option
-- names only), for "did you mean".
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local ca, cb = a:byte(i), b:byte(j)
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ca == cb and 0 or 1))
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

--- Raises "bad option" for a key of the options table `o` that is not in `known` (a set),
-- with the nearest known name: a misspelt `budjet` must not silently mean no budget.
-- `where` names the function ("seedream.client"), `prefix` a nested table ("poll.").
function M.check_options(o, known, where, prefix)
  if type(o) ~= "table" then
    error(("bad options to %s (table expected, got %s)"):format(where, type(o)), M.user_level())
  end
  for k in pairs(o) do
    if not known[k] then
      local best, best_d
      if type(k) == "string" then
        for name in pairs(known) do
          local d = distance(k:lower(), name:lower())
          if d <= math.max(1, #name // 4) and (not best_d or d < best_d
                                               or (d == best_d and name < best)) then
            best, best_d = name, d
          end
        end
      end
      error(("bad option '%s%s' to %s (unknown%s)"):format(prefix or "", tostring(k), where,
            best and ("; did you mean '" .. (prefix or "") .. best .. "'?") or ""),
            M.user_level())
    end
  end
end

--- True when a task failed without learning whether the server made it (no answer in
-- time, a connection broken after the request was written to it, a 5xx or an empty/JSON
-- 4xx that is not the API's readable error, a body it could not read or hold): it may be
-- charged, so it is polled rather than sent again (the client does so once at once, a run
-- directory's next run too), and a budget counts it. An error the server gave about the
-- task itself (its own code), or a request that never left (refused, DNS, TLS: `sent` is
-- false), says the task was not made.
function M.outcome_unknown(err)
  if type(err) ~= "table" then return false end
  local c = err.code
  return c == "timeout" or c == "bad_response" or c == "io" or c == "nomem"
      or (c == "network" and err.sent ~= false)
      or (c == "http" and (err.maybe_api or (type(err.status) == "number" and err.status >= 500)))
end

-- The codes with which the server says it does not know a taskUUID (Runware's SDKs list
-- taskFailedOrNotFound; the emulator says taskNotFound).
local NOT_FOUND = { taskNotFound = true, taskFailedOrNotFound = true }

--- True when the server said it has no task under that taskUUID.
function M.not_found(err)
  return type(err) == "table" and NOT_FOUND[err.code] == true
end

return M
