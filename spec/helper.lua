-- Shared spec helpers: start a private emulator on a free port, talk to its control
-- endpoints, make requests that pass validation. Specs never touch the network beyond
-- 127.0.0.1.
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require("cjson").new()

local M = {}
M.KEY = "test-key-0123456789"
M.EMULATOR = os.getenv("SEEDREAM_EMULATOR") or "build/seedream-emulator"

if os.getenv("SEEDREAM_GC_STRESS") then
  collectgarbage("incremental", 0, 100)    -- the GC runs all the time: __gc paths run
end

local Emu = {}
Emu.__index = Emu

--- Starts an emulator; extra is a string of flags ("--latency-ms 50").
function M.emulator(extra)
  local cmd = ("sh -c 'echo $$; exec %s --port 0 --api-key %s --quiet %s'")
    :format(M.EMULATOR, M.KEY, extra or "")
  local p = assert(io.popen(cmd, "r"))
  local pid = assert(tonumber(p:read("l")), "emulator did not start")
  local url = p:read("l")
  assert(url and url:match("^https?://127%.0%.0%.1:%d+/v1$"), "emulator printed " .. tostring(url))
  return setmetatable({ pipe = p, pid = pid, url = url, base = url:gsub("/v1$", "") }, Emu)
end

function Emu:stop()
  if self.pipe then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pipe:close()
    self.pipe = nil
  end
end
Emu.__gc = Emu.stop
Emu.__close = Emu.stop

