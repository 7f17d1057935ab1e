-- The C binding (seedream.core) and the client object's lifecycle.
local core = require "seedream.core"
local seedream = require "seedream"
local h = require "helper"

describe("seedream.core", function()
  it("prepare writes the wire shape and fills taskType, model and taskUUID", function()
    local json, uuid, max = core.prepare(h.req { referenceImages = { "https://example.com/a.jpg" },
      providerSettings = { bytedance = { maxSequentialImages = 3 } }, numberResults = 2 })
    assert.is_string(json)
    assert.truthy(core.is_uuid(uuid))
    assert.are.equal(6, max)
    local t = h.json.decode(json)
    assert.are.equal("imageInference", t.taskType)
    assert.are.equal("bytedance:seedream@5.0-lite", t.model)
    assert.are.equal(uuid, t.taskUUID)
    assert.is_nil(t.referenceImages)
    assert.are.same({ "https://example.com/a.jpg" }, t.inputs.referenceImages)
    -- taskType, taskUUID and model come first, as in the reference's examples
    assert.truthy(json:find('^%[?{"taskType":"imageInference","taskUUID":"'))
  end)

  it("prepare keeps a given taskUUID and makes integers of integral floats", function()
    local json, uuid = core.prepare(h.req { taskUUID = "f71dc58d-1961-4aa2-ae5c-4f35532f2baf",
                                             width = 2304.0, height = 1728 })
    assert.are.equal("f71dc58d-1961-4aa2-ae5c-4f35532f2baf", uuid)
    assert.truthy(json:find('"width":2304[,}]'))
  end)

  it("prepare names the request (its resume key) only when asked", function()
    local r = h.req {}
    local _, _, _, none = core.prepare(r, true)
    assert.is_nil(none)
    local _, _, _, key = core.prepare(r, true, true)
    assert.truthy(key:match("^%x+$"))
    -- the same request under another taskUUID has the same key
    local _, _, _, again = core.prepare(r, false, true)
    assert.are.equal(key, again)
  end)

  it("prepare does not change the caller's table", function()
    local r = h.req { referenceImages = { "https://example.com/a.jpg" } }
    core.prepare(r)
    assert.is_nil(r.taskUUID)
    assert.is_nil(r.inputs)
    assert.is_table(r.referenceImages)
  end)

  it("generates distinct v4 UUIDs", function()
    local seen = {}
    for _ = 1, 1000 do
      local u = core.uuid()
      assert.truthy(u:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"), u)
      assert.is_nil(seen[u])
      seen[u] = true
    end
  end)

  it("json_string escapes quotes, backslashes and control characters", function()
    assert.are.equal('"a\\"b\\\\c\\n\\u0001"', core.json_string('a"b\\c\n\1'))
  end)

  it("the four reference requests prepare to the documented wire shape", function()
    local examples = dofile("examples/reference_requests.lua")
    assert.are.equal(4, #examples)
    for _, ex in ipairs(examples) do
      local json, uuid = core.prepare(ex.request)
      assert.is_string(json, ex.title)
      local t = h.json.decode(json)
      assert.are.equal(ex.request.taskUUID, uuid)
      assert.are.equal(ex.request.positivePrompt, t.positivePrompt)
      assert.are.equal(ex.request.width, t.width)
      if ex.request.referenceImages then
        assert.are.same(ex.request.referenceImages, t.inputs.referenceImages)
        assert.is_nil(t.referenceImages)
      end
    end
  end)

  it("the client error codes come from the C list", function()
    for _, code in ipairs { "invalid", "missing_key", "network", "timeout", "http",
                            "bad_response", "io", "cancelled", "budget", "callback",
                            "locked" } do
      assert.is_not_nil(seedream.codes[code], code)
    end
    assert.is_true(seedream.codes.network)
    assert.is_false(seedream.codes.invalid)
  end)
end)

describe("the C boundary", function()
  it("raises for NaN times, NUL bytes in C strings and options of the wrong kind", function()
    assert.has_error(function() core.sleep(0 / 0) end)
    assert.has_error(function() core.poll({}, 0 / 0) end)
    assert.has_error(function() core.write_file(h.tmpname() .. "\0.png", "data") end)
    assert.has_error(function() core.sniff("/etc/hostname\0/x") end)
    assert.has_error(function() core.lock("/tmp/x\0y") end)
    assert.has_error(function() core.http { user_agent = {} } end)
    assert.has_error(function() core.http { ca_file = 42 } end)
    assert.has_error(function() core.http { retries = 2 ^ 32 + 2 } end)
    assert.has_error(function() core.write_base64(h.tmpname(), "AAAA", 1, "gif") end)
    local t = assert(core.http {})
    assert.has_error(function() t:perform(0 / 0) end)
    assert.has_error(function() t:get("http://127.0.0.1:9/x\0y") end)
    assert.has_error(function() t:post("http://127.0.0.1:9/v1", "key\0more", "{}") end)
    t:close()
  end)

  it("refuses a field name with a NUL byte instead of cutting it short", function()
    local ok, err = core.check { ["positivePrompt\0junk"] = "b", width = 2048, height = 2048 }
    assert.is_nil(ok)
    assert.truthy(err.message:find("NUL", 1, true))
  end)

  it("core.poll watches every entry, past 256", function()
    local fds = {}
    for i = 1, 299 do fds[i] = { fd = -1 } end        -- ignored by poll(2)
    fds[300] = { fd = 1, write = true }               -- stdout: writable now
    assert.are.equal(1, core.poll(fds, 2))
  end)

  it("a very short timeout stays a timeout, not the 300 s default", function()
    local emu = h.emulator("--latency-ms 2000")
    local t = assert(core.http {})
    local body = '[{"taskType":"imageInference","taskUUID":"' .. core.uuid() ..
                 '","model":"bytedance:seedream@5.0-lite","positivePrompt":"x","width":2048,"height":2048}]'
    assert(t:post(emu.url, h.KEY, body, 0.0004, 0))
    local done, t0 = nil, core.now()
    repeat t:perform(0.05); done = t:next() until done or core.now() - t0 > 5
    assert.truthy(done)
    assert.are.equal("timeout", done.code)
    t:close()
    emu:stop()
  end)
end)

describe("the transport handle", function()
  it("closes idempotently and refuses use after close", function()
    local t = assert(core.http {})
    t:close()
    t:close()
    assert.has_error(function() t:perform(0) end, "seedream: attempt to use a closed client transport")
    assert.truthy(tostring(t):find("closed"))
  end)

  it("fds() lists every socket, past 256, so that an external loop misses no answer", function()
    local emu = h.emulator("--latency-ms 1500")
    local t = assert(core.http { max_connections = 0 })
    local body = '[{"taskType":"imageInference","taskUUID":"%s","model":"bytedance:seedream@5.0-lite",' ..
                 '"positivePrompt":"x","width":2048,"height":2048}]'
    for _ = 1, 300 do assert(t:post(emu.url, h.KEY, body:format(core.uuid()))) end
    local most, t0 = 0, core.now()
    while most < 300 and core.now() - t0 < 5 do
      t:perform(0.02)
      local n = #t:fds()
      if n > most then most = n end
    end
    assert.are.equal(300, most)
    t:close()
    emu:stop()
  end)

  it("closes on scope exit with <close>", function()
    local t
    do
      local x <close> = assert(core.http {})
      t = x
    end
    assert.has_error(function() t:stats() end)
  end)

  it("is collected without leaks while a transfer is in flight", function()
    for _ = 1, 20 do
      local t = assert(core.http {})
      t:post("http://127.0.0.1:9/v1", "k", "[]", 0.5, 0)
      t:perform(0)
    end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("the client", function()
  it("a missing API key is a clear error at the first call, not at creation", function()
    local c = assert(seedream.client { api_key = "", url = "http://127.0.0.1:9/v1" })
    local task, err = c:submit(h.req())
    assert.is_nil(task)
    assert.are.equal("missing_key", err.code)
    assert.truthy(err.message:find("RUNWARE_API_KEY", 1, true))
    c:close()
  end)

  it("a dry run needs no key and plans placeholder images", function()
    local c = assert(seedream.client { api_key = "", url = "http://127.0.0.1:9/v1", dry_run = true })
    local t = assert(c:submit(h.req { numberResults = 3 }))
    local images = assert(t:wait())
    assert.are.equal(3, #images)
    assert.is_true(images[1].planned)
    assert.are.equal(0, c:stats().http_started)
    c:close()
  end)

  it("validation errors come back before anything is sent", function()
    local c = assert(seedream.client { api_key = "k", url = "http://127.0.0.1:9/v1" })
    local task, err = c:submit(h.req { width = 10 })
    assert.is_nil(task)
    assert.are.equal("invalid", err.code)
    assert.are.equal(0, c:stats().http_started)
    c:close()
  end)

  it("never shows its API key, nor do its tasks", function()
    local c = assert(seedream.client { api_key = "sk-secret-123", url = "http://127.0.0.1:9/v1",
                                       retries = 0 })
    assert.is_nil(tostring(c):find("sk-secret-123", 1, true))
    local t = assert(c:submit(h.req()))
    -- every string reachable from the client and the task, except through the C transport
    local seen = {}
    local function scan(v, path)
      if type(v) == "string" then
        assert.is_nil(v:find("sk-secret-123", 1, true), "key found at " .. path)
      elseif type(v) == "table" and not seen[v] then
        seen[v] = true
        for k, x in pairs(v) do scan(k, path .. ".<key>"); scan(x, path .. "." .. tostring(k)) end
      end
    end
    scan(c, "client")
    scan(t, "task")
    local _, err = t:wait()
    scan(err, "err")
    assert.is_nil(tostring(err):find("sk-secret-123", 1, true))
    c:close()
  end)

  it("sends its key only over https, or plain http to this machine", function()
    for _, url in ipairs { "http://example.com/v1", "ftp://127.0.0.1/v1", "api.runware.ai/v1" } do
      local c, err = seedream.client { api_key = "k", url = url }
      assert.is_nil(c, url)
      assert.are.equal("invalid", err.code)
      assert.are.equal("url", err.field)
    end
    for _, url in ipairs { "https://api.runware.ai/v1", "http://127.0.0.1:8080/v1",
                           "http://localhost/v1", "http://[::1]:9/v1" } do
      local c = assert(seedream.client { api_key = "k", url = url })
      c:close()
    end
  end)

  it("raises for options of the wrong type", function()
    assert.has_error(function() seedream.client { timeout = "soon" } end)
    assert.has_error(function() seedream.client { delivery = "carrier pigeon" } end)
  end)

  it("works with <close> and refuses use after close", function()
    local c2
    do
      local c <close> = assert(seedream.client { api_key = "k", url = "http://127.0.0.1:9/v1" })
      c2 = c
    end
    assert.has_error(function() c2:submit { positivePrompt = "x", width = 2048, height = 2048 } end)
    assert.are.equal(0, c2:step(0))          -- a loop that goes on stepping is not broken
  end)

  it("has a version", function()
    assert.truthy(seedream.VERSION:match("^%d+%.%d+%.%d+$"))
  end)
end)
