-- bench/refs.lua: benchmark 4, reference images: encoding speed and peak memory.
--
--   lua5.4 bench/refs.lua make DIR [COUNT [BYTES]]   writes COUNT (14) JPEG-looking files of
--                                                    BYTES (10,000,000) each into DIR
--   lua5.4 bench/refs.lua encode DIR [COUNT]         one request with those files as
--                                                    inputs.referenceImages (seedream.file),
--                                                    through core.prepare(req, true)
--
-- The files carry a valid JPEG header (SOI, APP0/JFIF, SOF0 4000x3000, 3 components) and
-- random bytes after it: the client reads only the header (format and pixel size checks) and
-- base64-encodes the whole file into the body, so the content does not matter.
--
-- encode prints one JSON line: seconds (wall and CPU) of prepare, body bytes, input bytes,
-- and VmHWM (peak RSS) before and after prepare. run.sh subtracts the VmHWM of a bare
-- `require "seedream"` process (the baseline) and divides by the body length.
local mode, dir = arg[1], arg[2]
assert((mode == "make" or mode == "encode") and dir, "usage: refs.lua make|encode DIR ...")
local count = tonumber(arg[3]) or 14

local function path(i) return ("%s/ref%02d.jpg"):format(dir, i) end

if mode == "make" then
  local bytes = tonumber(arg[4]) or 10000000
  -- SOI, APP0 (JFIF 1.1, no density, no thumbnail), SOF0: 8-bit, 3000 rows, 4000 columns,
  -- 3 components (id, sampling 0x11, quantisation table 0).
  local header = "\xFF\xD8" ..
    "\xFF\xE0" .. string.pack(">I2", 16) .. "JFIF\0" .. "\1\1" .. "\0" ..
    string.pack(">I2I2", 1, 1) .. "\0\0" ..
    "\xFF\xC0" .. string.pack(">I2", 17) .. "\8" .. string.pack(">I2I2", 3000, 4000) .. "\3" ..
    "\1\17\0" .. "\2\17\0" .. "\3\17\0"
  local rnd = assert(io.open("/dev/urandom", "rb"))
  local payload = assert(rnd:read(bytes - #header))
  rnd:close()
  for i = 1, count do
    local f = assert(io.open(path(i), "wb"))
    -- a different first payload byte per file, so that no two files are identical
    assert(f:write(header, string.char(i), payload:sub(2)))
    assert(f:close())
  end
  io.write(string.format('{"files":%d,"bytes_each":%d}\n', count, bytes))
  return
end

local seedream = require "seedream"
local core = require "seedream.core"

local status_kb = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/common.lua").status_kb

local refs, input_bytes = {}, 0
for i = 1, count do
  refs[i] = seedream.file(path(i))
  local f = assert(io.open(path(i), "rb"))
  input_bytes = input_bytes + f:seek("end")
  f:close()
end
local req = { positivePrompt = "bench prompt", width = 2048, height = 2048,
              inputs = { referenceImages = refs } }
collectgarbage()
local before = status_kb()
local w0, c0 = core.now(), os.clock()
local body, err = core.prepare(req, true)
local w1, c1 = core.now(), os.clock()
if not body then
  io.stderr:write("prepare failed: ", tostring(err and err.message), "\n")
  os.exit(1)
end
local after = status_kb()
-- A body this large is a seedream.Body (C memory, handed to the transport without a copy):
-- its length is known, its text is not reachable from Lua, so the data URIs are counted by
-- the expected length: 14 x ("data:image/jpeg;base64," + 4/3 of the file) + the rest.
local n_uris = 0
if type(body) == "string" then
  local pos = 1
  while true do
    local a, b = body:find("data:image/jpeg;base64,", pos, true)
    if not a then break end
    n_uris, pos = n_uris + 1, b + 10000000
  end
elseif #body >= input_bytes * 4 / 3 then
  n_uris = count
end
io.write(string.format(
  '{"files":%d,"input_bytes":%d,"body_bytes":%d,"data_uris":%d,"wall_s":%.6f,"cpu_s":%.6f,' ..
  '"hwm_before_kb":%d,"hwm_after_kb":%d,"rss_after_kb":%d}\n',
  count, input_bytes, #body, n_uris, w1 - w0, c1 - c0, before.VmHWM, after.VmHWM, after.VmRSS))
