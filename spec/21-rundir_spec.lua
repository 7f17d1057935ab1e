-- Run directories: manifest content (no API key, no inline image data), the journal,
-- resume without sending anything again, adoption of unfinished tasks, dry runs, and a run
-- killed with SIGKILL mid-way that loses no paid image and pays no task twice.
local seedream = require "seedream"
local json = require "seedream.json"
local core = require "seedream.core"
local h = require "helper"
local tmpdir, read, rm = h.tmpname, h.read, h.rmdir

local SPEC_DIR = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."

local function exists(path) return read(path) ~= nil end
-- A run directory at dir and a client of it talking to emulator emu (extra client options
-- in opts).
local function open_run(dir, emu, opts)
  local run = assert(seedream.run_dir(dir))
  local o = { api_key = h.KEY, url = emu.url }
  for k, v in pairs(opts or {}) do o[k] = v end
  return run, run:client(o)
end
local function manifest(dir) return assert(json.decode(assert(read(dir .. "/manifest.json")))) end
local function journal(dir)
  local events = {}
  for line in (read(dir .. "/journal.jsonl") or ""):gmatch("[^\n]+") do
    events[#events + 1] = assert(json.decode(line), "journal line is not JSON: " .. line)
  end
  return events
end

-- A series of n then each frame refined, in one run directory.
local function story(run, client, n, opts)
  return seedream.run(function()
    local frames = assert(client:series(h.req { positivePrompt = "story <b>&" }, n))
    local refined, errs = client:refine(frames, function(_, i) return "refined " .. i end, opts)
    for i = 1, #frames do assert(refined[i], tostring(errs[i])) end
    run:finish()
    return frames, refined
  end)
end

-- The second run of a task the first one sent: it gets the image of that same taskUUID,
-- by polling (adopted), and the server made and charged the task once. Cleans up.
local function resumed_once(dir, run2, c2, emu2, prompt, uuid)
  local images = assert(c2:generate(h.req { positivePrompt = prompt }))
  run2:finish()
  assert.are.equal(uuid, images[1].taskUUID)
  assert.are.equal(1, c2:stats().adopted)
  local s = emu2:stats()
  assert.are.equal(1, s.inference_tasks)
  assert.are.equal(1, s.tasks_charged)
  assert.are.equal(0, s.duplicates)
  assert.is_true(exists(dir .. "/" .. uuid .. "-1.jpg"))
  c2:close()
  emu2:stop()
  rm(dir)
end

describe("run directories", function()
  local emu
  setup(function() emu = h.emulator("--latency-ms 20") end)
  teardown(function() emu:stop() end)

  it("saves every image and writes a manifest with prompts, parameters and parents", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local data = "data:image/png;base64," .. h.PNG16
    local frames, refined = story(run, c, 3, { references = { data } })
    local m = manifest(dir)
    assert.are.equal("seedream-run/1", m.format)
    assert.are.equal(6, #m.images)
    assert.are.equal(4, #m.tasks)
    local by_uuid = {}
    for _, img in ipairs(m.images) do
      by_uuid[img.imageUUID] = img
      for _, k in ipairs { "file", "prompt", "params", "seed", "imageUUID", "taskUUID", "cost",
                           "created", "status", "width", "height", "index" } do
        assert.is_not_nil(img[k], "manifest image lacks " .. k)
      end
      assert.are.equal("saved", img.status)
      assert.are.equal(img.taskUUID .. "-" .. img.index .. ".jpg", img.file)
      assert.are.equal("jpg", (seedream.image_info(dir .. "/" .. img.file)))
    end
    for i = 1, 3 do
      local f, r = by_uuid[frames[i].imageUUID], by_uuid[refined[i].imageUUID]
      assert.are.equal("story <b>&", f.prompt)
      assert.are.equal(3, f.params.providerSettings.bytedance.maxSequentialImages)
      assert.are.same({}, f.parents)
      assert.are.equal("refined " .. i, r.prompt)
      assert.are.same({ frames[i].imageUUID }, r.parents)
      local refs = r.params.inputs.referenceImages
      assert.are.equal(frames[i].imageUUID, refs[1])
      assert.are.equal(("<data URI %d bytes>"):format(#data), refs[2])
      assert.are.equal(dir .. "/" .. r.file, refined[i].file)   -- live images know their file
    end
    for _, t in ipairs(m.tasks) do
      assert.are.equal("done", t.status)
      assert.matches("^%x+$", t.key)
      assert.is_truthy(t.submitted and t.finished)
    end
    -- no API key and no inline image data anywhere in the directory
    assert.is_nil(os.execute("grep -rqF '" .. h.KEY .. "' '" .. dir .. "'"))
    assert.is_nil(os.execute("grep -rqF '" .. h.PNG16:sub(1, 40) .. "' '" .. dir .. "'"))
    c:close()
    rm(dir)
  end)

  it("journals each task as submitted before it is sent, then finished", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    story(run, c, 2)
    local ev = journal(dir)
    assert.are.equal(6, #ev)
    local state = {}
    for _, e in ipairs(ev) do
      if e.ev == "submitted" then
        assert.is_nil(state[e.taskUUID])
        assert.is_truthy(e.request.positivePrompt)
        state[e.taskUUID] = "submitted"
      else
        assert.are.equal("finished", e.ev)
        assert.are.equal("submitted", state[e.taskUUID])
        assert.are.equal("done", e.status)
        state[e.taskUUID] = "finished"
      end
    end
    c:close()
    rm(dir)
  end)

  it("resumes a finished run without sending anything", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local frames, refined = story(run, c, 3)
    c:close()
    local before = emu:stats()
    run:close()                              -- its lock: one process at a time
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    local frames2, refined2 = story(run2, c2, 3)
    local after = emu:stats()
    assert.are.equal(before.requests, after.requests)
    assert.are.equal(before.image_gets, after.image_gets)
    assert.are.equal(4, c2:stats().replayed)
    for i = 1, 3 do
      assert.are.equal(frames[i].imageUUID, frames2[i].imageUUID)
      assert.are.equal(refined[i].imageUUID, refined2[i].imageUUID)
      assert.is_truthy(refined2[i].file)
    end
    assert.are.equal(6, #manifest(dir).images)
    assert.are.equal(4, run2:summary().replayed)
    c2:close()
    rm(dir)
  end)

  it("the n-th identical request of a run is matched with the n-th one journaled", function()
    local dir = tmpdir()
    local function go()
      local run, c = open_run(dir, emu)
      local a = assert(c:generate(h.req { positivePrompt = "twice" }))
      local b = assert(c:generate(h.req { positivePrompt = "twice" }))
      run:close()
      c:close()
      return a[1].imageUUID, b[1].imageUUID
    end
    local a, b = go()
    assert.are_not.equal(a, b)
    local before = emu:stats().requests
    local a2, b2 = go()
    assert.are.equal(before, emu:stats().requests)
    assert.are.same({ a, b }, { a2, b2 })
    rm(dir)
  end)

  it("polls a task an earlier run submitted but did not see finish, never resending it", function()
    local dir = tmpdir()
    local slow = h.emulator("--latency-ms 300")
    local run = assert(seedream.run_dir(dir))
    local c = run:client { api_key = h.KEY, url = slow.url, delivery = "async",
                           poll = { first = 0.05, min = 0.05, max = 0.1 } }
    local task = assert(c:submit(h.req { positivePrompt = "left behind" }))
    while task.status ~= "processing" do c:step(0.05) end
    c:close()                                 -- gone before the answer: journaled, cancelled
    run:close()                              -- its lock: one process at a time
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = slow.url, delivery = "async",
                             poll = { first = 0.05, min = 0.05, max = 0.1 } }
    resumed_once(dir, run2, c2, slow, "left behind", task.taskUUID)
  end)

  it("polls a task that timed out in an earlier run, never paying for it twice", function()
    local dir = tmpdir()
    local slow = h.emulator("--latency-ms 1200")
    local run = assert(seedream.run_dir(dir))
    local c = run:client { api_key = h.KEY, url = slow.url, timeout = 0.4, retries = 0 }
    local images, err = c:generate(h.req { positivePrompt = "too slow for its timeout" })
    assert.is_nil(images)
    assert.are.equal("timeout", err.code)
    c:close()
    run:close()                              -- its lock: one process at a time
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = slow.url, poll = { first = 0.2, min = 0.1 } }
    resumed_once(dir, run2, c2, slow, "too slow for its timeout", err.taskUUID)
  end)

  it("saves a task an earlier run paid for even when the script no longer asks for it", function()
    local dir = tmpdir()
    local slow = h.emulator("--latency-ms 400")
    local run = assert(seedream.run_dir(dir))
    local c = run:client { api_key = h.KEY, url = slow.url, delivery = "async" }
    local task = assert(c:submit(h.req { positivePrompt = "a red fox" }))
    while task.status ~= "processing" do c:step(0.05) end
    c:close()                                  -- gone before the answer
    run:close()
    local run2 = assert(seedream.run_dir(dir))  -- the script changed its prompt
    local c2 = run2:client { api_key = h.KEY, url = slow.url, poll = { first = 0.1, min = 0.1 } }
    assert(c2:generate(h.req { positivePrompt = "a red fox, at night" }))
    run2:close()
    assert.is_true(exists(dir .. "/" .. task.taskUUID .. "-1.jpg"))
    assert.are.equal(1, c2:stats().adopted)
    local s = slow:stats()
    assert.are.equal(2, s.tasks_charged)         -- the fox, paid once, and the new one
    assert.are.equal(0, s.duplicates)
    local saved = 0
    for _, img in ipairs(manifest(dir).images) do
      if img.status == "saved" then saved = saved + 1 end
    end
    assert.are.equal(2, saved)
    c2:close()
    slow:stop()
    rm(dir)
  end)

  it("sends again a task the server refused with its own error", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu, { retries = 0 })
    emu:fault { kind = "task_error", count = 1 }
    local images, err = c:generate(h.req { positivePrompt = "refused once" })
    assert.is_nil(images)
    c:close()
    run:close()                              -- its lock: one process at a time
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    images = assert(c2:generate(h.req { positivePrompt = "refused once" }))
    run2:finish()
    assert.are_not.equal(err.taskUUID, images[1].taskUUID)
    assert.is_nil(c2:stats().adopted)
    c2:close()
    rm(dir)
  end)

  it("two tasks whose images share an imageUUID each get their own file", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local made = { assert(c:generate(h.req { positivePrompt = "one" }))[1],
                   assert(c:generate(h.req { positivePrompt = "two" }))[1] }
    -- as a server reusing an imageUUID across tasks would report them
    local shared, uuids = core.uuid(), {}
    for i, img in ipairs(made) do
      uuids[i] = core.uuid()
      run:finished { taskUUID = uuids[i], status = "done", client = c, request = h.req(),
                     max_images = 1, _images = { { imageUUID = shared, imageURL = img.imageURL,
                                                   index = 1, format = "jpg" } } }
    end
    run:finish()
    for i = 1, 2 do assert.is_true(exists(dir .. "/" .. uuids[i] .. "-1.jpg"), "file " .. i) end
    local saved = 0
    for _, img in ipairs(manifest(dir).images) do
      if img.imageUUID == shared and img.status == "saved" then saved = saved + 1 end
    end
    assert.are.equal(2, saved)
    c:close()
    rm(dir)
  end)

  it("a directory whose name starts with a dash is a name, not an option", function()
    local uv = require "luv"                         -- for chdir: the name must be relative
    local base, here = tmpdir(), uv.cwd()
    os.execute("mkdir -p '" .. base .. "'")
    uv.chdir(base)
    local ok, run, err = pcall(seedream.run_dir, "--help")
    local made = ok and run and exists("--help/journal.jsonl")
    if ok and run then run:close() end
    uv.chdir(here)
    rm(base)
    assert.is_true(ok, tostring(run))
    assert.truthy(run, tostring(err))
    assert.is_true(made)
  end)

  it("keeps no download job once its image is saved (a run may stay open for hours)", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    for i = 1, 3 do assert(c:generate(h.req { positivePrompt = "kept " .. i })) end
    local t0 = core.now()
    while next(run.saving) and core.now() - t0 < 5 do c:step(0.02) end
    assert.is_nil(next(run.saving))
    assert.is_nil(next(run.savers))
    assert.are.equal(3, run:summary().saved)
    run:close()
    c:close()
    rm(dir)
  end)

  it("sends nothing it could not journal first (a full disk), and says so", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local real = run.jf
    run.jf = { write = function() return nil, "No space left on device" end,
               flush = function() return true end, close = function() return true end }
    local before = emu:stats().inference_tasks
    local images, err = c:generate(h.req { positivePrompt = "nowhere to write" })
    assert.is_nil(images)
    assert.are.equal("io", err.code)
    assert.truthy(err.message:find("No space left on device", 1, true))
    assert.are.equal(before, emu:stats().inference_tasks)
    assert.are.equal(2, run:summary().journal_errors)   -- its submitted and finished lines
    run.jf = real
    run:close()
    c:close()
    rm(dir)
  end)

  it("Ctrl-C (lua's 'interrupted!' error) inside a listener stops the run, not just the listener",
     function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    run:on(function(ev) if ev == "finished" then error("interrupted!", 0) end end)
    local ok, err = pcall(c.generate, c, h.req { positivePrompt = "stop me" })
    assert.is_false(ok)
    assert.matches("interrupted!$", tostring(err))
    c:close()
    run:close()
    rm(dir)
  end)

  it("an inline image that could not be written is fetched again by the next run", function()
    local dir = tmpdir()
    local image = require "seedream.image"
    local real_write = image.write_inline
    image.write_inline = function() return nil, "No space left on device" end
    local run = assert(seedream.run_dir(dir))
    local events = {}
    run:on(function(ev) events[#events + 1] = ev end)
    local c = run:client { api_key = h.KEY, url = emu.url }
    local req = h.req { positivePrompt = "inline, disk full", outputType = "base64Data" }
    local first = assert(c:generate(req))
    image.write_inline = real_write
    c:close()
    run:close()
    local failed = 0
    for _, ev in ipairs(events) do if ev == "save_failed" then failed = failed + 1 end end
    assert.are.equal(1, failed)
    local path = dir .. "/" .. first[1].taskUUID .. "-1.jpg"
    assert.is_false(exists(path))
    local charged = emu:stats().tasks_charged
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    local again = assert(c2:generate(req))                 -- polled under its taskUUID
    run2:finish()
    assert.are.equal(first[1].imageUUID, again[1].imageUUID)
    assert.is_true(exists(path))
    assert.are.equal(charged, emu:stats().tasks_charged)   -- not paid again
    assert.are.equal(0, c2:cost().reported)                -- nor counted as new spending
    c2:close()
    run2:close()
    rm(dir)
  end)

  it("an empty image file (a power loss before the data reached the disk) is fetched again", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local req = h.req { positivePrompt = "empty after a crash" }
    local first = assert(c:generate(req))
    run:finish()
    c:close()
    run:close()
    local path = dir .. "/" .. first[1].taskUUID .. "-1.jpg"
    assert.truthy(#read(path) > 0)
    assert(io.open(path, "wb")):close()                   -- the file is there, with no bytes
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    assert(c2:generate(req))                              -- replayed, and its image saved again
    run2:finish()
    assert.truthy(#read(path) > 0)
    c2:close()
    run2:close()
    rm(dir)
  end)

  it("a webhook task replayed by a later run still counts its worst case", function()
    local dir = tmpdir()
    local rx = h.receiver()
    local req = h.req { positivePrompt = "to the hook", webhookURL = rx.url .. "/hook" }
    for pass = 1, 2 do
      local run, c = open_run(dir, emu, { budget = 0.05 })
      local t = assert(c:submit(req))
      assert(t:wait())
      assert.is_true(t.webhook, "pass " .. pass)
      local _, err = c:generate(h.req { positivePrompt = "one more" })   -- 0.035 + 0.035 > 0.05
      assert.are.equal("budget", err and err.code, "pass " .. pass)
      c:close()
      run:close()
    end
    rx:stop()
    rm(dir)
  end)

  it("a request refused before it was sent is in the manifest and the progress", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local lines = {}
    local progress = require("seedream.progress").new { mode = "plain",
      out = { write = function(self, ...) for _, s in ipairs { ... } do lines[#lines + 1] = s end
                                          return self end, flush = function() end } }
    progress:attach(run)
    local _, err = c:submit(h.req { hieght = 2048 })     -- a script that ignores this error
    assert.are.equal("invalid", err.code)
    run:close()
    local m = manifest(dir)
    assert.are.equal(1, #m.refused)
    assert.are.equal("invalid", m.refused[1].code)
    assert.are.equal("hieght", m.refused[1].field)
    assert.matches("not sent: hieght: unknown field 'hieght' %(did you mean 'height'%?%) %(invalid%)",
                   table.concat(lines))
    c:close()
    rm(dir)
  end)

  it("a request with a cycle is refused as invalid, not a crash of the run", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local req = h.req()
    req.providerSettings = { bytedance = {} }
    req.providerSettings.bytedance.again = req
    local t, err = c:submit(req)
    assert.is_nil(t)
    assert.are.equal("invalid", err.code)
    assert.are.equal("a lighthouse at dusk", run:manifest().refused[1].prompt)
    c:close()
    run:close()
    rm(dir)
  end)

  it("a task a journal listener cancels while its batch is made is not sent", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu, { delivery = "async" })
    local b
    run:on(function(ev, d)
      if ev == "submitted" and b and d.task ~= b and not b:done() then b:cancel() end
    end)
    local before = emu:stats().inference_tasks
    local a = assert(c:submit(h.req { positivePrompt = "a" }))
    b = assert(c:submit(h.req { positivePrompt = "b" }))
    c:step(0)
    assert.are.equal(0, c:stats().queued)
    assert(a:wait())
    assert.are.equal("cancelled", b.status)
    assert.are.equal(1, emu:stats().inference_tasks - before)     -- b never went
    c:close()
    run:close()
    rm(dir)
  end)

  it("a task sent again is journaled (and reported) once", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local submitted = 0
    run:on(function(ev) if ev == "submitted" then submitted = submitted + 1 end end)
    emu:fault { kind = "slow", ms = 500 }
    local a = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "a, cancelled" }))
    local b = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "b, sent again" }))
    c:step(0)                                  -- one POST for both
    a:cancel()                                 -- stops it: b goes again
    assert(b:wait(10))
    c:close()
    run:close()
    assert.are.equal(2, submitted)
    local lines = 0
    for line in io.lines(dir .. "/journal.jsonl") do
      if line:find('"ev":"submitted"', 1, true) then lines = lines + 1 end
    end
    assert.are.equal(2, lines)
    rm(dir)
  end)

  it("finish() then close() report the summary once", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local n = 0
    run:on(function(ev) if ev == "summary" then n = n + 1 end end)
    assert(c:generate(h.req { positivePrompt = "one summary" }))
    run:finish()
    run:close()
    assert.are.equal(1, n)
    c:close()
    rm(dir)
  end)

  it("a Ctrl-C that stops a shell command of the library stops the caller too", function()
    local errors = require "seedream.error"
    local ok, err = pcall(errors.execute, "kill -INT $$")      -- the shell gets the SIGINT
    assert.is_false(ok)
    assert.are.equal("interrupted!", err)
    assert.is_true(errors.execute("true"))
    assert.is_nil((errors.execute("exit 3")))
  end)

  it("a resumed run counts what earlier runs paid against its budget", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu, { budget = 0.1 })
    assert(c:generate(h.req { positivePrompt = "paid one" }))
    assert(c:generate(h.req { positivePrompt = "paid two" }))
    c:close()
    run:close()
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url, budget = 0.1 }
    assert(c2:generate(h.req { positivePrompt = "paid one" }))       -- replayed, counted
    assert(c2:generate(h.req { positivePrompt = "paid two" }))
    local _, err = c2:generate(h.req { positivePrompt = "a third" })
    assert.are.equal("budget", err and err.code)                     -- 0.07 + 0.035 > 0.1
    assert.is_true(math.abs(c2:cost().reported - 0.07) < 1e-9)
    c2:close()
    run2:close()
    rm(dir)
  end)

  it("a journal line cut short by a full disk does not take the next line with it", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local real = run.jf
    -- the disk fills half-way through one line, then has room again
    run.jf = setmetatable({ write = function(_, ...)
      local text = table.concat { ... }
      real:write(text:sub(1, #text // 2))
      real:flush()
      return nil, "No space left on device"
    end }, { __index = function(_, k) return function(_, ...) return real[k](real, ...) end end })
    assert.is_nil(c:generate(h.req { positivePrompt = "cut short" }))
    -- then its submitted line goes in, and the process is gone before its finished line
    local writes = 0
    run.jf = setmetatable({ write = function(_, ...)
      writes = writes + 1
      if writes > 1 then return nil, "killed" end
      return real:write(...)
    end }, { __index = function(_, k) return function(_, ...) return real[k](real, ...) end end })
    local images = assert(c:generate(h.req { positivePrompt = "the next one" }))
    run.jf = real
    c:close()
    run:close()
    local before = emu:stats().tasks_charged
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    local again = assert(c2:generate(h.req { positivePrompt = "the next one" }))
    assert.are.equal(images[1].imageUUID, again[1].imageUUID)       -- replayed from the journal
    assert.are.equal(before, emu:stats().tasks_charged)             -- not paid twice
    c2:close()
    run2:close()
    rm(dir)
  end)

  it("a directory it cannot make or write is said to be so, with the reason, not 'in use'", function()
    local dir = tmpdir()
    os.execute("mkdir -p " .. dir)
    local f = assert(io.open(dir .. "/plain", "w")); f:close()
    local run, err = seedream.run_dir(dir .. "/plain/sub")
    assert.is_nil(run)
    assert.are.equal("io", err.code)
    assert.matches("cannot create the directory .*/plain/sub %(.*Not a directory%)", err.message)
    os.execute("mkdir " .. dir .. "/d && mkdir " .. dir .. "/d/.seedream-lock")  -- unopenable
    run, err = seedream.run_dir(dir .. "/d")
    assert.is_nil(run)
    assert.matches("^cannot write to the run directory .*/d: cannot open .*Is a directory$",
                   err.message)
    rm(dir)
  end)

  it("is used by one run at a time: another process is refused until it is closed", function()
    local dir = tmpdir()
    local run = assert(seedream.run_dir(dir))
    local env = ("LUA_PATH=%q LUA_CPATH=%q "):format(package.path, package.cpath)
    local probe = env .. [[lua5.4 -e 'local r, e = require("seedream").run_dir("]] .. dir
                  .. [[") print(r and "opened" or tostring(e))' 2>&1]]
    local out = assert(io.popen(probe)):read("a")
    assert.truthy(out:find("is in use", 1, true), out)
    assert.truthy(out:find("another process (pid", 1, true), out)
    assert.truthy(out:find("(locked)", 1, true), out)
    local again, err = seedream.run_dir(dir)            -- this process, while it is open
    assert.is_nil(again)
    assert.are.equal("locked", err.code)
    assert.truthy(err.message:find("this process", 1, true))
    run:close()
    out = assert(io.popen(probe)):read("a")
    assert.are.equal("opened\n", out)
    rm(dir)
  end)

  it("decodes inline images into files and keeps their data out of the journal", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    local images = assert(c:generate(h.req { outputType = "base64Data", outputFormat = "PNG" }))
    run:finish()
    local path = dir .. "/" .. images[1].taskUUID .. "-1.png"
    assert.are.equal("png", (seedream.image_info(path)))
    assert.is_nil(read(dir .. "/journal.jsonl"):find(images[1].imageBase64Data:sub(1, 64), 1, true))
    c:close()
    rm(dir)
  end)

  it("a dry run records planned tasks with their estimate and sends nothing", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu, { dry_run = true, budget = 5 })
    local before = emu:stats()
    story(run, c, 4)
    assert.are.same(before, emu:stats())
    local m = manifest(dir)
    assert.are.equal(5, #m.tasks)
    local est = 0
    for _, t in ipairs(m.tasks) do
      assert.are.equal("planned", t.status)
      est = est + t.estimate
    end
    assert.is_true(math.abs(est - 8 * 0.035) < 1e-9)
    assert.is_true(math.abs(m.totals.session.estimate - 8 * 0.035) < 1e-9)
    for _, img in ipairs(m.images) do assert.are.equal("planned", img.status) end
    assert.are.equal("", read(dir .. "/journal.jsonl"))     -- nothing to resume from
    c:close()
    rm(dir)
  end)

  it("a large run folds its rewrites of the manifest, and ends with the whole state", function()
    local dir = tmpdir()
    local run = assert(seedream.run_dir(dir))
    local events = 0
    run:on(function() events = events + 1 end)
    local c = run:client { api_key = h.KEY, url = emu.url, dry_run = true }
    for i = 1, 1500 do assert(c:submit(h.req { positivePrompt = "frame " .. i })) end
    -- every event rewrote both files while they were small; past 64 KiB they are folded
    assert.is_true(run.writes < events / 4, run.writes .. " writes for " .. events .. " events")
    run:close()
    local m = manifest(dir)
    assert.are.equal(1500, #m.tasks)
    assert.are.equal("frame 1500", m.tasks[1500].request.positivePrompt)
    assert.truthy(read(dir .. "/gallery.html"):find("frame 1500", 1, true))
    c:close()
    rm(dir)
  end)

  it("a folded change is written by the next client step once it is due", function()
    local dir = tmpdir()
    local run = assert(seedream.run_dir(dir, { write_interval = 0.2 }))
    local c = run:client { api_key = h.KEY, url = emu.url, dry_run = true }
    for i = 1, 3 do assert(c:submit(h.req { positivePrompt = "p" .. i })) end
    assert.is_true(#manifest(dir).tasks < 3)            -- folded: not on disk yet
    require("seedream.core").sleep(0.25)
    c:step(0)
    assert.are.equal(3, #manifest(dir).tasks)
    run:close()
    c:close()
    rm(dir)
  end)

  it("ignores a journal line cut short by a crash", function()
    local dir = tmpdir()
    local run, c = open_run(dir, emu)
    assert(c:generate(h.req { positivePrompt = "before the crash" }))
    run:finish()
    c:close()
    local f = assert(io.open(dir .. "/journal.jsonl", "a"))
    f:write('{"ev":"submitted","taskUUID":"0f')
    f:close()
    run:close()                              -- its lock: one process at a time
    local run2 = assert(seedream.run_dir(dir))
    local c2 = run2:client { api_key = h.KEY, url = emu.url }
    assert(c2:generate(h.req { positivePrompt = "before the crash" }))
    assert(c2:generate(h.req { positivePrompt = "after the crash" }))
    run2:finish()
    assert.are.equal(1, c2:stats().replayed)
    assert.are.equal(2, #manifest(dir).images)
    local good, bad = 0, 0
    for line in read(dir .. "/journal.jsonl"):gmatch("[^\n]+") do
      if json.decode(line) then good = good + 1 else bad = bad + 1 end
    end
    assert.are.same({ 4, 1 }, { good, bad })    -- the cut line stayed alone on its line
    c2:close()
    rm(dir)
  end)

  it("reads a journal line of the wrong shape as far as it makes sense; drops stale temp files", function()
    local dir = tmpdir()
    os.execute("mkdir -p '" .. dir .. "'")
    local f = assert(io.open(dir .. "/journal.jsonl", "w"))
    local u1, u2, u3 = core.uuid(), core.uuid(), core.uuid()
    f:write(json.encode { ev = "submitted", taskUUID = u1, request = "zz", max_images = "x" }, "\n")
    f:write(json.encode { ev = "finished", taskUUID = u1, status = 5, images = { "x", 7 } }, "\n")
    f:write(json.encode { ev = "finished", taskUUID = u2, images = "nope", error = "e" }, "\n")
    f:write(json.encode { ev = "submitted", taskUUID = u3, key = {}, t = "now" }, "\n")
    f:close()
    local part = dir .. "/manifest.json.part-AWl4uq"     -- left by a run killed mid-write
    assert(io.open(part, "w")):close()
    local run = assert(seedream.run_dir(dir))
    assert.is_false(exists(part))
    local m = manifest(dir)
    assert.are.equal(3, #m.tasks)
    assert.are.equal(0, #m.images)
    run:close()
    rm(dir)
  end)

  it("a run killed with SIGKILL mid-way loses no paid image and pays no task twice", function()
    local slow = h.emulator("--latency-ms 300")
    local dir = tmpdir()
    local env = ("env LUA_PATH='%s' LUA_CPATH='%s' RUNWARE_API_URL='%s' RUNWARE_API_KEY='%s' ")
      :format(os.getenv("LUA_PATH") or package.path, os.getenv("LUA_CPATH") or package.cpath,
              slow.url, h.KEY)
    local child = env .. "lua5.4 " .. SPEC_DIR .. "/fixtures/resume_child.lua '" .. dir .. "'"
    local p = assert(io.popen("exec sh -c 'echo $$; exec " .. child:gsub("'", "'\\''") ..
                              " >/dev/null 2>&1'", "r"))
    local pid = assert(tonumber(p:read("l")))
    -- kill once some tasks finished and others are submitted (and received) but not finished
    local killed, submitted, finished = false, 0, 0
    local deadline = os.time() + 30
    while os.time() < deadline do
      submitted, finished = 0, 0
      for line in (read(dir .. "/journal.jsonl") or ""):gmatch("[^\n]+") do
        local e = json.decode(line)
        if e and e.ev == "submitted" then submitted = submitted + 1 end
        if e and e.ev == "finished" then finished = finished + 1 end
      end
      if finished >= 1 and submitted > finished and slow:stats().inference_tasks >= submitted then
        os.execute("kill -9 " .. pid)
        killed = true
        break
      end
      require("seedream.core").sleep(0.01)
    end
    p:close()
    assert.is_true(killed, "the child was not caught mid-run")
    assert(json.decode(read(dir .. "/manifest.json")))   -- atomic: never half written
    -- resume in a second process
    local out = assert(io.popen(child .. " 2>&1", "r"))
    local text = out:read("a")
    assert.is_true(out:close(), text)
    local counters = assert(json.decode(text:match("[^\n]*\n?$")), text)
    assert.is_true(counters.adopted >= 1, text)           -- unfinished ones were polled
    assert.is_true(counters.replayed >= 1, text)          -- finished ones were not resent
    local m = manifest(dir)
    assert.are.equal(8, #m.images)
    for _, img in ipairs(m.images) do
      assert.are.equal("saved", img.status)
      assert.are.equal("jpg", (seedream.image_info(dir .. "/" .. img.file)))
    end
    local s = slow:stats()
    assert.are.equal(5, s.inference_tasks)                -- nothing sent twice
    assert.are.equal(5, s.tasks_charged)                  -- every task paid once
    assert.are.equal(8, s.images)
    assert.are.equal(0, s.duplicates)
    slow:stop()
    rm(dir)
  end)
end)
