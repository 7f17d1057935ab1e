-- Sends the four example requests of the API reference and saves the four images.
--   RUNWARE_API_KEY=... lua5.4 examples/seed_requests.lua [out_dir]
-- (`make demo` runs it against the local emulator; with your key it uses the real API.)
local seedream = require "seedream"

local here = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/"
local examples = dofile(here .. "reference_requests.lua")
local out = arg[1] or "out/seed_requests"
assert(os.execute("mkdir -p '" .. out:gsub("'", "") .. "'"))

local client = assert(seedream.client {})

-- All four run at once; each is a task we wait for in turn.
local tasks = {}
for i, ex in ipairs(examples) do
  local req = {}
  for k, v in pairs(ex.request) do req[k] = v end
  req.taskUUID = nil          -- a task UUID must be unique: let the client make a new one
  tasks[i] = assert(client:submit(req))
end

local failed = 0
for i, task in ipairs(tasks) do
  local ex = examples[i]
  local images, err = task:wait()
  if not images then
    failed = failed + 1
    print(("%-36s FAILED %s"):format(ex.title, tostring(err)))
  else
    local name = ex.title:lower():gsub("%W+", "-") .. "." .. images[1].format
    local path, serr = images[1]:save(out .. "/" .. name)
    if not path then
      failed = failed + 1
      print(("%-36s save FAILED %s"):format(ex.title, tostring(serr)))
    else
      local kind, w, h, size = seedream.image_info(path)
      print(("%-36s %s %dx%d %s, %d bytes (asked %dx%d)")
        :format(ex.title, path, w, h, kind, size, ex.request.width, ex.request.height))
    end
  end
end
client:close()
os.exit(failed == 0 and 0 or 1)
