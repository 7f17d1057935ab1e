-- Delivery to the user's infrastructure: uploadEndpoint PUTs, webhook POSTs (retried,
-- de-duplicated), and the API key never reaching either.
local seedream = require "seedream"
local core = require "seedream.core"
local h = require "helper"

describe("delivery", function()
  local emu, client
  setup(function() emu, client = h.start() end)
  teardown(function() h.stop(emu, client) end)

  it("uploadEndpoint receives the raw image bytes by PUT, without the key", function()
    local rx = h.receiver()
    local img = assert(client:generate(h.req { uploadEndpoint = rx.url .. "/bucket/a.jpg?sig=1" }))[1]
    local got = rx:wait_for(1)
    rx:stop()
    assert.are.equal(1, #got)
    assert.are.equal("PUT", got[1].method)
    assert.are.equal("/bucket/a.jpg?sig=1", got[1].path)
    assert.is_false(got[1].authorization)
    assert.are.equal("ffd8ff", got[1].head:sub(1, 6))        -- JPEG magic
    assert.truthy(got[1].length > 1000)
    assert.truthy(img.imageUUID)
  end)

  it("webhookURL gets each image as a flat item, retried after failures, without the key", function()
    local rx = h.receiver(2)                 -- answers 500 twice, then 200
    -- the images go to the webhook: the task is done once the API acknowledges it
    local task = assert(client:submit(h.req { webhookURL = rx.url .. "/hook", numberResults = 2 }))
    local images = assert(task:wait())
    assert.are.equal(0, #images)
    assert.is_true(task.webhook)
    local got = rx:wait_for(4)
    rx:stop()
    assert.truthy(#got >= 4, #got .. " deliveries")
    local d = seedream.webhook.dedup()
    local fresh = {}
    for _, r in ipairs(got) do
      assert.are.equal("POST", r.method)
      assert.is_false(r.authorization)
      local img, is_new = assert(d:accept(r.body))
      assert.is_nil(h.json.decode(r.body).data)          -- no data wrapper
      assert.are.equal(task.taskUUID, img.taskUUID)
      if is_new then fresh[#fresh + 1] = img.imageUUID end
    end
    assert.are.equal(2, #fresh)
    assert.are_not.equal(fresh[1], fresh[2])
  end)

  it("a webhook task ends at its acknowledgement, sync or async, and the budget counts its worst case",
     function()
    local rx = h.receiver()
    local c = assert(seedream.client { url = emu.url, api_key = h.KEY, budget = 1, poll = { first = 0.05 } })
    local sync = assert(c:submit(h.req { webhookURL = rx.url .. "/a", numberResults = 2 }))
    local async = assert(c:submit(h.req { webhookURL = rx.url .. "/b", deliveryMethod = "async" }))
    assert.are.same({}, assert(sync:wait(10)))
    assert.are.same({}, assert(async:wait(10)))
    assert.is_true(sync.webhook and async.webhook)
    local cost = c:cost()
    assert.are.equal(0, cost.committed)
    assert.is_true(math.abs(cost.estimated - 3 * c.price) < 1e-9, tostring(cost.estimated))
    local got = rx:wait_for(3)
    rx:stop()
    c:close()
    assert.are.equal(3, #got)
  end)

  it("webhook.parse validates what it is given", function()
    local ok = seedream.webhook.parse(h.json.encode { taskType = "imageInference",
      taskUUID = core.uuid(), imageUUID = core.uuid(), imageURL = "https://x/y.png", seed = 1 })
    assert.are.equal("png", ok.format)
    local _, err = seedream.webhook.parse("{not json")
    assert.are.equal("bad_response", err.code)
    _, err = seedream.webhook.parse(h.json.encode { taskUUID = "x", imageUUID = core.uuid() })
    assert.are.equal("bad_response", err.code)
    _, err = seedream.webhook.parse(h.json.encode { taskUUID = core.uuid(), status = "error",
      error = { code = "contentModerated", message = "no" } })
    assert.are.equal("contentModerated", err.code)
    -- a failed task delivered as an API error envelope
    local u = core.uuid()
    _, err = seedream.webhook.parse(h.json.encode { errors = { { code = "contentModerated",
      message = "flagged", taskUUID = u } } })
    assert.are.equal("contentModerated", err.code)
    assert.are.equal(u, err.taskUUID)
    _, err = seedream.webhook.parse(h.json.encode { error = { code = "timeoutProvider", message = "slow" },
      taskUUID = u })
    assert.are.equal("timeoutProvider", err.code)
    _, err = seedream.webhook.parse(h.json.encode { error = { code = "x", taskUUID = u } })
    assert.are.equal("x", err.code)
    -- "error": null on a good image is no error
    local fine = assert(seedream.webhook.parse('{"taskUUID":"' .. core.uuid() .. '","imageUUID":"' ..
      core.uuid() .. '","imageURL":"https://x/a.png","error":null}'))
    assert.are.equal("png", fine.format)
    -- the API key a delivery echoes is not shown (given, or RUNWARE_API_KEY)
    local key = "sk-hook-9a8b7c"
    _, err = seedream.webhook.parse(h.json.encode { taskUUID = u, status = "error",
      error = { code = key, message = "bad " .. key } }, key)
    assert.is_nil(tostring(err):find(key, 1, true))
    fine = assert(seedream.webhook.parse('{"taskUUID":"' .. u .. '","imageUUID":"' .. core.uuid()
      .. '","imageURL":"https://x/a.png?k=' .. key .. '"}', key))
    assert.is_nil(fine.imageURL:find(key, 1, true))
    -- hostile shapes give nil, err, never a raise
    _, err = seedream.webhook.parse(h.json.encode { taskUUID = core.uuid(), status = "error", error = 5 })
    assert.are.equal("http", err.code)
    assert.are.equal("5", err.message)
    _, err = seedream.webhook.parse(h.json.encode { taskUUID = core.uuid(), imageUUID = core.uuid(),
                                                    imageURL = { x = 1 } })
    assert.are.equal("bad_response", err.code)
    assert.truthy(err.message:find("imageURL is not a string", 1, true))
  end)

  it("a webhook image, which has no index, saves under its imageUUID by default", function()
    local task, img = core.uuid(), core.uuid()
    local delivered = assert(seedream.webhook.parse(h.json.encode { taskUUID = task, imageUUID = img,
      imageBase64Data = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==" }))
    assert.are.equal("png", delivered.format)               -- from the bytes: no URL to tell
    assert.are.equal(task .. "-" .. img .. ".png", require("seedream.image").file_name(delivered))
    local webp = assert(seedream.webhook.parse(h.json.encode { taskUUID = task, imageUUID = core.uuid(),
      imageDataURI = "data:image/webp;base64,UklGRhYAAABXRUJQVlA4" }))
    assert.are.equal("webp", webp.format)
  end)

  it("webhook.dedup keeps at most max keys, forgetting the oldest", function()
    local d = seedream.webhook.dedup(3)
    local task = core.uuid()
    local first = { taskUUID = task, imageUUID = core.uuid() }
    assert.is_true(d:first(first))
    for _ = 1, 1000 do d:first { taskUUID = task, imageUUID = core.uuid() } end
    local kept = 0
    for _ in pairs(d.seen) do kept = kept + 1 end
    assert.are.equal(3, kept)
    assert.is_true(d:first(first))                          -- long forgotten: new again
  end)

  it("includeCost and safety pass through; cost is summed per task", function()
    local t = assert(client:submit(h.req { includeCost = true, numberResults = 3,
                                           safety = { checkContent = true, mode = "fast" } }))
    local images = assert(t:wait())
    assert.are.equal(3, #images)
    assert.truthy(math.abs(t.cost - 0.105) < 1e-9)
    assert.is_false(images[1].NSFWContent)
  end)
end)
