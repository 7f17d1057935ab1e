-- Coroutines: waits yield inside seedream.run / client:spawn, block outside; wait_all,
-- wait_any; errors in coroutines are reported.
local seedream = require "seedream"
local h = require "helper"

describe("coroutines", function()
  local emu
  setup(function() emu = h.emulator("--latency-ms 30") end)
  teardown(function() emu:stop() end)

  it("seedream.run runs sequential-looking code and returns its results", function()
    local c = emu:client()
    local a, b = seedream.run(function(x)
      local images = assert(c:generate(h.req()))
      local more = assert(c:generate(h.req { numberResults = 2 }))
      return #images + #more, x
    end, "arg")
    assert.are.equal(3, a)
    assert.are.equal("arg", b)
    c:close()
  end)

  it("many coroutines run concurrently, not one after another", function()
    local c = emu:client { max_in_flight = 16 }
    local order = {}
    seedream.run(function()
      local jobs = {}
      for i = 1, 8 do
        jobs[i] = c:spawn(function()
          order[#order + 1] = "start" .. i
          assert(c:generate(h.req()))
          order[#order + 1] = "end" .. i
        end)
      end
      -- every coroutine started before any finished: they all wait together
      for i = 1, 8 do assert.are.equal("start" .. i, order[i]) end
      for i = 1, 8 do assert.is_nil(order[8 + i]) end
      for _, job in ipairs(jobs) do job:wait() end
    end)
    assert.are.equal(16, #order)
    c:close()
  end)

  it("outside any coroutine, wait drives the loop itself", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    assert.is_nil(coroutine.running() and nil)
    assert(t:wait())
    c:close()
  end)

  it("client:spawn advances with client:step, as in a game loop", function()
    local c = emu:client()
    local got
    local job = c:spawn(function()
      got = assert(c:generate(h.req()))
      return "finished"
    end)
    assert.is_false(job.done)
    local frames = 0
    while not job.done do
      c:step(0.005)
      frames = frames + 1
      assert.truthy(frames < 2000)
    end
    assert.are.equal(1, #got)
    assert.are.equal("finished", job.results[1])
    assert.truthy(frames > 1)
    c:close()
  end)

  it("wait_all returns results and errors indexed like the tasks", function()
    local c = emu:client()
    local tasks = {
      assert(c:submit(h.req())),
      assert(c:submit(h.req { numberResults = 2 })),
    }
    local bad = assert(c:submit(h.req()))
    bad:cancel()
    tasks[3] = bad
    local results, errs = seedream.wait_all(tasks)
    assert.are.equal(1, #results[1])
    assert.are.equal(2, #results[2])
    assert.is_nil(results[3])
    assert.are.equal("cancelled", errs[3].code)
    c:close()
  end)

  it("wait_any returns the first task to finish, inside and outside coroutines", function()
    local fast_emu = h.emulator()
    local slow_c = emu:client()
    local fast_c = fast_emu:client()
    local tasks = { assert(slow_c:submit(h.req { numberResults = 5 })), assert(fast_c:submit(h.req())) }
    local t, i = seedream.wait_any(tasks)
    assert.are.equal(2, i)
    assert.are.equal(tasks[2], t)
    assert.is_false(tasks[1]:done())
    seedream.run(function()
      local t2, i2 = seedream.wait_any({ assert(slow_c:submit(h.req { numberResults = 4 })),
                                          assert(fast_c:submit(h.req())) })
      assert.are.equal(2, i2)
      assert.is_true(t2:done())
    end)
    slow_c:close(); fast_c:close(); fast_emu:stop()
  end)

  it("waiting on two clients at once sleeps on their sockets instead of spinning", function()
    local slow = h.emulator("--latency-ms 150")
    local a, b = emu:client(), slow:client()
    local c0, w0 = os.clock(), require("seedream.core").now()
    seedream.run(function()
      local ta = assert(a:submit(h.req { numberResults = 3 }))   -- ~90 ms
      local tb = assert(b:submit(h.req { numberResults = 2 }))   -- ~300 ms
      seedream.wait_all { ta, tb }
    end)
    local cpu, wall = os.clock() - c0, require("seedream.core").now() - w0
    assert.truthy(wall >= 0.25, "wall " .. wall)
    assert.truthy(cpu < wall / 2, ("cpu %.3f s in %.3f s"):format(cpu, wall))
    a:close(); b:close(); slow:stop()
  end)

  it("an error inside seedream.run is raised with its traceback", function()
    local c = emu:client()
    local ok, msg = pcall(seedream.run, function()
      assert(c:generate(h.req()))
      error("boom in the pipeline")
    end)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("boom in the pipeline", 1, true))
    assert.truthy(tostring(msg):find("traceback", 1, true))
    c:close()
  end)

  it("an error in a spawned coroutine is raised by step unless on_error takes it", function()
    local c = emu:client()
    c:spawn(function()
      assert(c:generate(h.req()))
      error("spawned failure")
    end)
    local ok, msg = pcall(function() while c:step(0.01) > 0 do end; c:step(0) end)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("spawned failure", 1, true))

    local reported
    local c2 = emu:client { on_error = function(m) reported = m end }
    c2:spawn(function() assert(c2:generate(h.req())); error("handled failure") end)
    while c2:step(0.01) > 0 do end
    c2:step(0)
    assert.truthy(reported:find("handled failure", 1, true))
    c:close(); c2:close()
  end)

  it("job:wait gives a failed job's error to its waiter, which step then does not raise", function()
    local c = emu:client()
    -- inside: the parent handles its child's failure and goes on
    local got = seedream.run(function()
      local child = c:spawn(function() assert(c:generate(h.req())); error("child failed") end)
      local r, err = child:wait()
      assert.is_nil(r)
      return err
    end)
    assert.truthy(got:find("child failed", 1, true))
    c:step(0)                                        -- nothing left to raise
    -- outside, waiting while it fails
    local job = c:spawn(function() assert(c:generate(h.req())); error("failed while waited") end)
    local r, err = job:wait()
    assert.is_nil(r)
    assert.truthy(err:find("failed while waited", 1, true))
    c:step(0)
    -- outside, waited only after it had failed
    job = c:spawn(function() error("failed before the wait") end)
    r, err = job:wait()
    assert.is_nil(r)
    assert.truthy(err:find("failed before the wait", 1, true))
    c:step(0)
    c:close()
  end)

  it("a wait(timeout) that yields leaves no timer behind once the task is done", function()
    local c = emu:client()
    seedream.run(function()
      local t = assert(c:submit(h.req()))
      assert(t:wait(30))
    end)
    assert.is_false(c:busy())
    local _, timeout = c:pollfds()
    assert.is_nil(timeout)
    c:close()
  end)

  it("wait_any woken by two tasks in one step runs its coroutine once; the next wait waits", function()
    local c = emu:client { delivery = "async", poll = { first = 0.2, min = 0.2 } }
    local slow = h.emulator("--latency-ms 600")
    local cs = slow:client()
    local t1, t2 = assert(c:submit(h.req())), assert(c:submit(h.req()))   -- one poll ends both
    local t3 = assert(cs:submit(h.req { numberResults = 2 }))            -- still running then
    local first, images, err = seedream.run(function()
      local t = seedream.wait_any { t1, t2 }
      return t, t3:wait()
    end)
    assert.truthy(first == t1 or first == t2)
    assert.is_nil(err)
    assert.are.equal(2, #images)
    cs:close()
    slow:stop()
    local r, e = seedream.run(function()
      local t4 = assert(c:submit(h.req()))
      return t4:wait(30)
    end)
    assert.is_nil(e)
    assert.are.equal(1, #r)
    c:close()
  end)

  it("wait_any leaves no waiter behind on the tasks that did not wake it", function()
    local c = emu:client()
    local slow = h.emulator("--latency-ms 2000")
    local cs = slow:client()
    local fast = assert(c:submit(h.req()))
    local others = {}
    for i = 1, 20 do others[i] = assert(cs:submit(h.req())) end
    seedream.run(function()
      for _ = 1, 3 do
        local list = { fast }
        for i = 1, 20 do list[#list + 1] = others[i] end
        assert.are.equal(fast, (seedream.wait_any(list)))
      end
    end)
    for i = 1, 20 do assert.is_nil(others[i]._waiters) end
    cs:close(); slow:stop()
    c:close()
  end)

  it("seedream.run refuses to hang when nothing is pending", function()
    assert.has_error(function()
      seedream.run(function() require("seedream.scheduler").park() end)
    end)
  end)

  it("a wait inside a callback of a step run in a coroutine is refused; the client goes on", function()
    local dir = h.tmpdir()
    os.execute("mkdir -p " .. dir)
    local c = emu:client { on_image = function(img) assert(img:save(dir .. "/")) end }
    local ok, err = pcall(seedream.run, function() return c:generate(h.req()) end)
    assert.is_false(ok)
    assert.matches("from inside a callback", tostring(err))
    -- the client was left whole: a later step and task work
    assert.are.equal(0, c:step(0))
    c.on_image = nil
    assert(c:generate(h.req()))
    c:close()
  end)

  it("an on_error handler that raises loses no other coroutine woken in the same step", function()
    local c = emu:client()
    local t = assert(c:submit(h.req()))
    local resumed = 0
    local handler_calls = 0
    local function on_error() handler_calls = handler_calls + 1; error("handler broke") end
    local scheduler = require "seedream.scheduler"
    local jobs = {
      scheduler.spawn(function() t:wait(); error("job failed") end, on_error),
      scheduler.spawn(function() t:wait(); resumed = resumed + 1 end),
      scheduler.spawn(function() t:wait(); resumed = resumed + 1 end),
    }
    local raised
    while not (jobs[2].done and jobs[3].done) do
      local ok, e = pcall(c.step, c, 0.05)
      if not ok then raised = e end
    end
    assert.are.equal(2, resumed)
    assert.are.equal(1, handler_calls)
    assert.matches("handler broke", raised)
    c:close()
  end)

  it("an error value raised in a coroutine stays itself (a seedream error keeps its code)", function()
    local c = emu:client()
    local ok, err = pcall(seedream.run, function()
      local _, e = c:generate(h.req { width = 1 })        -- invalid: nil, err
      error(e)
    end)
    assert.is_false(ok)
    assert.is_true(seedream.is_error(err))
    assert.are.equal("invalid", err.code)
    assert.matches("stack traceback", err.traceback)
    local job = c:spawn(function() error({ mine = true }) end)
    local r, e = job:wait()
    assert.is_nil(r)
    assert.is_true(e.mine)
    c:close()
  end)

  it("seedream.run lets its function take a coroutine's error in its own order", function()
    local slow = h.emulator("--latency-ms 200")
    local c = slow:client()
    local got = seedream.run(function()
      local j1 = c:spawn(function() return assert(c:generate(h.req())) end)
      local j2 = c:spawn(function() error("job 2 failed") end)    -- fails at once
      assert(j1:wait())
      local _, e = j2:wait()
      return e
    end)
    assert.matches("job 2 failed", got)
    -- one nobody takes is still raised, once the function has returned
    local ok, err = pcall(seedream.run, function()
      c:spawn(function() error("nobody waits for me") end)
      return assert(c:generate(h.req()))
    end)
    assert.is_false(ok)
    assert.matches("nobody waits for me", err)
    c:close()
    slow:stop()
  end)

  it("a callback's error goes to on_error when there is one, with its traceback", function()
    local seen = {}
    local c = emu:client { on_error = function(msg) seen[#seen + 1] = msg end }
    local t = assert(c:submit(h.req(), { on_image = function() error("on_image broke") end }))
    assert(t:wait())
    assert.are.equal(1, #seen)
    assert.matches("on_image broke", seen[1])
    assert.matches("stack traceback", seen[1])
    c:close()
  end)

  it("a coroutine's error is not lost when a callback failed in the same step", function()
    local c = emu:client { on_image = function() error("callback boom") end }
    local t = assert(c:submit(h.req()))
    c:spawn(function() t:wait(); error("job boom") end)
    local raised = {}
    for _ = 1, 100 do
      local ok, e = pcall(c.step, c, 0.05)
      if not ok then raised[#raised + 1] = e end
      if t:done() and #raised >= 2 then break end
    end
    local all = table.concat(raised, "\n")
    assert.matches("callback boom", all)
    assert.matches("job boom", all)
    c:close()
  end)

  it("a failed seedream.run reports its coroutines' untaken errors, and no later run does", function()
    local c = emu:client()
    local ok, err = pcall(seedream.run, function()
      c:spawn(function() error("child boom") end)
      assert(c:generate(h.req()))
      error("main boom")
    end)
    assert.is_false(ok)
    assert.matches("main boom", err)
    assert.matches("coroutines of this run failed as well: .*child boom", err)
    assert.are.equal(1, #seedream.run(function() return assert(c:generate(h.req())) end))
    c:close()
  end)

  it("an interrupt in a coroutine stops seedream.run at once, not when its function returns", function()
    local slow = h.emulator("--latency-ms 2500")
    local c = slow:client()
    local t0 = require("seedream.core").now()
    local ok, err = pcall(seedream.run, function()
      local t = assert(c:submit(h.req()))
      c:spawn(function() error("interrupted!", 0) end)    -- what a Ctrl-C in a shell command raises
      t:wait()
    end)
    assert.is_false(ok)
    assert.is_true(require("seedream.error").is_interrupt(err), tostring(err))
    assert.is_true(require("seedream.core").now() - t0 < 1.5)
    c:close()
    slow:stop()
  end)

  it("a game loop that goes on stepping after close() resumes the coroutines it woke", function()
    local slow = h.emulator("--latency-ms 2000")
    local c = slow:client()
    local t = assert(c:submit(h.req()))
    local got
    local job = c:spawn(function() local _, e = t:wait(); got = e and e.code end)
    c:step(0)
    c:close()                              -- a scene change
    for _ = 1, 3 do
      if c:busy() then assert.are.equal(0, c:step(0)) end
    end
    assert.is_true(job.done)
    assert.are.equal("cancelled", got)
    assert.is_false(c:busy())
    slow:stop()
  end)

  it("wait_any of an empty list returns at once", function()
    local t0 = require("seedream.core").now()
    assert.is_nil(seedream.wait_any({}))
    seedream.run(function() assert.is_nil(seedream.wait_any({})) end)
    assert.is_true(require("seedream.core").now() - t0 < 0.5)
  end)
end)
