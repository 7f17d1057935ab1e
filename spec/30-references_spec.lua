-- Reference images: every kind accepted, every rejection named by its entry, nothing sent
-- for a rejected request.
local seedream = require "seedream"
local core = require "seedream.core"
local h = require "helper"

local UUID = "c13c652a-05ed-4d68-9fb0-96024994ac6e"

describe("reference images", function()
  local emu, client, dir
  setup(function() emu, client, dir = h.start { dir = true } end)
  teardown(function() h.stop(emu, client, dir) end)

  local function refs_sent()
    return emu:requests(1)[1].body[1].inputs.referenceImages
  end

  it("a local file is sent as a data URI holding exactly its bytes", function()
    local path = h.write(dir .. "/ref.png", core.base64_decode(h.PNG16))
    assert(client:generate(h.req { inputs = { referenceImages = { seedream.file(path) } } }))
    local sent = refs_sent()
    assert.are.equal(1, #sent)
    assert.are.equal("data:image/png;base64," .. h.PNG16, sent[1])
  end)

  it("JPEG and WEBP files are recognised by their magic bytes, not their names", function()
    for _, fmt in ipairs { "JPG", "WEBP" } do
      local img = assert(client:generate(h.req { outputType = "base64Data", outputFormat = fmt }))[1]
      local path = dir .. "/no-extension-" .. fmt
      assert(img:save(path))
      assert(client:generate(h.req { inputs = { referenceImages = { seedream.file(path) } } }))
      local mime = fmt == "JPG" and "image/jpeg" or "image/webp"
      assert.are.equal("data:" .. mime .. ";base64,", refs_sent()[1]:sub(1, #mime + 13))
      assert.are.equal(img.imageBase64Data, refs_sent()[1]:sub(#mime + 14))
    end
  end)

  it("14 files make a large body that is sent from C memory, byte for byte", function()
    local img = assert(client:generate(h.req { outputType = "base64Data" }))[1]
    local refs = {}
    for i = 1, 14 do refs[i] = seedream.file(assert(img:save(dir .. "/big" .. i .. ".jpg"))) end
    local t = assert(client:submit(h.req { inputs = { referenceImages = refs } }))
    assert.are.equal("userdata", type(t.body))             -- a seedream.Body, not a string
    assert(t:wait())
    local sent = refs_sent()
    assert.are.equal(14, #sent)
    for i = 1, 14 do assert.are.equal("data:image/jpeg;base64," .. img.imageBase64Data, sent[i]) end
  end)

  it("an earlier result can be passed directly and becomes its imageUUID", function()
    local first = assert(client:generate(h.req()))[1]
    assert(client:generate(h.req { referenceImages = { first } }))
    assert.are.same({ first.imageUUID }, refs_sent())
  end)

  it("UUIDs, URLs, data URIs and raw base64 go out as given", function()
    local known = assert(client:generate(h.req()))[1].imageUUID   -- a UUID the server has
    local list = { known, "https://example.com/a.jpg", "data:image/png;base64," .. h.PNG16, h.PNG16 }
    assert(client:generate(h.req { inputs = { referenceImages = list } }))
    assert.are.same(list, refs_sent())
  end)

  describe("rejections (nothing is sent)", function()
    local before
    before_each(function() before = emu:stats().requests end)
    after_each(function() assert.are.equal(before, emu:stats().requests) end)

    local function rejected(refs, code, index, pattern)
      local task, err = client:submit(h.req { inputs = { referenceImages = refs } })
      assert.is_nil(task)
      assert.are.equal(code, err.code)
      assert.are.equal("inputs.referenceImages[" .. index .. "]", err.field)
      if pattern then assert.truthy(err.message:find(pattern), err.message) end
      return err
    end

    it("a missing file, naming the entry and the file", function()
      local err = rejected({ UUID, UUID, seedream.file(dir .. "/nope.png") }, "io", 3)
      assert.are.equal(dir .. "/nope.png", err.file)
      assert.truthy(tostring(err):find("inputs.referenceImages[3] (" .. dir .. "/nope.png):", 1, true))
      rejected({ seedream.file(dir) }, "io", 1, "it is a directory")
    end)

    it("a path given as a plain string, with how to send the file", function()
      local path = h.write(dir .. "/cat.png", h.png_header(2048, 2048))
      rejected({ UUID, path }, "invalid", 2, "pass seedream%.file%(path%)")
      -- one that does not exist, named like an image file
      rejected({ "sketches/dog.JPG" }, "invalid", 1,
               "a local file%? pass seedream%.file%(path%); sketches/dog%.JPG does not exist here")
    end)

    it("a JSON null (a request decoded with cjson) and other non-strings", function()
      rejected({ UUID, require("cjson").null }, "invalid", 2, "got null")
      rejected({ UUID, UUID, io.stdout }, "invalid", 3, "userdata")
      local ok, err = seedream.validate(h.req { referenceImages = { require("cjson").null } })
      assert.is_nil(ok)
      assert.are.equal("referenceImages[1]", err.field)
    end)

    it("a file that is not a JPEG, PNG or WEBP image", function()
      local path = h.write(dir .. "/notes.png", "just some text, not an image at all")
      rejected({ seedream.file(path) }, "invalid", 1, "JPEG, PNG or WEBP")
    end)

    it("too many references", function()
      local many = {}
      for i = 1, 15 do many[i] = UUID end
      local _, err = client:submit(h.req { inputs = { referenceImages = many } })
      assert.are.equal("invalid", err.code)
      assert.are.equal("inputs.referenceImages", err.field)
    end)

    it("an aspect ratio beyond 16:1", function()
      local path = h.write(dir .. "/wide.png", h.png_header(3400, 200))
      rejected({ seedream.file(path) }, "invalid", 1, "aspect")
    end)

    it("sides below 14 or above 6000 pixels", function()
      rejected({ seedream.file(h.write(dir .. "/tiny.png", h.png_header(10, 10))) }, "invalid", 1, "14")
      rejected({ seedream.file(h.write(dir .. "/huge.png", h.png_header(7000, 5000))) }, "invalid", 1, "6000")
    end)

    it("a file of more than 10 MiB", function()
      local path = h.write(dir .. "/big.png", h.png_header(4000, 3000))
      assert(os.execute("truncate -s 11M " .. path))
      rejected({ seedream.file(path) }, "invalid", 1, "bytes")
    end)

    it("invalid base64 and malformed data URIs", function()
      rejected({ UUID, "data:image/png;base64,@@@@" }, "invalid", 2, "base64")
      rejected({ "data:text/plain;base64,aGVsbG8=" }, "invalid", 1)
      rejected({ "not base64 at all!" }, "invalid", 1)
    end)

    it("inline data whose header is a tiny image", function()
      local tiny = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
      rejected({ "data:image/png;base64," .. tiny }, "invalid", 1, "1x1")
    end)

    it("references + maxSequentialImages above 15", function()
      local refs = {}
      for i = 1, 6 do refs[i] = UUID end
      local _, err = client:submit(h.req { inputs = { referenceImages = refs },
        providerSettings = { bytedance = { maxSequentialImages = 10 } } })
      assert.are.equal("providerSettings.bytedance.maxSequentialImages", err.field)
    end)

    it("seedream.validate names the file too", function()
      local ok, err = seedream.validate(h.req { referenceImages = { seedream.file(dir .. "/gone.jpg") } })
      assert.is_nil(ok)
      assert.are.equal("referenceImages[1]", err.field)
      assert.are.equal(dir .. "/gone.jpg", err.file)
    end)
  end)

  it("a refine chain: each result visibly carries the reference it was given", function()
    -- the emulator renders deterministically from prompt and seed, and draws every
    -- reference it received as a thumbnail: so the bytes tell which reference went in
    local function png(req) return assert(assert(client:generate(h.req(req)))[1]:bytes()) end
    local a = assert(client:generate(h.req { positivePrompt = "original A" }))[1]
    local b = assert(client:generate(h.req { positivePrompt = "original B" }))[1]
    local plain = png { positivePrompt = "refined", outputFormat = "PNG" }
    assert.are.equal(plain, png { positivePrompt = "refined", outputFormat = "PNG" })
    local with_a = png { positivePrompt = "refined", outputFormat = "PNG", referenceImages = { a } }
    local with_b = png { positivePrompt = "refined", outputFormat = "PNG", referenceImages = { b } }
    assert.are_not.equal(plain, with_a)
    assert.are_not.equal(with_a, with_b)
    assert.are.equal(with_a, png { positivePrompt = "refined", outputFormat = "PNG",
                                   referenceImages = { a } })
  end)

  it("a plain string is never taken for a path", function()
    local path = h.write(dir .. "/real.png", core.base64_decode(h.PNG16))
    local ok, err = seedream.validate(h.req { referenceImages = { path } })
    assert.is_nil(ok)
    assert.are.equal("invalid", err.code)
  end)
end)
