-- The client's journal hooks (what run directories build on): replay, adopt, resend.
local seedream = require "seedream"
local core = require "seedream.core"
local h = require "helper"

local function journal(rec)
  local j = { submitted_keys = {}, ends = {} }
  function j:lookup(key) self.key = key; return rec end
  function j:submitted(task) self.submitted_keys[#self.submitted_keys + 1] = task.key end
  function j:finished(task) self.ends[#self.ends + 1] = task.status end
  return j
end

describe("journal hooks", function()
  local emu
  setup(function() emu = h.emulator() end)
  teardown(function() emu:stop() end)

  it("journals a task (with its request key) before it is sent, and its end", function()
    local j = journal(nil)
    local c = emu:client { journal = j }
    local t = assert(c:submit(h.req()))
    assert.are.equal(t.key, j.submitted_keys[1])
    assert.truthy(t.key:match("^%x+$") and #t.key == 32)
    assert(t:wait())
    assert.are.same({ "done" }, j.ends)
    c:close()
  end)

  it("the same request has the same key in any field order and under any taskUUID", function()
    local j1, j2 = journal(nil), journal(nil)
    local c1, c2 = emu:client { journal = j1 }, emu:client { journal = j2 }
    c1:submit { positivePrompt = "k", width = 2048, height = 2048, referenceImages = { "https://x/y.jpg" } }
    c2:submit { height = 2048, taskUUID = core.uuid(), positivePrompt = "k", width = 2048,
                inputs = { referenceImages = { "https://x/y.jpg" } } }
    assert.are.equal(j1.key, j2.key)
    c1:close(); c2:close()
  end)

  it("a finished record is replayed: nothing is sent", function()
    local before = emu:stats().requests
    local uuid = core.uuid()
    local c = emu:client { journal = journal { status = "done", taskUUID = uuid,
      images = { { imageUUID = core.uuid(), imageURL = "http://x/a.jpg", seed = 7 } } } }
    local t = assert(c:submit(h.req()))
    assert.is_true(t.replayed)
    local images = assert(t:wait())
    assert.are.equal(7, images[1].seed)
    assert.are.equal(uuid, images[1].taskUUID)
    assert.are.equal(before, emu:stats().requests)
    c:close()
  end)

  it("a submitted record is polled under its taskUUID, never sent again", function()
    local c0 = emu:client { delivery = "async" }
    local first = assert(c0:submit(h.req { positivePrompt = "adopt me" }))
    while first.status ~= "processing" do c0:step(0.01) end
    c0:close()                              -- "killed" after the server got it
    local before = emu:stats()
    local c = emu:client { journal = journal { status = "submitted", taskUUID = first.taskUUID } }
    local images = assert(c:generate(h.req { positivePrompt = "adopt me" }))
    local after = emu:stats()
    assert.are.equal(first.taskUUID, images[1].taskUUID)
    assert.are.equal(before.inference_tasks, after.inference_tasks)
    assert.truthy(after.polls > before.polls)
    c:close()
  end)

  it("a submitted record the server never got is sent under that same taskUUID", function()
    local uuid = core.uuid()
    local c = emu:client { journal = journal { status = "submitted", taskUUID = uuid } }
    local before = emu:stats()
    local images = assert(c:generate(h.req { positivePrompt = "never arrived" }))
    local after = emu:stats()
    assert.are.equal(uuid, images[1].taskUUID)
    assert.are.equal(1, after.tasks_charged - before.tasks_charged)
    c:close()
  end)

  it("taskFailedOrNotFound (the code Runware's SDKs know) also means the server never got it",
     function()
    local other = h.emulator("--not-found-code taskFailedOrNotFound")
    local uuid = core.uuid()
    local c = other:client { journal = journal { status = "submitted", taskUUID = uuid } }
    local images = assert(c:generate(h.req { positivePrompt = "never arrived either" }))
    assert.are.equal(uuid, images[1].taskUUID)
    assert.are.equal(1, other:stats().tasks_charged)
    c:close()
    other:stop()
    local errors = require "seedream.error"
    assert.is_true(errors.not_found { code = "taskNotFound" })
    assert.is_false(errors.not_found { code = "taskCancelled" })
    assert.is_false(errors.not_found(nil))
  end)
end)

describe("scheduler", function()
  it("a plain coroutine.yield inside seedream.run resumes on the next step", function()
    local emu = h.emulator()
    local c = emu:client()
    local steps = {}
    seedream.run(function()
      local job = c:spawn(function()
        steps[#steps + 1] = "before yield"
        coroutine.yield()
        steps[#steps + 1] = "after yield"
      end)
      assert(c:generate(h.req()))
      job:wait()
    end)
    assert.are.same({ "before yield", "after yield" }, steps)
    c:close(); emu:stop()
  end)
end)
