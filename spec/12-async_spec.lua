-- Async delivery: batched getResponse polling (the emulator's counters prove one POST per
-- cycle), partial results as they arrive, de-duplication, retries with the same taskUUID.
local seedream = require "seedream"
local h = require "helper"
local core = require "seedream.core"

describe("async delivery", function()
  local emu
  setup(function() emu = h.emulator("--latency-ms 40") end)
  teardown(function() emu:stop() end)
  before_each(function() h.request("DELETE", emu.base .. "/faults") end)

  it("gets the images of an async task by polling", function()
    local c = emu:client()
    local images = assert(c:generate(h.req { deliveryMethod = "async", numberResults = 2 }))
    assert.are.equal(2, #images)
    assert.truthy(c:stats().polls >= 1)
    c:close()
  end)

  it("polls every async task in flight with ONE request per cycle", function()
    local c = emu:client { max_in_flight = 64, delivery = "async" }
    local before = emu:stats()
    local tasks = {}
    for i = 1, 30 do tasks[i] = assert(c:submit(h.req())) end
    local results, errs = seedream.wait_all(tasks)
    for i = 1, 30 do assert.are.equal(1, #results[i], tostring(errs[i])) end
    local after = emu:stats()
    local s = c:stats()
    -- the client's count of poll POSTs is what the server saw, and each carried many tasks
    assert.are.equal(s.poll_requests, after.poll_requests - before.poll_requests)
    assert.are.equal(s.polls, after.polls - before.polls)
    assert.truthy(s.polls > s.poll_requests * 5,
      ("%d getResponse tasks in %d requests"):format(s.polls, s.poll_requests))
    -- submits + polls is all the client sent; the 30 async submits shared one request
    assert.are.equal(1, s.submit_requests)
    assert.are.equal(s.submit_requests + s.poll_requests, after.requests - before.requests)
    assert.are.equal(30, after.inference_tasks - before.inference_tasks)
    c:close()
  end)

  it("delivers images of a series one by one, each once", function()
    local c = emu:client()
    local arrivals = {}
    local t = assert(c:submit(h.req { deliveryMethod = "async",
                                      providerSettings = { bytedance = { maxSequentialImages = 4 } } },
                              { on_image = function(img) arrivals[#arrivals + 1] = img.imageUUID end }))
    local streamed = {}
    for img in t:images() do streamed[#streamed + 1] = img end
    assert.are.equal(4, #streamed)
    assert.are.equal(4, #arrivals)
    local seen = {}
    for i, img in ipairs(streamed) do
      assert.are.equal(i, img.index)
      assert.are.equal(arrivals[i], img.imageUUID)
      assert.is_nil(seen[img.imageUUID]); seen[img.imageUUID] = true
    end
    -- images came over several polls (cumulative answers), yet none twice
    assert.truthy(c:stats().polls >= 2)
    assert.are.equal(4, #t:result())
    c:close()
  end)

  it("wait(timeout) bounds the whole wait, even while images keep arriving", function()
    local slow = h.emulator("--latency-ms 250")
    local c = slow:client { poll = { first = 0.05, min = 0.05 } }
    local series = h.req { deliveryMethod = "async",
                           providerSettings = { bytedance = { maxSequentialImages = 6 } } }
    local t = assert(c:submit(series))
    local t0 = core.now()
    local images, err = t:wait(0.6)                  -- outside a coroutine
    assert.is_nil(images)
    assert.are.equal("timeout", err.code)
    assert.is_true(core.now() - t0 < 1.0)
    assert.is_true(#t._images < 6)
    local t2 = assert(c:submit(series))
    seedream.run(function()                          -- inside one
      local t1 = core.now()
      local imgs, e = t2:wait(0.6)
      assert.is_nil(imgs)
      assert.are.equal("timeout", e.code)
      assert.is_true(core.now() - t1 < 1.0)
      t:cancel(); t2:cancel()
    end)
    c:close()
    slow:stop()
  end)

  it("a task that joins a backed-off poll cycle is first polled poll.first after it", function()
    local slow = h.emulator("--latency-ms 3000")
    local c = slow:client { delivery = "async", poll = { first = 0.1, min = 0.1, factor = 4, max = 4 } }
    local a = assert(c:submit(h.req()))
    local t0 = core.now()
    while core.now() - t0 < 1.0 do c:step(0.05) end   -- a has been polled: 0.1, 0.4, 1.6 s...
    assert.is_true(c.poll_interval >= 1.6)
    local polls = c:stats().polls
    local b = assert(c:submit(h.req()))
    local t1 = core.now()
    while c:stats().polls < polls + 2 and core.now() - t1 < 3 do c:step(0.02) end
    assert.is_true(core.now() - t1 < 0.6, "b's first poll came late")
    a:cancel(); b:cancel()
    c:close()
    slow:stop()
  end)

  it("a series that comes back shorter than asked finishes with what came", function()
    local c = emu:client()
    emu:fault { kind = "short_series", images = 2 }
    local images = assert(c:generate(h.req { deliveryMethod = "async",
      providerSettings = { bytedance = { maxSequentialImages = 5 } } }))
    assert.are.equal(2, #images)
    emu:fault { kind = "short_series", images = 3 }
    images = assert(c:generate(h.req { providerSettings = { bytedance = { maxSequentialImages = 5 } } }))
    assert.are.equal(3, #images)
    c:close()
  end)

  it("a task that fails on the server fails with the server's code", function()
    local c = emu:client()
    emu:fault { kind = "task_error", code = "contentModerated" }
    local images, err = c:generate(h.req { deliveryMethod = "async" })
    assert.is_nil(images)
    assert.are.equal("contentModerated", err.code)
    c:close()
  end)

  it("a dropped answer is retried with the same taskUUID and never charged twice", function()
    local c = emu:client()
    local before = emu:stats()
    emu:fault { kind = "drop_after_processing" }
    local images = assert(c:generate(h.req()))
    local after = emu:stats()
    assert.are.equal(1, #images)
    assert.are.equal(1, after.tasks_charged - before.tasks_charged)
    assert.are.equal(1, after.duplicates - before.duplicates)   -- the retry met conflictTaskUUID
    c:close()
  end)

  it("a dropped answer on a kept-alive connection: libcurl's quiet resend meets the conflict and polls", function()
    for _, given in ipairs { false, true } do
      for _, delivery in ipairs { "sync", "async" } do
        local c = emu:client()
        assert(c:generate(h.req()))                      -- the connection is warm now
        local before = emu:stats()
        emu:fault { kind = "drop_after_processing" }
        local req = h.req { deliveryMethod = delivery }
        if given then req.taskUUID = core.uuid() end
        local images, err = c:generate(req)
        local what = delivery .. (given and ", caller's taskUUID" or "")
        assert.is_truthy(images, what .. ": " .. tostring(err))
        assert.are.equal(1, #images, what)
        assert.are.equal(1, emu:stats().tasks_charged - before.tasks_charged, what)
        c:close()
      end
    end
  end)

  it("a caller's taskUUID the server already has is polled: paid once, never dropped", function()
    local u = core.uuid()
    for _, delivery in ipairs { "sync", "async" } do
      local c = emu:client()
      local first = assert(c:generate(h.req { taskUUID = u, deliveryMethod = delivery }))
      assert.are.equal(1, #first)
      -- a new client sends the same request under the same taskUUID (a script run again, or
      -- a proxy that sent the POST twice): the server answers the conflict, the task is polled
      local c2 = emu:client()
      local before = emu:stats()
      local again = assert(c2:generate(h.req { taskUUID = u, deliveryMethod = delivery }))
      assert.are.equal(first[1].imageUUID, again[1].imageUUID, delivery)
      assert.are.equal(0, emu:stats().tasks_charged - before.tasks_charged, delivery)
      c:close(); c2:close()
      u = core.uuid()
    end
    -- in one client, while the first is unfinished: refused before anything is sent
    local c = emu:client()
    local a = assert(c:submit(h.req { taskUUID = u, deliveryMethod = "async" }))
    local b, err = c:submit(h.req { taskUUID = u:upper() })
    assert.is_nil(b)
    assert.are.equal("invalid", err.code)
    assert.are.equal("taskUUID", err.field)
    assert.matches("already used", err.message)
    assert(a:wait())
    c:close()
  end)

  it("an async submit whose answer was lost is polled, not submitted again", function()
    local c = emu:client()
    local before = emu:stats()
    emu:fault { kind = "drop_after_processing" }
    local images = assert(c:generate(h.req { deliveryMethod = "async", numberResults = 2 }))
    local after = emu:stats()
    assert.are.equal(2, #images)
    assert.are.equal(1, after.tasks_charged - before.tasks_charged)
    c:close()
  end)

  it("429 with Retry-After is honoured", function()
    local c = emu:client()
    emu:fault { kind = "status", status = 429, retry_after = 1 }
    local t0 = require("seedream.core").now()
    assert(c:generate(h.req()))
    assert.truthy(require("seedream.core").now() - t0 >= 0.9)
    c:close()
  end)

  it("a failed poll is retried on the next cycle without losing tasks", function()
    local c = emu:client()
    local t = assert(c:submit(h.req { deliveryMethod = "async" }))
    while t.status ~= "processing" do c:step(0.01) end
    emu:fault { kind = "malformed", count = 2 }
    local images = assert(t:wait())
    assert.are.equal(1, #images)
    c:close()
  end)

  it("a 4xx page from something in between (not the API's error) is polled through", function()
    local c = emu:client()
    local tasks = {}
    for i = 1, 3 do tasks[i] = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "p" .. i })) end
    while tasks[3].status ~= "processing" do c:step(0.01) end
    emu:fault { kind = "malformed", status = 403 }          -- a proxy's HTML 403 to one poll
    for _, t in ipairs(tasks) do assert.are.equal(1, #assert(t:wait())) end
    c:close()
  end)

  it("the API's own 4xx to a poll (invalidApiKey) ends the tasks polled", function()
    local c = emu:client()
    local t = assert(c:submit(h.req { deliveryMethod = "async" }))
    while t.status ~= "processing" do c:step(0.01) end
    emu:fault { kind = "status", status = 401, code = "invalidApiKey" }
    local images, err = t:wait()
    assert.is_nil(images)
    assert.are.equal("invalidApiKey", err.code)
    c:close()
  end)

  it("a batched submit is stopped when its tasks time out: nothing is sent for them after", function()
    local c = emu:client { retries = 3 }
    emu:fault { kind = "slow", ms = 5000 }                   -- the submit's answer is late
    local t = assert(c:submit(h.req { deliveryMethod = "async" }, { timeout = 0.3 }))
    local _, err = t:wait()
    assert.are.equal("timeout", err.code)
    local before = emu:stats().requests
    assert.are.equal(0, c.http:perform(0))                    -- no transfer left running
    core.sleep(0.6)
    c:step(0)
    assert.are.equal(before, emu:stats().requests)
    c:close()
  end)

  it("a batched submit of which one task ends is sent again for the others only", function()
    local c = emu:client { retries = 3, backoff = 0.3 }
    emu:fault { kind = "status", status = 503 }              -- the shared POST must be retried
    local a = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "a" }))
    local b = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "b" }))
    c:step(0)                                                -- both go in one POST
    a:cancel()                                               -- before the retry
    local before = emu:stats()
    assert.are.equal(1, #assert(b:wait(10)))
    local after = emu:stats()
    assert.are.equal(1, after.tasks_charged - before.tasks_charged)   -- b only
    assert.are.equal("cancelled", a.status)
    c:close()
  end)

  it("a task sent again goes before tasks submitted after it; close leaves nothing queued", function()
    local c = emu:client { max_in_flight = 2 }
    emu:fault { kind = "slow", ms = 1000 }
    local a = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "a" }))
    local b = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "b" }))
    c:step(0)                                                -- a and b in one slow POST
    local later = {}
    for i = 1, 3 do later[i] = assert(c:submit(h.req { deliveryMethod = "async", positivePrompt = "o" .. i })) end
    a:cancel()
    c:step(0)
    assert.are.equal("sent", b.status)                       -- b took the free slot first
    assert.are.equal("queued", later[2].status)
    c:close()
    assert.are.equal(0, c:stats().queued)
  end)

  it("a stalled poll does not hold up polling: it has its own short timeout", function()
    local c = emu:client { poll = { first = 0.05, min = 0.05, max = 0.1, timeout = 0.5 } }
    local t = assert(c:submit(h.req { deliveryMethod = "async" }, { timeout = 60 }))
    while t.status ~= "processing" do c:step(0.01) end
    emu:fault { kind = "slow", ms = 600000 }               -- the next poll is never answered
    local t0 = core.now()
    local images = assert(t:wait())
    assert.are.equal(1, #images)
    assert.truthy(core.now() - t0 < 8, "polled again after the stalled one timed out")
    c:close()
  end)

  it("pollfds says to step at once while coroutines are ready or errors wait to be raised", function()
    local c = emu:client()
    local t = assert(c:submit(h.req(), { on_image = function() error("boom in on_image") end }))
    local job = c:spawn(function() return t:wait() end)
    local raised = 0
    while not t:done() do
      local ok = pcall(c.step, c, 0.05)
      if not ok then raised = raised + 1 end
    end
    assert.are.equal(1, raised)                      -- the callback's error, in that step
    -- the coroutine woken by the task has not run yet: an fd-driven loop must not sleep
    if not job.done then
      local _, timeout = c:pollfds()
      assert.are.equal(0, timeout)
      c:step(0)
    end
    assert.is_true(job.done)
    -- two failing jobs: one error per step, and pollfds says 0 until both are out
    c:spawn(function() error("first") end)
    c:spawn(function() error("second") end)
    local seen = 0
    for _ = 1, 5 do
      local _, timeout = c:pollfds()
      if timeout ~= 0 then break end
      if not pcall(c.step, c, 0) then seen = seen + 1 end
    end
    assert.are.equal(2, seen)
    c:close()
  end)

  it("pollfds exposes sockets and a timeout for external loops", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    local fds, timeout = c:pollfds()
    assert.is_table(fds)
    assert.truthy(timeout == nil or timeout >= 0)
    local saw_fd = #fds > 0
    while not t:done() do
      c:step(0.005)
      fds = c:pollfds()
      if #fds > 0 then
        saw_fd = true
        assert.is_number(fds[1].fd)
      end
    end
    assert.is_true(saw_fd)
    c:close()
  end)
end)

describe("a step with a budget", function()
  local emu
  setup(function() emu = h.emulator("--latency-ms 40") end)
  teardown(function() emu:stop() end)

  -- 20 tasks submitted together finish together: async ones in the same poll answer, sync
  -- ones as 20 answers at once. Each on_image takes 3 ms. Returns the images handed over,
  -- the most in one step, and the number of steps that handed any.
  local function land(budget, delivery)
    local core = require "seedream.core"
    local per_step, current, nudged = {}, 0, 0
    local c = emu:client { max_in_flight = 20, delivery = delivery or "async",
      on_image = function() core.sleep(0.003); current = current + 1 end }
    local tasks = {}
    for i = 1, 20 do tasks[i] = assert(c:submit(h.req { positivePrompt = "b" .. i })) end
    while c:busy() do
      current = 0
      c:step(0.01, budget)
      if current > 0 then per_step[#per_step + 1] = current end
      -- while results wait, an external loop is told to step again at once
      if c.backlog then
        local _, t = c:pollfds()
        assert.are.equal(0, t)
        nudged = nudged + 1
      end
    end
    for i = 1, 20 do assert.are.equal(1, #assert(tasks[i]:result())) end
    c:close()
    local total, most = 0, 0
    for _, n in ipairs(per_step) do total, most = total + n, math.max(most, n) end
    return total, most, #per_step, nudged
  end

  it("spreads a large landing over steps, losing nothing", function()
    for _, delivery in ipairs { "async", "sync" } do
      local total, most, steps, nudged = land(0.005, delivery)
      assert.are.equal(20, total)
      assert.is_true(nudged >= 5, delivery .. ": " .. nudged .. " steps left results waiting")
      assert.is_true(most <= 2, delivery .. ": " .. most .. " images in one step")
      assert.is_true(steps >= 10, delivery .. ": " .. steps .. " steps")
    end
  end)

  it("without one, hands the whole answer over in one step", function()
    local total, most = land(nil)
    assert.are.equal(20, total)
    assert.is_true(most > 2, most .. " images in the busiest step")
  end)
end)
