-- A tiny local HTTP receiver for specs (webhooks, uploadEndpoint, image hosts): it records
-- every request it gets as one JSON line in a file and answers 200, or `fail_first` times
-- 500 first. Usage: lua5.4 spec/receiver.lua LOGFILE [fail_first]   (prints its port)
local socket = require "socket"
local cjson = require("cjson").new()

local logfile, fail_first = arg[1], tonumber(arg[2] or "0")
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
io.stdout:write(port, "\n")
io.stdout:flush()

local count = 0
while true do
  local c = server:accept()
  if c then
    c:settimeout(5)
    local line = c:receive("*l")
    if line then
      local method, path = line:match("^(%u+) (%S+)")
      local headers = {}
      while true do
        local hl = c:receive("*l")
        if not hl or hl == "" then break end
        local k, v = hl:match("^([^:]+):%s*(.*)$")
        if k then headers[k:lower()] = v end
      end
      local body = ""
      local len = tonumber(headers["content-length"] or "0")
      if len and len > 0 then body = c:receive(len) or "" end
      count = count + 1
      local status = count <= fail_first and 500 or 200
      local f = io.open(logfile, "a")
      f:write(cjson.encode { method = method, path = path, headers = headers,
        authorization = headers.authorization ~= nil, length = #body,
        body = (headers["content-type"] or ""):find("json") and body or nil,
        head = body:sub(1, 16):gsub(".", function(ch) return ("%02x"):format(ch:byte()) end),
        status = status }, "\n")
      f:close()
      c:send(("HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"):format(status))
    end
    c:close()
  end
end
