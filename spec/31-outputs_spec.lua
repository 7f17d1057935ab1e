-- Outputs: every format x output type saved and verified, atomic saves, safe file names,
-- no key to the image host, ttl expiry.
local seedream = require "seedream"
local image = require "seedream.image"
local core = require "seedream.core"
local h = require "helper"

describe("outputs", function()
  local emu, client, dir
  setup(function() emu, client, dir = h.start { dir = true } end)
  teardown(function() h.stop(emu, client, dir) end)

  it("every format and output type is saved as a real image of the asked size", function()
    for _, fmt in ipairs { "JPG", "PNG", "WEBP" } do
      for _, ot in ipairs { "URL", "base64Data", "dataURI" } do
        local images = assert(client:generate(h.req { width = 2496, height = 1664,
          outputFormat = fmt, outputType = ot, outputQuality = 60 }))
        local sub = dir .. "/" .. fmt .. "-" .. ot
        os.execute("mkdir -p " .. sub)
        local path = assert(images[1]:save(sub))
        local kind, w, hh = seedream.image_info(path)
        assert.are.equal(fmt:lower(), kind, path)
        assert.are.equal(2496, w)
        assert.are.equal(1664, hh)
        assert.are.same({ images[1].taskUUID .. "-1." .. fmt:lower() }, h.ls(sub))
      end
    end
  end)

  it("names files after the seed: seeds are integers, as the API sends them", function()
    local img = assert(client:generate(h.req {}))[1]
    assert.are.equal("integer", math.type(img.seed))
    local sub = dir .. "/by-seed"
    os.execute("mkdir -p " .. sub)
    local path = assert(img:save(sub, { name = "{seed}-{index}.{ext}" }))
    assert.are.equal(sub .. "/" .. img.seed .. "-1.jpg", path)
  end)

  it("asks for gzip only for answers that carry images inline", function()
    local before = emu:stats().gzip_answers
    assert(client:generate(h.req { outputType = "URL" }))
    local img = assert(client:generate(h.req { outputType = "base64Data" }))[1]
    local after_sync = emu:stats().gzip_answers
    assert.are.equal(before + 1, after_sync)          -- the URL answer went plain
    assert.truthy(#img.imageBase64Data > 1000)        -- and the gzip one decoded whole
    local path = assert(img:save(dir))
    assert.are.equal("jpg", (seedream.image_info(path)))
    -- async: the acknowledgement is small, the poll answer with the image is not
    local t = assert(client:submit(h.req { outputType = "dataURI", deliveryMethod = "async" }))
    local images = assert(t:wait())
    assert.truthy(images[1].imageDataURI:find("^data:image/jpeg;base64,"))
    assert.truthy(emu:stats().gzip_answers > after_sync)
    -- a client that asks for none (a game loop: less CPU in the step that reads it)
    local plain = emu:client { gzip = false }
    local before_plain = emu:stats().gzip_answers
    img = assert(plain:generate(h.req { outputType = "base64Data" }))[1]
    assert(plain:generate(h.req { outputType = "dataURI", deliveryMethod = "async" }))
    assert.are.equal(before_plain, emu:stats().gzip_answers)
    assert.truthy(#img.imageBase64Data > 1000)
    plain:close()
  end)

  it("client:download saves many concurrently with names from our own taskUUIDs", function()
    local images = assert(client:generate(h.req { numberResults = 5 }))
    local sub = dir .. "/many"
    os.execute("mkdir -p " .. sub)
    local paths, errs = client:download(images, sub)
    for i = 1, 5 do
      assert.is_nil(errs[i])
      assert.are.equal(sub .. "/" .. images[i].taskUUID .. "-" .. i .. ".jpg", paths[i])
      assert.are.equal("jpg", (seedream.image_info(paths[i])))
    end
    assert.are.equal(5, #h.ls(sub))
  end)

  it("inside seedream.run, coroutines wait on downloads as on tasks, concurrently", function()
    local sub = dir .. "/coro"
    os.execute("mkdir -p " .. sub)
    local saved = {}
    seedream.run(function()
      local jobs = {}
      for i = 1, 4 do
        jobs[i] = client:spawn(function()
          local img = assert(client:generate(h.req { positivePrompt = "coroutine " .. i }))[1]
          saved[i] = assert(img:save(sub))        -- yields while the bytes arrive
        end)
      end
      for _, job in ipairs(jobs) do job:wait() end
    end)
    for i = 1, 4 do assert.are.equal("jpg", (seedream.image_info(saved[i]))) end
    assert.are.equal(4, #h.ls(sub))
  end)

  it("never sends the API key to the image host", function()
    local images = assert(client:generate(h.req()))
    assert(images[1]:save(dir .. "/k.jpg"))
    local s = emu:stats()
    assert.truthy(s.image_gets > 0)
    assert.are.equal(0, s.image_gets_with_auth)
  end)

  it("a failed download leaves no file, not even a partial one", function()
    local img = assert(client:generate(h.req()))[1]
    local gone = setmetatable({}, getmetatable(img))
    for k, v in pairs(img) do gone[k] = v end
    gone.imageURL = emu.base .. "/image/00000000-0000-4000-8000-000000000000.jpg"
    local t = client:fetch(gone.imageURL, dir .. "/missing.jpg", "jpg")
    local path, err = t:wait()
    assert.is_nil(path)
    assert.are.equal("http", err.code)
    assert.are.equal(404, err.status)
    assert.is_nil(io.open(dir .. "/missing.jpg"))
    for _, name in ipairs(h.ls(dir)) do assert.is_nil(name:find("part", 1, true)) end
    -- a signed URL's query is not repeated in the error (it may be a credential)
    local _, err2 = client:fetch(gone.imageURL .. "?sig=s3cr3t", dir .. "/m2.jpg", "jpg"):wait()
    assert.is_nil(tostring(err2):find("s3cr3t", 1, true))
  end)

  it("a file name for another format is refused (a JPEG is not saved as x.png)", function()
    local img = assert(client:generate(h.req()))[1]
    local path, err = img:save(dir .. "/x.png")
    assert.is_nil(path)
    assert.are.equal("invalid", err.code)
    assert.matches('name it %.jpg, or ask for outputFormat = "PNG"', err.message)
    assert.is_nil(io.open(dir .. "/x.png"))
    assert.are.equal(dir .. "/x.JPEG", (img:save(dir .. "/x.JPEG")))   -- any spelling of jpg
    assert.are.equal(dir .. "/x.img", (img:save(dir .. "/x.img")))     -- a name of the caller's own
    local paths, errs = client:download({ img }, dir, { name = "{taskUUID}.png" })
    assert.is_nil(paths[1])
    assert.are.equal("invalid", errs[1].code)
  end)

  it("saving into a directory that does not exist says so, as a local problem", function()
    local img = assert(client:generate(h.req()))[1]
    local before = emu:stats().requests
    local path, err = img:save(dir .. "/no/such/dir/a.jpg")
    assert.is_nil(path)
    assert.are.equal("io", err.code)
    assert.are.equal("cannot write " .. dir .. "/no/such/dir/a.jpg: the directory " .. dir
                     .. "/no/such/dir does not exist (or is not a directory)", err.message)
    assert.are.equal(before, emu:stats().requests)          -- nothing was fetched
  end)

  it("bytes that are not the expected format are refused and removed", function()
    local png = assert(client:generate(h.req { outputFormat = "PNG" }))[1]
    local f = client:fetch(png.imageURL, dir .. "/claims-jpg.jpg", "jpg")
    local path, err = f:wait()
    assert.is_nil(path)
    assert.are.equal("bad_response", err.code)
    assert.are.equal(200, err.status)
    assert.are.equal("download of " .. png.imageURL .. " is not a jpg file (got png)", err.message)
    assert.is_nil(io.open(dir .. "/claims-jpg.jpg"))
    for _, name in ipairs(h.ls(dir)) do assert.is_nil(name:find("part", 1, true)) end
  end)

  it("bytes() checks the format as save() does", function()
    local png = assert(client:generate(h.req { outputFormat = "PNG" }))[1]
    local b = assert(png:bytes())
    assert.are.equal("png", image.kind_of(b))
    local liar = setmetatable({}, getmetatable(png))
    for k, v in pairs(png) do liar[k] = v end
    liar.format = "jpg"
    liar.imageURL, liar.imageBase64Data = nil, nil
    liar.imageDataURI = "data:image/png;base64," .. h.PNG16
    local none, err = liar:bytes()
    assert.is_nil(none)
    assert.truthy(err.message:find("not a jpg file (got png)", 1, true))
    liar.imageDataURI = "data:image/png;base64"             -- no comma
    none, err = liar:bytes()
    assert.is_nil(none)
    assert.truthy(err.message:find("no ','", 1, true))
  end)

  it("files written from inline data follow the umask, as downloads do", function()
    local img = assert(client:generate(h.req { outputType = "base64Data" }))[1]
    local path = dir .. "/umask.jpg"
    local out = assert(io.popen("umask 077 && LUA_PATH='" .. package.path .. "' LUA_CPATH='" ..
      package.cpath .. "' lua5.4 -e 'assert(require(\"seedream.core\").write_base64(\"" .. path ..
      "\", \"" .. img.imageBase64Data:sub(1, 4000) .. "\"))' && stat -c %a '" .. path .. "'"))
    local mode = out:read("l")
    out:close()
    assert.are.equal("600", mode)
  end)

  it("a download of the wrong format leaves a file already at its path as it was", function()
    local png = assert(client:generate(h.req { outputFormat = "PNG" }))[1]
    local target = dir .. "/keep.jpg"
    local out = assert(io.open(target, "wb"))
    out:write("precious")
    out:close()
    local path, err = client:fetch(png.imageURL, target, "jpg"):wait()
    assert.is_nil(path)
    assert.are.equal("bad_response", err.code)
    local back = assert(io.open(target, "rb"))
    assert.are.equal("precious", back:read("a"))
    back:close()
    for _, name in ipairs(h.ls(dir)) do assert.is_nil(name:find("part", 1, true)) end
    -- the right format does replace it
    assert.are.equal(target, (client:fetch(png.imageURL, target, "png"):wait()))
    assert.are.equal("png", (core.sniff(target)))
  end)

  it("a hostile server cannot choose where files go", function()
    local img = assert(client:generate(h.req()))[1]
    local evil = { imageUUID = "../../../tmp/evil", taskUUID = img.taskUUID, index = 1, format = "jpg" }
    local name, err = image.file_name(evil, "{imageUUID}.{ext}")
    assert.is_nil(name)
    assert.are.equal("imageUUID", err.field)
    evil.taskUUID = "../x"
    assert.is_nil((image.file_name(evil)))
    evil.index = "1/../../x"
    assert.is_nil((image.file_name({ taskUUID = img.taskUUID, index = "../x", format = "jpg" })))
    -- a server-given imageUUID that IS a UUID may name the file
    assert.are.equal(img.imageUUID .. ".jpg", image.file_name(img, "{imageUUID}.{ext}"))
    -- an unknown placeholder is the caller's mistake, not the server's
    local _, perr = image.file_name(img, "{prompt}.{ext}")
    assert.are.equal("invalid", perr.code)
    assert.matches("{prompt} is not one of", perr.message)
    assert.are.equal("bad_response", err.code)
  end)

  it("image:bytes gives the encoded image of URL outputs too", function()
    local img = assert(client:generate(h.req { outputFormat = "WEBP" }))[1]
    local b = assert(img:bytes())
    assert.are.equal("RIFF", b:sub(1, 4))
    assert.are.equal("WEBP", b:sub(9, 12))
  end)

  it("a download after the ttl has passed is a clear error", function()
    local fast = h.emulator("--ttl-unit-ms 10")      -- ttl 60 s lasts 0.6 s here
    local c = fast:client()
    local img = assert(c:generate(h.req { ttl = 60 }))[1]
    require("seedream.core").sleep(0.8)
    local path, err = img:save(dir .. "/late.jpg")
    assert.is_nil(path)
    assert.are.equal("http", err.code)
    assert.truthy(err.message:find("expired", 1, true))
    assert.is_nil(io.open(dir .. "/late.jpg"))
    c:close()
    fast:stop()
  end)
end)
