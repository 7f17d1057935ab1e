--- Downloads (GETs without any Authorization header) that wait like tasks do.
-- @module seedream.fetch
local errors = require "seedream.error"
local Task = require "seedream.task"

local Fetch = setmetatable({}, { __index = Task })
Fetch.__index = Fetch
Fetch.__name = "seedream.Fetch"

function Fetch.new(client, url, path, expect)
  return setmetatable({ client = client, url = url, path = path, expect = expect,
                        status = "sent", _images = {} }, Fetch)
end

function Fetch:__tostring()
  return ("seedream.Fetch %s (%s)"):format(errors.url_shown(self.url), self.status)
end

--- The path written (or the bytes, when no path was given), or `nil, err`.
function Fetch:result()
  if self.status == "done" then return self.value end
  if self.err then return nil, self.err end
  return nil
end

function Fetch:_finish(err, value)
  if self:done() then return end
  self.err, self.value = err, value
  self.status = err and "failed" or "done"
  self.client:_on_fetch_finish(self)
  self:_wake()
end

function Fetch:cancel()
  if self:done() then return false end
  self.client:_cancel(self)
  self:_finish(errors.new { code = "cancelled", message = "download cancelled" })
  return true
end

-- Judges a finished GET: the transport already checked the bytes' kind against `expect`
-- before renaming the file into place (a wrong answer never replaces a file there).
function Fetch:_on_done(done)
  if done.code == "bad_response" then
    return self:_finish(errors.new { code = "bad_response", status = done.status,
      message = ("download of %s is %s"):format(errors.url_shown(self.url),
        (done.message or ""):match("(not a %w+ file .*)$") or done.message) })
  end
  if done.code ~= "ok" then
    return self:_finish(errors.new { code = done.code, message = "download of "
      .. errors.url_shown(self.url) .. " failed: " .. (done.message or done.code) })
  end
  local s = done.status
  if s < 200 or s > 299 or s == 204 or s == 205 then
    local why = (s == 410 or s == 403) and " (the URL has expired: see ttl)"
                or (s == 204 or s == 205) and " (no content)" or ""
    return self:_finish(errors.new { code = "http", status = s,
      message = "download of " .. errors.url_shown(self.url) .. " answered HTTP " .. s .. why })
  end
  if self.path then return self:_finish(nil, self.path) end
  return self:_finish(nil, done.body or "")
end

return Fetch
