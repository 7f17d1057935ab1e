-- Every schema rule with a passing and a failing case, through seedream.validate (no
-- network). Failing cases check the code, the field path (1-based, as the user wrote the
-- table) and a key part of the message.
local seedream = require "seedream"
local h = require "helper"
local req = h.req

local function fails(r, field, pattern)
  local ok, err = seedream.validate(r)
  assert.is_nil(ok)
  assert.is_true(seedream.is_error(err))
  assert.are.equal("invalid", err.code)
  if field then assert.are.equal(field, err.field) end
  if pattern then
    assert.truthy(err.message:find(pattern), ("message %q lacks %q"):format(err.message, pattern))
  end
  return err
end

local function passes(r)
  local ok, err = seedream.validate(r)
  assert.are.equal(true, ok, tostring(err))
end

describe("validation", function()
  it("accepts a minimal request", function() passes(req()) end)

  describe("positivePrompt", function()
    it("is required", function() fails({ width = 2048, height = 2048 }, "positivePrompt") end)
    it("must not be empty", function() fails(req { positivePrompt = "" }, "positivePrompt") end)
    it("must be a string", function() fails(req { positivePrompt = 5 }, "positivePrompt", "string") end)
    it("counts UTF-8 code points, not bytes", function()
      passes(req { positivePrompt = ("é"):rep(2000) })        -- 4000 bytes, 2000 characters
      fails(req { positivePrompt = ("é"):rep(2001) }, "positivePrompt", "2000")
      passes(req { positivePrompt = ("a"):rep(2000) })
      fails(req { positivePrompt = ("a"):rep(2001) }, "positivePrompt")
    end)
    it("rejects invalid UTF-8", function()
      fails(req { positivePrompt = "bad \xff byte" }, "positivePrompt", "UTF%-8")
      fails(req { positivePrompt = "overlong \xc0\xaf" }, "positivePrompt", "UTF%-8")
    end)
  end)

  describe("width and height", function()
    it("are required", function()
      fails({ positivePrompt = "x", height = 2048 }, "width")
      fails({ positivePrompt = "x", width = 2048 }, "height")
    end)
    it("must be integers", function()
      fails(req { width = 2048.5 }, "width", "integer")
      fails(req { width = "2048" }, "width", "integer")
      passes(req { width = 2048.0 })
    end)
    it("accept the documented 2K and 3K sizes, both orientations", function()
      for _, s in ipairs { {2048,2048}, {2304,1728}, {2848,1600}, {2496,1664}, {3136,1344},
                           {3072,3072}, {3456,2592}, {4096,2304}, {3744,2496}, {4704,2016} } do
        passes(req { width = s[1], height = s[2] })
        passes(req { width = s[2], height = s[1] })
      end
    end)
    it("reject too few or too many pixels", function()
      local e = fails(req { width = 1024, height = 1024 })
      assert.truthy(e.field == "width" or e.field == "height")
      assert.truthy(e.message:find("3686400"))
      fails(req { width = 4096, height = 4096 })
    end)
    it("reject an aspect ratio beyond 16:1", function()
      local e = fails(req { width = 16384, height = 256 })
      assert.truthy(e.field == "width" or e.field == "height")
    end)
  end)

  describe("enums", function()
    for field, values in pairs {
      outputType = { "URL", "dataURI", "base64Data" },
      outputFormat = { "JPG", "PNG", "WEBP" },
      deliveryMethod = { "sync", "async" },
    } do
      it(field .. " takes exactly " .. table.concat(values, "|"), function()
        for _, v in ipairs(values) do passes(req { [field] = v }) end
        fails(req { [field] = values[1]:lower() .. "x" }, field)
        fails(req { [field] = values[1]:upper() == values[1] and values[1]:lower() or values[1]:upper() }, field)
      end)
    end
    it("optimizePromptMode is standard|fast", function()
      passes(req { providerSettings = { bytedance = { optimizePromptMode = "fast" } } })
      passes(req { providerSettings = { bytedance = { optimizePromptMode = "standard" } } })
      fails(req { providerSettings = { bytedance = { optimizePromptMode = "slow" } } },
            "providerSettings.bytedance.optimizePromptMode")
    end)
    it("safety.mode is none|fast and checkContent a boolean", function()
      passes(req { safety = { checkContent = true, mode = "fast" } })
      passes(req { safety = { mode = "none" } })
      fails(req { safety = { mode = "full" } }, "safety.mode")
      fails(req { safety = { checkContent = "yes" } }, "safety.checkContent")
      fails(req { safety = "fast" }, "safety")
    end)
  end)

  describe("numbers", function()
    it("outputQuality is 20..99", function()
      passes(req { outputQuality = 20 }); passes(req { outputQuality = 99 })
      fails(req { outputQuality = 19 }, "outputQuality"); fails(req { outputQuality = 100 }, "outputQuality")
    end)
    it("numberResults is 1..20", function()
      passes(req { numberResults = 1 }); passes(req { numberResults = 20 })
      fails(req { numberResults = 0 }, "numberResults"); fails(req { numberResults = 21 }, "numberResults")
    end)
    it("ttl is >= 60 and only with outputType URL", function()
      passes(req { ttl = 60 }); passes(req { ttl = 3600, outputType = "URL" })
      fails(req { ttl = 59 }, "ttl")
      fails(req { ttl = 120, outputType = "base64Data" }, "ttl", "URL")
    end)
    it("an integer too large to send exactly is refused, not rounded", function()
      passes(req { ttl = 1 << 53 })
      fails(req { ttl = (1 << 53) + 1 }, "ttl", "too large to send exactly")
      fails(req { ttl = math.maxinteger }, "ttl", "too large")
      -- the same bound for floats (a request decoded from JSON holds only floats)
      passes(req { ttl = 2.0 ^ 53 })
      fails(req { ttl = 1e16 }, "ttl", "1e%+16 is too large to send exactly")
    end)
    it("a number that is not an integer is shown as given, not rounded to 6 digits", function()
      fails(req { height = 2048.0000001 }, "height", "got 2048%.0000001")
      fails(req { width = 0 / 0 }, "width", "finite number, got nan")
    end)
    it("includeCost is a boolean", function()
      passes(req { includeCost = true })
      fails(req { includeCost = 1 }, "includeCost")
    end)
  end)

  it("a prompt with a NUL character is refused (the text would end there)", function()
    fails(req { positivePrompt = "a\0b" }, "positivePrompt", "NUL")
  end)

  it("a caller's key that holds brackets is named as it is", function()
    fails(req { ["foo[3]"] = 1 }, "foo[3]")
  end)

  describe("URIs", function()
    for _, field in ipairs { "webhookURL", "uploadEndpoint" } do
      it(field .. " is an absolute http(s) URI", function()
        passes(req { [field] = "https://example.com/hook?x=1" })
        passes(req { [field] = "http://127.0.0.1:8080/up" })
        fails(req { [field] = "ftp://example.com/x" }, field)
        fails(req { [field] = "/relative/path" }, field)
        fails(req { [field] = "https://" }, field)
        fails(req { [field] = "https://exa mple.com/" }, field)
      end)
    end
  end)

  describe("taskUUID", function()
    it("may be given as a UUID v4", function()
      passes(req { taskUUID = "f71dc58d-1961-4aa2-ae5c-4f35532f2baf" })
    end)
    it("must be a UUID v4 when given", function()
      fails(req { taskUUID = "not-a-uuid" }, "taskUUID")
      fails(req { taskUUID = "f71dc58d-1961-1aa2-ae5c-4f35532f2baf" }, "taskUUID")  -- v1
    end)
    it("taskType and model must have their documented values when given", function()
      passes(req { taskType = "imageInference", model = "bytedance:seedream@5.0-lite" })
      fails(req { taskType = "imageUpload" }, "taskType")
      fails(req { model = "bytedance:seedream@4.0" }, "model")
    end)
  end)

  describe("reference images", function()
    local uuid = "c13c652a-05ed-4d68-9fb0-96024994ac6e"
    local png = h.PNG16
    it("accepts UUIDs, URLs, data URIs and base64, nested or at the top level", function()
      passes(req { inputs = { referenceImages = { uuid, "https://example.com/a.jpg",
                   "data:image/png;base64," .. png, png } } })
      passes(req { referenceImages = { uuid } })
    end)
    it("takes 1..14 of them", function()
      local many = {}
      for i = 1, 14 do many[i] = uuid end
      passes(req { inputs = { referenceImages = many } })
      many[15] = uuid
      fails(req { inputs = { referenceImages = many } }, "inputs.referenceImages", "14")
      fails(req { inputs = { referenceImages = {} } }, "inputs.referenceImages")
    end)
    it("names the offending entry, counting from 1", function()
      fails(req { inputs = { referenceImages = { uuid, uuid, "not an image ref!" } } },
            "inputs.referenceImages[3]")
      fails(req { inputs = { referenceImages = { uuid, 42 } } }, "inputs.referenceImages[2]")
      fails(req { inputs = { referenceImages = { "data:image/png;base64,@@@" } } },
            "inputs.referenceImages[1]")
    end)
    it("refuses both spellings at once", function()
      fails(req { referenceImages = { uuid }, inputs = { referenceImages = { uuid } } },
            "referenceImages")
    end)
    it("limits references + maxSequentialImages to 15", function()
      local refs = {}
      for i = 1, 5 do refs[i] = uuid end
      passes(req { inputs = { referenceImages = refs },
                   providerSettings = { bytedance = { maxSequentialImages = 10 } } })
      fails(req { inputs = { referenceImages = refs },
                  providerSettings = { bytedance = { maxSequentialImages = 11 } } },
            "providerSettings.bytedance.maxSequentialImages", "15")
    end)
  end)

  describe("maxSequentialImages", function()
    it("is 1..15", function()
      passes(req { providerSettings = { bytedance = { maxSequentialImages = 15 } } })
      fails(req { providerSettings = { bytedance = { maxSequentialImages = 0 } } },
            "providerSettings.bytedance.maxSequentialImages")
      fails(req { providerSettings = { bytedance = { maxSequentialImages = 16 } } },
            "providerSettings.bytedance.maxSequentialImages")
    end)
  end)

  describe("unknown fields", function()
    it("are errors with a suggestion for near misses", function()
      fails(req { positivPrompt = "x" }, "positivPrompt", "positivePrompt")
      fails(req { outputformat = "PNG" }, "outputformat", "outputFormat")
      fails(req { providerSettings = { bytedance = { maxSequentalImages = 2 } } },
            "providerSettings.bytedance.maxSequentalImages", "maxSequentialImages")
      fails(req { negativePromptXYZ = "x" }, "negativePromptXYZ", "unknown")
    end)
  end)

  describe("Lua values that are not JSON", function()
    it("are refused with the field path", function()
      fails(req { safety = { checkContent = print } }, "safety.checkContent", "function")
      fails(req { inputs = { referenceImages = { "a", x = 1 } } }, "inputs.referenceImages", "mixes")
      fails(req { width = 0/0 }, "width")
    end)
    it("survive a cycle without crashing", function()
      local t = req()
      t.safety = {}
      t.safety.self = t.safety
      local ok, err = seedream.validate(t)
      assert.is_nil(ok)
      assert.are.equal("invalid", err.code)
    end)
  end)

  it("errors print as one line with field and code", function()
    local _, err = seedream.validate(req { numberResults = 99 })
    local s = tostring(err)
    assert.truthy(s:find("numberResults", 1, true))
    assert.truthy(s:find("(invalid)", 1, true))
    assert.is_nil(s:find("\n"))
  end)

  it("raises for a non-table argument (misuse)", function()
    assert.has_error(function() seedream.validate("x") end)
  end)
end)
