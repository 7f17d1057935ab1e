-- Driving seedream from luv (libuv): the client tells which sockets to watch and when to
-- come back; luv waits, and client:step(0) does the work. No thread, no busy loop.
--   lua5.4 examples/luv_loop.lua [count]      (RUNWARE_API_URL / RUNWARE_API_KEY; Debian: lua-luv)
local uv = require "luv"
local seedream = require "seedream"

local COUNT = tonumber(arg[1]) or 8
local client = assert(seedream.client { max_in_flight = 8 })

local polls = {}          -- fd -> uv poll handle
local timer = uv.new_timer()
local sync                -- forward declaration

local function on_ready()
  client:step(0)
  sync()
end

-- Makes luv watch exactly the sockets curl wants, and wake us at the client's timeout.
function sync()
  local fds, timeout = client:pollfds()
  local want = {}
  for _, f in ipairs(fds) do
    local events = (f.read and "r" or "") .. (f.write and "w" or "")
    want[f.fd] = true
    local p = polls[f.fd]
    if not p then
      p = uv.new_socket_poll(f.fd)
      polls[f.fd] = p
    end
    p:start(events ~= "" and events or "r", on_ready)
  end
  for fd, p in pairs(polls) do
    if not want[fd] then
      p:stop()
      p:close()
      polls[fd] = nil
    end
  end
  timer:stop()
  if timeout then           -- nil: nothing to wake for (uv.run returns once all is done)
    timer:start(math.max(1, math.floor(timeout * 1000)), 0, on_ready)
  end
end

local done = 0
for i = 1, COUNT do
  assert(client:submit({ positivePrompt = "luv image " .. i, width = 2048, height = 2048 },
    { on_image = function(img)
        done = done + 1
        print(("image %d/%d: %s"):format(done, COUNT, img.imageUUID))
      end }))
end
sync()
uv.run()                  -- returns when no handle is active: all tasks are finished
for _, p in pairs(polls) do p:close() end
timer:close()
uv.run()                  -- let luv finish closing its handles before Lua exits
client:close()
print(("%d images through luv"):format(done))
