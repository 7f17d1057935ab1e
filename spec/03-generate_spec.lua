-- Synchronous generation end to end against the local emulator.
local seedream = require "seedream"
local h = require "helper"

local tmpdir, ls = h.tmpdir, h.ls

describe("generate (sync)", function()
  local emu, client
  setup(function() emu, client = h.start() end)
  teardown(function() h.stop(emu, client) end)

  it("returns one image table with the documented fields", function()
    local images, err = client:generate(h.req { includeCost = true })
    assert.is_nil(err)
    assert.are.equal(1, #images)
    local img = images[1]
    assert.truthy(seedream.is_error(err) == false or err == nil)
    assert.truthy(img.imageUUID:match("^%x+%-%x+%-%x+%-%x+%-%x+$"))
    assert.truthy(img.imageURL:find(emu.base .. "/image/", 1, true) == 1)
    assert.are.equal("number", type(img.seed))
    assert.are.equal(0.035, img.cost)
    assert.truthy(img.taskUUID:match("^%x+%-"))
    assert.are.equal(1, img.index)
  end)

  it("sends exactly the documented wire shape with the bearer key", function()
    local images = assert(client:generate(h.req { referenceImages = { "https://example.com/r.jpg" } }))
    local last = emu:requests(1)[1]
    assert.is_true(last.auth)
    local body = last.body
    assert.are.equal(1, #body)
    assert.are.equal("imageInference", body[1].taskType)
    assert.are.equal("bytedance:seedream@5.0-lite", body[1].model)
    assert.are.equal(images[1].taskUUID, body[1].taskUUID)
    assert.are.same({ "https://example.com/r.jpg" }, body[1].inputs.referenceImages)
    assert.is_nil(body[1].referenceImages)
  end)

  it("numberResults and maxSequentialImages give that many images", function()
    local images = assert(client:generate(h.req { numberResults = 3 }))
    assert.are.equal(3, #images)
    images = assert(client:generate(h.req { providerSettings = { bytedance = { maxSequentialImages = 4 } } }))
    assert.are.equal(4, #images)
    local seen = {}
    for i, img in ipairs(images) do
      assert.are.equal(i, img.index)
      assert.is_nil(seen[img.imageUUID])
      seen[img.imageUUID] = true
    end
  end)

  it("saves real images of the requested size in every format", function()
    local dir = tmpdir()
    for _, fmt in ipairs { "JPG", "PNG", "WEBP" } do
      local images = assert(client:generate(h.req { width = 2304, height = 1728, outputFormat = fmt,
                                                    outputQuality = 80 }))
      local path = assert(images[1]:save(dir))
      local kind, w, hgt, size = seedream.image_info(path)
      assert.are.equal(fmt:lower(), kind)
      assert.are.equal(2304, w)
      assert.are.equal(1728, hgt)
      assert.truthy(size > 1000)
      assert.are.equal(dir .. "/" .. images[1].taskUUID .. "-1." .. fmt:lower(), path)
    end
    assert.are.equal(3, #ls(dir))      -- no temporary files left behind
    os.execute("rm -rf " .. dir)
  end)

  it("decodes base64Data and dataURI outputs straight to files", function()
    local dir = tmpdir()
    for _, ot in ipairs { "base64Data", "dataURI" } do
      local images = assert(client:generate(h.req { outputType = ot, outputFormat = "PNG" }))
      local img = images[1]
      assert.is_nil(img.imageURL)
      assert.is_string(ot == "base64Data" and img.imageBase64Data or img.imageDataURI)
      local path = assert(img:save(dir .. "/" .. ot .. ".png"))
      local kind, w, hgt = seedream.image_info(path)
      assert.are.equal("png", kind)
      assert.are.equal(2048, w)
      assert.are.equal(2048, hgt)
      local bytes = assert(img:bytes())
      assert.are.equal("\137PNG", bytes:sub(1, 4))
    end
    os.execute("rm -rf " .. dir)
  end)

  it("runs the four reference requests", function()
    local examples = dofile("examples/reference_requests.lua")
    local tasks = {}
    for i, ex in ipairs(examples) do
      local r = {}
      for k, v in pairs(ex.request) do r[k] = v end
      r.taskUUID = nil
      tasks[i] = assert(client:submit(r))
    end
    for i, t in ipairs(tasks) do
      local images = assert(t:wait())
      assert.are.equal(1, #images, examples[i].title)
    end
  end)

  it("the same prompt gives the same seed (deterministic emulator)", function()
    local a = assert(client:generate(h.req { positivePrompt = "same prompt" }))
    local b = assert(client:generate(h.req { positivePrompt = "same prompt" }))
    assert.are.equal(a[1].seed, b[1].seed)
    assert.are_not.equal(a[1].imageUUID, b[1].imageUUID)
  end)
end)