-- A plain HTTP request to the emulator's control endpoints; returns status, decoded body.
function M.request(method, url, body, headers)
  local chunks = {}
  headers = headers or {}
  if body then
    headers["content-type"] = headers["content-type"] or "application/json"
    headers["content-length"] = #body
  end
  local _, status = http.request {
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  local text = table.concat(chunks)
  local ok, doc = pcall(cjson.decode, text)
  return status, ok and doc or text
end

function Emu:stats()
  local status, doc = M.request("GET", self.base .. "/stats")
  assert(status == 200, "GET /stats: " .. tostring(status))
  return doc
end

function Emu:fault(f)
  local status = M.request("POST", self.base .. "/faults", cjson.encode(f))
  assert(status == 200 or status == 204, "POST /faults: " .. tostring(status))
end

function Emu:requests(n)
  local status, doc = M.request("GET", self.base .. "/requests?last=" .. (n or 20))
  assert(status == 200, "GET /requests: " .. tostring(status))
  return doc
end

--- A free TCP port on 127.0.0.1 (the kernel's pick, released at once).
function M.free_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return assert(tonumber(port))
end

M.NGHTTPX = os.getenv("SEEDREAM_NGHTTPX") or "/usr/sbin/nghttpx"

--- An HTTP/2 TLS front (nghttpx, Debian's nghttp2-proxy) on `port`, forwarding to emu:
-- the protocol of the real API (HTTP/2 over TLS) in front of the emulator, which speaks
-- HTTP/1.1. (--conf=/dev/null: Debian's /etc/nghttpx/nghttpx.conf adds a frontend of its own.)
-- Start the emulator with `--public-url https://127.0.0.1:<port>` so that its image
-- URLs go through the front too. Returns { url = "https://127.0.0.1:<port>/v1", stop = fn }.
function M.h2_front(emu, port, cert, key)
  local backend = emu.base:match("^http://127%.0%.0%.1:(%d+)$")
  assert(backend, "the emulator behind the front must speak plain HTTP: " .. emu.base)
  local cmd = ("exec sh -c 'echo $$; exec %s --conf=/dev/null --frontend=127.0.0.1,%d "
    .. "--backend=127.0.0.1,%s --workers=1 --no-ocsp --errorlog-file=/dev/null "
    .. "--accesslog-file=/dev/null %s %s >/dev/null 2>&1'"):format(M.NGHTTPX, port, backend, key, cert)
  local p = assert(io.popen(cmd, "r"))
  local pid = assert(tonumber(p:read("l")), "nghttpx did not start")
  local socket = require "socket"
  local up = false
  for _ = 1, 100 do                           -- until it accepts connections (<= 5 s)
    local c = socket.connect("127.0.0.1", port)
    if c then c:close(); up = true; break end
    socket.sleep(0.05)
  end
  local front = { url = ("https://127.0.0.1:%d/v1"):format(port) }
  function front.stop()
    if p then os.execute("kill " .. pid .. " 2>/dev/null"); p:close(); p = nil end
  end
  if not up then front.stop(); error("nghttpx does not accept connections on port " .. port) end
  return front
end

--- A client on this emulator (options merged in).
function Emu:client(opts)
  local seedream = require "seedream"
  local o = { api_key = M.KEY, url = self.url, retries = 2, backoff = 0.01,
              poll = { first = 0.02, min = 0.02, factor = 1.5, max = 0.2 } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return assert(seedream.client(o))
end

--- What most spec files set up around their tests: an emulator (extra flags as for
-- M.emulator), a client on it and, with `dir`, a temporary directory.
--   setup(function() emu, client, dir = h.start { dir = true } end)
--   teardown(function() h.stop(emu, client, dir) end)
function M.start(o)
  o = o or {}
  local emu = M.emulator(o.flags)
  return emu, emu:client(o.client), o.dir and M.tmpdir() or nil
end

function M.stop(emu, client, dir)
  if client then client:close() end
  if emu then emu:stop() end
  if dir then M.rmdir(dir) end
end

--- A valid request (2K size), with fields overridden by t.
function M.req(t)
  local r = { positivePrompt = "a lighthouse at dusk", width = 2048, height = 2048 }
  for k, v in pairs(t or {}) do r[k] = v end
  return r
end

-- A real 16x16 PNG (the smallest side a reference may have is 14 px), base64.
M.PNG16 = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR4nBXRURVEIQhFUSMYgQhGMAIRiGCEE8EIRiACEYhABCLMG7/ZrMt1jMEcyGAN9kAHNjgDBnfwBj6IQQ5q0IMxJnMikzXZE53Y5EyY3Mmb+CQmOalJzw8IUxBhCVtQwYQjIFzhCS6EkEIJLR9YzIUs1mIvdGGLs2BxF2/hi1jkoha9PrCZG9mszd7oxjZnw+Zu3sY3sclNbXp/QJmKKEvZiiqmHAXlKk9xJZRUSmn9gDENMZaxDTXMOAbGNZ7hRhhplNH2gcM8yGEd9kEPdjgHDvfwDn6IQx7q0OcD/wK/Sr4jv9hfkG/1N/x/Fx44BCQU9Pc94zIvclmXfdGLXc79j9/Lu/glLnmpS98PPOZDHuuxH/qwx3n/5ffxHv6IRz7q0e8DznTEWc521DHn+D/KdZ7jTjjplNP+gWAGEqxgBxpYcOIf/AYv8CCCDCro+EAyE0lWshNNLDn5P/MmL/Ekkkwq6fxAMQspVrELLaw49S/lFq/wIoosquj6QDMbaVazG22sOf2v8Dav8SaabKrp5geIAnAQEbP2+wAAAABJRU5ErkJggg=="

--- A fresh temporary directory (removed by M.rmdir).
function M.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

function M.rmdir(d) os.execute("rm -rf '" .. d .. "'") end

--- Names in a directory (sorted).
function M.ls(dir)
  local p = io.popen("ls -A '" .. dir .. "' 2>/dev/null")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

--- A fresh temporary path that does not exist yet (for code that creates it itself).
function M.tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

--- A file's bytes, or nil if it cannot be read.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

--- A PNG header claiming w x h (enough for the client, which reads headers only).
function M.png_header(w, h)
  local function be32(n) return string.pack(">I4", n) end
  return "\137PNG\r\n\26\n" .. be32(13) .. "IHDR" .. be32(w) .. be32(h) .. "\8\2\0\0\0" .. be32(0)
end

local Receiver = {}
Receiver.__index = Receiver

--- Starts spec/receiver.lua: a local HTTP receiver that logs every request it gets.
function M.receiver(fail_first)
  local log = os.tmpname()
  local p = assert(io.popen(("sh -c 'echo $$; exec lua5.4 spec/receiver.lua %s %d'")
    :format(log, fail_first or 0), "r"))
  local pid = assert(tonumber(p:read("l")))
  local port = assert(tonumber(p:read("l")), "receiver did not start")
  return setmetatable({ pipe = p, pid = pid, log = log,
                        url = "http://127.0.0.1:" .. port }, Receiver)
end

--- The requests received so far (a list of tables).
function Receiver:requests()
  local out = {}
  local f = io.open(self.log, "r")
  if not f then return out end
  for line in f:lines() do out[#out + 1] = cjson.decode(line) end
  f:close()
  return out
end

--- Waits until at least n requests arrived (or timeout seconds passed).
function Receiver:wait_for(n, timeout)
  local core = require "seedream.core"
  local deadline = core.now() + (timeout or 10)
  while #self:requests() < n and core.now() < deadline do core.sleep(0.02) end
  return self:requests()
end

function Receiver:stop()
  if self.pipe then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    self.pipe:close()
    self.pipe = nil
    os.remove(self.log)
  end
end
Receiver.__gc = Receiver.stop

M.json = cjson
return M
