-- Workflow composition: map (ordering, concurrency cap, error isolation), series (short
-- series), refine (each image used as a reference), budget and dry run through them.
local seedream = require "seedream"
local h = require "helper"

-- The imageInference tasks the emulator received, newest last.
local function inference_tasks(emu, n)
  local list = {}
  for _, r in ipairs(emu:requests(n)) do
    if type(r.body) == "table" then
      for _, t in ipairs(r.body) do
        if t.taskType == "imageInference" then list[#list + 1] = t end
      end
    end
  end
  return list
end

describe("workflow", function()
  local emu
  setup(function() emu = h.emulator("--latency-ms 40") end)
  teardown(function() emu:stop() end)

  describe("map", function()
    it("returns results indexed like the input, whatever order they finish in", function()
      local c = emu:client()
      local finished = {}
      local results, errs = seedream.run(function()
        -- n images take n x 40 ms: the items finish in another order than they started
        return c:map({ 4, 1, 3, 2 }, function(n, i)
          local images = assert(c:generate(h.req { numberResults = n }))
          finished[#finished + 1] = i
          return #images * 10
        end, { concurrency = 4 })
      end)
      assert.are.same({ 40, 10, 30, 20 }, results)
      assert.are.same({}, errs)
      table.sort(finished)
      assert.are.same({ 1, 2, 3, 4 }, finished)     -- (the order they finished in varies)
      c:close()
    end)

    it("runs plain functions too, and returns empty tables for an empty list", function()
      local results, errs = seedream.map({ 1, 2, 3 }, function(x) return x + 1 end)
      assert.are.same({ 2, 3, 4 }, results)
      assert.are.same({}, errs)
      local r2, e2 = seedream.map({}, function() error("never called") end)
      assert.are.same({}, r2)
      assert.are.same({}, e2)
    end)

    it("never runs more than `concurrency` fn calls at once", function()
      local c = emu:client { max_in_flight = 16 }
      local active, peak, calls = 0, 0, 0
      local list = {}
      for i = 1, 9 do list[i] = i end
      local results, errs = seedream.run(function()
        return c:map(list, function(i)
          active = active + 1
          calls = calls + 1
          if active > peak then peak = active end
          local images = assert(c:generate(h.req { positivePrompt = "map item " .. i }))
          active = active - 1
          return images[1]
        end, { concurrency = 3 })
      end)
      assert.are.equal(9, calls)
      assert.are.equal(3, peak)
      for i = 1, 9 do
        assert.is_truthy(results[i].imageUUID)
        assert.is_nil(errs[i])
      end
      c:close()
    end)

    it("keeps the other results when items raise or return nil, err", function()
      local c = emu:client()
      local results, errs = seedream.run(function()
        return c:map({ "a", "b", "c", "d" }, function(x, i)
          if i == 2 then error("boom " .. x) end
          if i == 3 then return nil, "no " .. x end
          return assert(c:generate(h.req { positivePrompt = x }))[1]
        end, { concurrency = 2 })
      end)
      assert.is_truthy(results[1] and results[1].imageUUID)
      assert.is_truthy(results[4] and results[4].imageUUID)
      assert.is_nil(results[2])
      assert.is_nil(results[3])
      assert.are.equal("callback", errs[2].code)
      assert.matches("boom b", errs[2].message)
      assert.matches("no c", tostring(errs[3].message))
      assert.is_nil(errs[1])
      c:close()
    end)

    it("blocks outside seedream.run, driving the clients itself", function()
      local c = emu:client()
      assert.is_nil(require("seedream.scheduler").current())
      local results, errs = c:map({ 1, 2, 3 }, function(i)
        return assert(c:generate(h.req { positivePrompt = "blocking " .. i }))[1]
      end, { concurrency = 2 })
      assert.are.equal(3, #results)
      assert.is_nil(next(errs))
      c:close()
    end)

    it("rejects a bad concurrency", function()
      assert.has_error(function() seedream.map({}, function() end, { concurrency = 0 }) end)
    end)
  end)

  describe("series", function()
    it("makes one task with maxSequentialImages and returns its images in order", function()
      local c = emu:client()
      local before = emu:stats()
      local images = assert(c:series(h.req(), 4))
      local after = emu:stats()
      assert.are.equal(4, #images)
      assert.are.equal(4, images.requested)
      assert.is_nil(images.short)
      for i = 1, 4 do assert.are.equal(i, images[i].index) end
      assert.are.equal(1, after.inference_tasks - before.inference_tasks)
      local sent = inference_tasks(emu, 1)
      assert.are.equal(4, sent[#sent].providerSettings.bytedance.maxSequentialImages)
      c:close()
    end)

    it("with numberResults, asks for that many series and counts them all", function()
      local c = emu:client()
      local images = assert(c:series(h.req { numberResults = 2 }, 3))
      assert.are.equal(6, #images)
      assert.are.equal(6, images.requested)
      assert.is_nil(images.short)
      c:close()
    end)

    it("returns what came when the series is shorter than asked", function()
      local c = emu:client()
      emu:fault { kind = "short_series", images = 2 }
      local images = assert(c:series(h.req(), 4))
      assert.are.equal(2, #images)
      assert.is_true(images.short)
      assert.are.equal(4, images.requested)
      c:close()
    end)

    it("refuses references + series > 15 before sending anything", function()
      local c = emu:client()
      local refs = {}
      for i = 1, 12 do refs[i] = "https://example.com/ref" .. i .. ".png" end
      local before = emu:stats().requests
      local images, err = c:series(h.req { inputs = { referenceImages = refs } }, 4)
      assert.is_nil(images)
      assert.are.equal("invalid", err.code)
      assert.are.equal("providerSettings.bytedance.maxSequentialImages", err.field)
      assert.matches("<= 15", err.message)
      assert.are.equal(before, emu:stats().requests)
      c:close()
    end)
  end)

  describe("refine", function()
    it("uses each image as the reference of its refinement, concurrently", function()
      local c = emu:client()
      local seen = {}
      local frames, refined, errs = seedream.run(function()
        local f = assert(c:series(h.req { positivePrompt = "storyboard" }, 3))
        return f, c:refine(f, function(img, i)
          seen[i] = img.imageUUID
          return "refined frame " .. i
        end, { concurrency = 3 })
      end)
      assert.are.equal(3, #refined)
      assert.is_nil(next(errs))
      local by_prompt = {}
      for _, t in ipairs(inference_tasks(emu, 3)) do by_prompt[t.positivePrompt] = t end
      for i = 1, 3 do
        assert.are.equal(frames[i].imageUUID, seen[i])
        local t = assert(by_prompt["refined frame " .. i])
        assert.are.equal(frames[i].imageUUID, t.inputs.referenceImages[1])
        assert.are.equal(2048, t.width)
        assert.is_truthy(refined[i].imageUUID)
      end
      c:close()
    end)

    it("goes through a list with holes whole: a failed step's gap is reported, not the end", function()
      local c = emu:client()
      local a, b = assert(c:generate(h.req()))[1], assert(c:generate(h.req()))[1]
      local frames = { a, nil, b }                     -- the 2nd step failed earlier
      local refined, errs = c:refine(frames, "refined")
      assert.truthy(refined[1])
      assert.is_nil(refined[2])
      assert.truthy(refined[3])
      assert.are.equal("images[2]", errs[2].field)
      local seen = {}
      seedream.map({ 1, nil, 3, n = 4 }, function(x, i) seen[i] = x or false; return true end)
      assert.are.same({ 1, false, 3, false }, seen)
      -- a failed last item: the results still have its place, and the next map visits it
      local res, es = seedream.map({ 1, 2, 3 }, function(x) if x == 3 then return nil, "boom" end
                                                           return x end)
      assert.are.equal(3, #res)
      assert.truthy(es[3])
      local visited = 0
      seedream.map(res, function() visited = visited + 1; return true end)
      assert.are.equal(3, visited)
      c:close()
    end)

    it("adds extra references after the image and keeps refs <= 14", function()
      local c = emu:client()
      local src = assert(c:generate(h.req()))
      local data = "data:image/png;base64," .. h.PNG16
      local refined, errs = c:refine(src, "with a style reference", { references = { data } })
      assert.is_nil(next(errs))
      local t = inference_tasks(emu, 1)[1]
      assert.are.same({ src[1].imageUUID, data }, t.inputs.referenceImages)
      assert.is_truthy(refined[1])
      local many = {}
      for i = 1, 14 do many[i] = "https://example.com/" .. i .. ".png" end
      local before = emu:stats().requests
      local r2, e2 = c:refine(src, "too many", { references = many })
      assert.is_nil(r2[1])
      assert.are.equal("invalid", e2[1].code)
      assert.matches("more than 14", e2[1].message)
      assert.are.equal(before, emu:stats().requests)
      c:close()
    end)
  end)

  describe("money", function()
    it("a budget refuses a series before anything is sent", function()
      local c = emu:client { budget = 0.10 }
      local before = emu:stats().requests
      local images, err = c:series(h.req(), 4)     -- worst case 4 x 0.035 = 0.14
      assert.is_nil(images)
      assert.are.equal("budget", err.code)
      assert.are.equal(before, emu:stats().requests)
      c:close()
    end)

    it("keeps running totals across a series and its refinements", function()
      local c = emu:client { budget = 1.00 }
      seedream.run(function()
        local f = assert(c:series(h.req(), 2))
        local r, errs = c:refine(f, "refined")
        assert.is_nil(next(errs))
        assert.are.equal(2, #r)
      end)
      local cost = c:cost()
      assert.is_true(math.abs(cost.reported - 4 * 0.035) < 1e-9)
      assert.are.equal(0, cost.committed)
      assert.is_true(math.abs(cost.remaining - (1 - 4 * 0.035)) < 1e-9)
      c:close()
    end)

    it("a task that timed out counts against the budget: the server may still charge it", function()
      local c = emu:client { budget = 0.05, timeout = 0.3, retries = 0 }
      emu:fault { kind = "slow", ms = 1500, count = 1 }
      local images, err = c:generate(h.req())
      assert.is_nil(images)
      assert.are.equal("timeout", err.code)
      local cost = c:cost()
      assert.is_true(math.abs(cost.estimated - 0.035) < 1e-9)
      assert.is_true(math.abs(cost.remaining - 0.015) < 1e-9)
      local before = emu:stats().inference_tasks
      images, err = c:generate(h.req())             -- 0.035 + 0.035 > 0.05: refused
      assert.is_nil(images)
      assert.are.equal("budget", err.code)
      assert.are.equal(before, emu:stats().inference_tasks)
      c:close()
    end)

    it("a task the server refused costs nothing and leaves the budget as it was", function()
      local c = emu:client { budget = 0.05 }
      emu:fault { kind = "task_error", code = "contentModerated" }
      local images, err = c:generate(h.req())
      assert.is_nil(images)
      assert.are.equal("contentModerated", err.code)
      local cost = c:cost()
      assert.are.equal(0, cost.estimated)
      assert.are.equal(0, cost.committed)
      assert.is_true(math.abs(cost.remaining - 0.05) < 1e-9)
      c:close()
    end)

    it("a dry run plans series and refinements and sends nothing", function()
      local c = emu:client { dry_run = true }
      local before = emu:stats()
      local frames, refined = seedream.run(function()
        local f = assert(c:series(h.req(), 4))
        return f, (c:refine(f, "refined"))
      end)
      assert.are.same(before, emu:stats())
      assert.are.equal(4, #frames)
      assert.are.equal(4, #refined)
      for i = 1, 4 do
        assert.is_true(frames[i].planned)
        assert.is_true(refined[i].planned)
      end
      assert.are.equal(5, c:stats().planned)
      -- costed without a budget: the series' 4 images and 4 refinements, at the default price
      local cost = c:cost()
      assert.is_true(math.abs(cost.estimated - 8 * 0.035) < 1e-9)
      assert.are.equal(0, cost.reported)
      c:close()
    end)
  end)
end)
