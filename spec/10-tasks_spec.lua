-- Tasks: states, step(0) never blocking, waits inside and outside coroutines, cancel,
-- timeouts, max_in_flight.
local seedream = require "seedream"
local core = require "seedream.core"
local h = require "helper"

describe("tasks", function()
  local emu, slow
  setup(function()
    emu = h.emulator()
    slow = h.emulator("--latency-ms 150")
  end)
  teardown(function() emu:stop(); slow:stop() end)

  it("go queued -> sent -> done and keep their taskUUID", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    assert.truthy(core.is_uuid(t.taskUUID))
    assert.are.equal("sent", t.status)          -- submit sends at once when a slot is free
    assert.is_false(t:done())
    assert.is_nil(t:result())
    local images = assert(t:wait())
    assert.are.equal("done", t.status)
    assert.is_true(t:done())
    assert.are.equal(images, t:result())
    assert.are.equal(t.taskUUID, images[1].taskUUID)
    c:close()
  end)

  it("async tasks go sent -> processing -> done", function()
    local c = slow:client()
    local t = assert(c:submit(h.req { deliveryMethod = "async" }))
    -- async submits wait for the next step (to share a request with others of the frame)
    local order = { t.status }
    while not t:done() do
      c:step(0.01)
      if order[#order] ~= t.status then order[#order + 1] = t.status end
    end
    -- "sent" lasts only until the acknowledgement, often within the same step
    if order[2] == "sent" then table.remove(order, 2) end
    assert.are.same({ "queued", "processing", "done" }, order)
    c:close()
  end)

  it("step(0) never blocks, even with slow tasks in flight", function()
    local c = slow:client()
    local tasks = {}
    for i = 1, 10 do tasks[i] = assert(c:submit(h.req())) end
    local worst, t0 = 0, core.now()
    while c:step(0) > 0 do
      local s = core.now()
      c:step(0)
      local d = core.now() - s
      if d > worst then worst = d end
      assert.truthy(core.now() - t0 < 10, "did not finish")
    end
    -- a blocking call would take the 150 ms latency; a frame's worth is generous
    assert.truthy(worst < 0.1, "worst step(0) took " .. worst .. " s")
    for _, t in ipairs(tasks) do assert.are.equal("done", t.status) end
    c:close()
  end)

  it("max_in_flight keeps the rest queued", function()
    local c = slow:client { max_in_flight = 2 }
    local tasks = {}
    for i = 1, 5 do tasks[i] = assert(c:submit(h.req())) end
    assert.are.equal("sent", tasks[1].status)
    assert.are.equal("sent", tasks[2].status)
    assert.are.equal("queued", tasks[3].status)
    local max_seen = 0
    while c:step(0.01) > 0 do
      local n = c:stats().in_flight
      if n > max_seen then max_seen = n end
    end
    assert.are.equal(2, max_seen)
    for _, t in ipairs(tasks) do assert.are.equal("done", t.status) end
    c:close()
  end)

  it("cancel stops waiting locally and says so", function()
    local c = slow:client()
    local t = assert(c:submit(h.req()))
    assert.is_true(t:cancel())
    assert.is_false(t:cancel())
    assert.are.equal("cancelled", t.status)
    local images, err = t:wait()
    assert.is_nil(images)
    assert.are.equal("cancelled", err.code)
    assert.are.equal(t.taskUUID, err.taskUUID)
    assert.are.equal(0, c:step(0))
    c:close()
  end)

  it("a queued task can be cancelled before it is sent", function()
    local c = slow:client { max_in_flight = 1 }
    local a = assert(c:submit(h.req()))
    local b = assert(c:submit(h.req()))
    assert.are.equal("queued", b.status)
    b:cancel()
    assert(a:wait())
    assert.are.equal("cancelled", b.status)
    c:close()
  end)

  it("a per-task timeout fails the task with code timeout", function()
    local c = slow:client()
    local t = assert(c:submit(h.req(), { timeout = 0.05 }))
    local images, err = t:wait()
    assert.is_nil(images)
    assert.are.equal("timeout", err.code)
    c:close()
  end)

  it("a task's timeout counts from when it is sent, not while it waits in the queue", function()
    local paced = h.emulator("--latency-ms 500")
    local c = paced:client { max_in_flight = 2, timeout = 1.2 }
    local tasks = {}
    for i = 1, 6 do tasks[i] = assert(c:submit(h.req())) end   -- 3 rounds of 0.5 s
    for i = 1, 6 do assert(tasks[i]:wait()) end
    assert.are.equal(6, paced:stats().tasks_charged)
    c:close()
    paced:stop()
  end)

  it("the client default timeout applies too", function()
    local c = slow:client { timeout = 0.05, delivery = "async" }
    local _, err = c:generate(h.req())
    assert.are.equal("timeout", err.code)
    c:close()
  end)

  it("wait(timeout) bounds the wait without failing the task", function()
    local c = slow:client()
    local t = assert(c:submit(h.req()))
    local images, err = t:wait(0.01)
    assert.is_nil(images)
    assert.are.equal("timeout", err.code)
    assert.is_false(t:done())
    assert(t:wait())
    c:close()
  end)

  it("a blocking wait inside a callback is refused clearly, and the step goes on", function()
    local c = emu:client()
    local inner_err
    local t = assert(c:submit(h.req(), { on_image = function()
      local ok, e = pcall(function() c:generate(h.req()) end)
      inner_err = not ok and tostring(e) or nil
    end }))
    assert(t:wait())
    assert.truthy(inner_err and inner_err:find("from inside a callback", 1, true), inner_err)
    assert(c:generate(h.req()))                     -- the client still works afterwards
    c:close()
  end)

  it("closing the client cancels what is unfinished", function()
    local c = slow:client()
    local t = assert(c:submit(h.req()))
    c:close()
    assert.are.equal("cancelled", t.status)
  end)

  it("a callback may close its own client: the step ends cleanly, the rest is cancelled", function()
    local c = emu:client { max_in_flight = 1 }
    local closed_in
    local first = assert(c:submit(h.req(), { on_image = function(_, task)
      closed_in = task
      c:close()
    end }))
    local second = assert(c:submit(h.req()))
    local ok, err = pcall(function() while c:busy() do c:step(0.05) end end)
    assert.is_true(ok, tostring(err))
    assert.are.equal(first, closed_in)
    assert.are.equal("cancelled", second.status)
    assert.is_false(c:busy())
    assert.are.equal(0, c:step(0))                   -- closed: nothing to do, no error
    assert.has_error(function() c:submit(h.req()) end)   -- but new work is misuse
    c:close()                                        -- idempotent
  end)

  -- misuse raises, and the message points at the caller's line, not into the library
  local THIS = debug.getinfo(1, "S").short_src
  -- each case { fn, message } raises message at the line where fn is written
  local function raises_at(cases)
    for _, case in ipairs(cases) do
      local line = debug.getinfo(case[1], "S").linedefined
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.are.equal(THIS .. ":" .. line .. ": " .. case[2], err)
    end
  end

  it("a closed client used through generate names the caller's line", function()
    local c = emu:client()
    c:close()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() return c:generate(h.req()) end)
    assert.is_false(ok)
    assert.are.equal(THIS .. ":" .. line .. ": seedream: attempt to use a closed client", err)
  end)

  it("arguments of the wrong type raise 'bad argument' at the caller's line", function()
    local c = emu:client()
    local img = require("seedream.image").new({ imageUUID = core.uuid(), imageURL = "http://x/a.jpg" },
                                   { taskUUID = core.uuid(), format = "JPG" }, 1)
    raises_at {
      { function() c:generate("x") end, "bad argument #1 to 'generate' (table expected, got string)" },
      { function() c:step("x") end, "bad argument #1 to 'step' (number or nil expected, got string)" },
      { function() c:step(0, {}) end, "bad argument #2 to 'step' (number or nil expected, got table)" },
      { function() c:download({}, nil) end, "bad argument #2 to 'download' (string expected, got nil)" },
      { function() c:download("x", ".") end, "bad argument #1 to 'download' (table expected, got string)" },
      { function() img:save(123) end, "bad argument #1 to 'save' (string or nil expected, got number)" },
      { function() seedream.wait_all(nil) end, "bad argument #1 to 'wait_all' (table expected, got nil)" },
      { function() seedream.wait_any(5) end, "bad argument #1 to 'wait_any' (table expected, got number)" },
    }
    c:close()
  end)

  it("a method called with '.' instead of ':' says so at the caller's line", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    local img = require("seedream.image").new({ imageUUID = core.uuid(), imageURL = "http://x/a.jpg" },
                                   { taskUUID = core.uuid(), format = "JPG" }, 1)
    raises_at {
      { function() c.generate(h.req()) end, "seedream: call it as client:generate(...), not client.generate(...)" },
      { function() c.submit(h.req()) end, "seedream: call it as client:submit(...), not client.submit(...)" },
      { function() c.step(0) end, "seedream: call it as client:step(...), not client.step(...)" },
      { function() c.cost() end, "seedream: call it as client:cost(...), not client.cost(...)" },
      { function() c.close() end, "seedream: call it as client:close(...), not client.close(...)" },
      { function() t.wait() end, "seedream: call it as task:wait(...), not task.wait(...)" },
      { function() t.result() end, "seedream: call it as task:result(...), not task.result(...)" },
      { function() img.save("/tmp") end, "seedream: call it as img:save(...), not img.save(...)" },
    }
    assert(t:wait())
    c:close()
  end)

  it("an empty RUNWARE_API_URL counts as unset, as an empty RUNWARE_API_KEY does", function()
    local p = assert(io.popen("RUNWARE_API_URL= lua5.4 -e 'local c = assert(require(\"seedream\")" ..
      ".client { api_key = \"k\" }); print(c.url)' 2>&1"))
    local out = p:read("a")
    p:close()
    assert.are.equal(require("seedream.client").DEFAULT_URL .. "\n", out)
  end)

  it("options of the wrong kind or range are refused by name when the client is made", function()
    for _, case in ipairs {
      { { retries = 2.5 }, "bad option 'retries' to seedream.client (a whole number >= 0 expected, got 2.5)" },
      { { max_in_flight = 0 }, "bad option 'max_in_flight' to seedream.client (a whole number > 0 expected, got 0)" },
      { { timeout = -1 }, "bad option 'timeout' to seedream.client (a number > 0 expected, got -1)" },
      { { poll = { first = "x" } }, "bad option 'poll.first' to seedream.client (number expected, got string)" },
      { { poll = { factor = 0.5 } }, "bad option 'poll.factor' to seedream.client (a number >= 1 expected, got 0.5)" },
    } do
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, err = pcall(seedream.client, case[1])
      assert.is_false(ok)
      assert.are.equal(THIS .. ":" .. line .. ": " .. case[2], err)
    end
    local c = assert(seedream.client { api_key = "k", url = emu.url, retries = 0, backoff = 0 })
    c:close()
    -- an unusable url (or CA file, or key) is nil, err before the transport's options raise
    local none, err = seedream.client { url = "http://example.com/v1", retries = "x" }
    assert.is_nil(none)
    assert.are.equal("url", err.field)
    for _, o in ipairs { { budget = 0 / 0 }, { budget = -1 }, { budget = 1, price = 0 },
                         { budget = 1, price = -0.01 } } do
      assert.has_error(function() seedream.client(o) end)
    end
  end)

  it("tasks cancelled in the queue while every slot is busy do not pile up in it", function()
    local c = slow:client { max_in_flight = 1 }
    local busy = assert(c:submit(h.req { numberResults = 3 }))     -- holds the one slot
    local prev
    for _ = 1, 500 do                       -- a game: a new preview each frame, the last dropped
      if prev then prev:cancel() end
      prev = assert(c:submit(h.req()))
    end
    local live = 0
    for i = c.qhead, c.qtail do if c.queue[i] then live = live + 1 end end
    assert.is_true(live < 130, live .. " entries kept for 1 queued task")
    assert.are.equal(1, c:stats().queued)
    assert(busy:wait())
    assert(prev:wait())                     -- the one still queued goes once the slot frees
    assert.are.equal(0, c:stats().queued)
    c:close()
  end)

  it("a large body of a task cancelled before it was sent is freed at once", function()
    local dir = h.tmpdir()
    os.execute("mkdir -p " .. dir)
    local big = h.write(dir .. "/big.png", h.png_header(2048, 2048) .. ("\0"):rep(300000))
    local c = slow:client { max_in_flight = 1 }
    local busy = assert(c:submit(h.req()))
    local t = assert(c:submit(h.req { referenceImages = { seedream.file(big) } }))
    local body = t.body
    assert.are.equal("userdata", type(body))
    assert.matches("bytes%)$", tostring(body))             -- holds its bytes
    t:cancel()
    assert.matches(", sent%)$", tostring(body))            -- let go, not left to the GC
    assert(busy:wait())
    c:close()
  end)

  it("short waits in a loop leave no waiter behind on the task", function()
    local c = slow:client()
    local t = assert(c:submit(h.req { numberResults = 2 }))
    local most = 0
    seedream.run(function()
      while not t:done() do
        t:wait(0.002)
        most = math.max(most, #(t._waiters or {}))
      end
    end)
    assert.is_true(most <= 1, most .. " waiters kept")
    c:close()
  end)

  it("errors of many callbacks in one step are raised together, once", function()
    local c = emu:client()
    local tasks = {}
    for i = 1, 6 do
      tasks[i] = assert(c:submit(h.req(), { on_image = function() error("cb " .. i) end }))
    end
    local raised = {}
    for _ = 1, 200 do
      if not c:busy() then break end
      local ok, e = pcall(c.step, c, 0.05)
      if not ok then raised[#raised + 1] = e end
    end
    local total = 0
    for _, e in ipairs(raised) do
      total = total + 1 + tonumber(e:match("%(and (%d+) more errors") or 0)
    end
    assert.are.equal(6, total)                  -- every one reported, none twice
    for _, t in ipairs(tasks) do assert.are.equal("done", t.status) end
    c:close()
  end)

  it("a misspelt option raises with the nearest name (a typo must not mean no budget)", function()
    local c = emu:client()
    local run = assert(seedream.run_dir(h.tmpdir()))
    raises_at {
      { function() seedream.client { budjet = 1 } end,
        "bad option 'budjet' to seedream.client (unknown; did you mean 'budget'?)" },
      { function() seedream.client { max_inflight = 4 } end,
        "bad option 'max_inflight' to seedream.client (unknown; did you mean 'max_in_flight'?)" },
      { function() seedream.client { poll = { maximum = 3 } } end,
        "bad option 'poll.maximum' to seedream.client (unknown)" },
      { function() c:submit(h.req(), { on_images = print }) end,
        "bad option 'on_images' to submit (unknown; did you mean 'on_image'?)" },
      { function() c:generate(h.req(), { Timeout = 5 }) end,
        "bad option 'Timeout' to submit (unknown; did you mean 'timeout'?)" },
      { function() c:refine({}, "p", { concurency = 2 }) end,
        "bad option 'concurency' to refine (unknown; did you mean 'concurrency'?)" },
      { function() c:map({}, print, { threads = 2 }) end, "bad option 'threads' to map (unknown)" },
      { function() c:download({}, ".", { nmae = "x" }) end,
        "bad option 'nmae' to download (unknown; did you mean 'name'?)" },
      { function() seedream.run_dir(h.tmpdir(), { on_events = print }) end,
        "bad option 'on_events' to run_dir (unknown; did you mean 'on_event'?)" },
      { function() run:client { url = emu.url, api_key = "k", budgte = 1 } end,
        "bad option 'budgte' to seedream.client (unknown; did you mean 'budget'?)" },
      { function() c:series(h.req()) end, "bad argument #2 to 'series' (number of images expected)" },
    }
    assert.are.equal(0, c:stats().submitted)               -- nothing went
    run:close()
    c:close()
  end)

  it("an API key with control characters is refused by name, without showing it", function()
    for _, key in ipairs { "sk-abc\0def", "sk-abc\r\nX-Evil: 1", ("k"):rep(5000) } do
      local c, err = seedream.client { api_key = key, url = emu.url }
      assert.is_nil(c)
      assert.are.equal("invalid", err.code)
      assert.are.equal("api_key", err.field)
      assert.is_nil(tostring(err):find("sk-abc", 1, true))
    end
  end)

  it("a task takes no more images than it can have, whatever the server sends", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    assert(t:wait())
    assert.is_false(t:_add_image { imageUUID = core.uuid(), imageURL = emu.base .. "/x.jpg" })
    assert.are.equal(1, #t:result())
    c:close()
  end)
end)
