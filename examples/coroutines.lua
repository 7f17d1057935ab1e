-- Several independent pipelines, each written as plain sequential code, running at once.
--   lua5.4 examples/coroutines.lua [out_dir]       (RUNWARE_API_URL / RUNWARE_API_KEY)
local seedream = require "seedream"

local out = arg[1] or "out/coroutines"
os.execute("mkdir -p '" .. out:gsub("'", "") .. "'")
local client = assert(seedream.client { max_in_flight = 16 })

-- One pipeline: a base image, then a variation that uses it as its reference, then saved.
local function pipeline(name, prompt)
  local base = assert(client:generate { positivePrompt = prompt, width = 2304, height = 1728 })
  print(name .. ": base image " .. base[1].imageUUID)
  local variant = assert(client:generate { positivePrompt = prompt .. ", at night",
    width = 2304, height = 1728, inputs = { referenceImages = { base[1].imageUUID } } })
  local path = assert(variant[1]:save(out .. "/" .. name .. ".jpg"))
  print(name .. ": saved " .. path)
  return path
end

seedream.run(function()
  local jobs = {}
  for name, prompt in pairs { harbour = "a quiet harbour", forest = "a misty forest",
                              city = "a rooftop garden in a big city" } do
    jobs[#jobs + 1] = client:spawn(pipeline, name, prompt)
  end
  -- the spawned pipelines wait concurrently; this coroutine just waits for them all
  for _, job in ipairs(jobs) do assert(job:wait()) end
end)
client:close()
