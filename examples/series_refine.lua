-- A four-frame storyboard made as ONE sequential series, then every frame refined using
-- the frame itself as the reference, all written into a run directory with
-- manifest.json and gallery.html (open it in a browser; it updates while the run goes).
--
--   RUNWARE_API_KEY=... lua5.4 examples/series_refine.lua [out_dir]   (default out/series_refine)
--   seedream run examples/series_refine.lua                           (the CLI's client and run)
--
-- Run it again with the same directory: every finished step is reused (nothing is sent or
-- paid again); a run that was killed picks up where it stopped. `make demo` runs it against
-- the local emulator (RUNWARE_API_URL / RUNWARE_API_KEY point at it).
local seedream = require "seedream"

local a1, a2 = ...
local client, run
local from_cli = type(a1) == "table"                -- `seedream run`: (client, run, args)
if from_cli then
  client, run = a1, a2
else
  local dir = (arg and arg[1]) or "out/series_refine"
  run = assert(seedream.run_dir(dir, { title = "Storyboard: the lighthouse keeper" }))
  require("seedream.progress").new():attach(run)
  client = assert(run:client { budget = tonumber(os.getenv("SEEDREAM_BUDGET") or "") })
end
run.title = run.title or "Storyboard: the lighthouse keeper"

local STORY = "A four-frame storyboard, consistent characters and palette: an old lighthouse "
  .. "keeper finds a message in a bottle, climbs the tower at dusk, lights the lamp, and a "
  .. "ship answers with its own light. Frames numbered 1 to 4."

local function main()
  local frames, err = client:series({
    positivePrompt = STORY, width = 2848, height = 1600, includeCost = true,
  }, 4)
  if not frames then return nil, err end
  if frames.short then
    print(("the model made %d of the %d frames asked; refining those"):format(#frames,
                                                                             frames.requested))
  end
  local refined, errs = client:refine(frames, function(_, i)
    return ("Frame %d of the storyboard, redrawn as a finished illustration: clean ink "
            .. "lines, soft watercolour, same composition and characters"):format(i)
  end, { concurrency = 4, request = { includeCost = true } })
  local failed = 0
  for i = 1, #frames do
    if not refined[i] then
      failed = failed + 1
      print(("frame %d: refine failed: %s"):format(i, tostring(errs[i])))
    end
  end
  if failed > 0 then return nil, failed .. " refinement(s) failed" end
  return true
end

if from_cli then return main() end               -- the CLI waits and finishes the run

local ok, err
seedream.run(function()
  ok, err = main()
  run:finish()
end)
print("manifest: " .. run.manifest_path)
print("gallery:  " .. run.gallery_path)
if not ok then
  io.stderr:write("series_refine: ", tostring(err), "\n")
  os.exit(1)
end
