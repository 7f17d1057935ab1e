-- Error paths: each becomes `nil, err` with a code, HTTP status and a clear message.
local seedream = require "seedream"
local core = require "seedream.core"
local protocol = require "seedream.protocol"
local h = require "helper"

describe("errors from the server", function()
  local emu
  setup(function() emu = h.emulator() end)
  teardown(function() emu:stop() end)
  before_each(function() h.request("DELETE", emu.base .. "/faults") end)

  it("a wrong key is invalidApiKey with HTTP 401, and the key is never echoed", function()
    local c = emu:client { api_key = "wrong-key-abc" }
    local images, err = c:generate(h.req())
    assert.is_nil(images)
    assert.are.equal("invalidApiKey", err.code)
    assert.are.equal(401, err.status)
    assert.is_false(err.retryable)
    assert.is_nil(tostring(err):find("wrong-key-abc", 1, true))
    c:close()
  end)

  -- the request left and the server made the task, but no readable word of it came back
  for _, case in ipairs {
    { "a connection broken after the request left", { kind = "drop_after_processing" } },
    { "an empty 4xx (the API's answer cut short, maybe conflictTaskUUID)", { kind = "empty", status = 400 } },
  } do
    it(case[1] .. ": the task is polled, and charged once", function()
      local c = emu:client { retries = 0 }
      emu:fault(case[2])
      local before = emu:stats().tasks_charged
      local images = assert(c:generate(h.req { positivePrompt = case[1] }))
      assert.are.equal(1, #images)
      assert.are.equal(1, emu:stats().tasks_charged - before)
      c:close()
    end)
  end

  it("a large body (sent once, handed over) is made anew when the server never got it", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(core.base64_decode(h.PNG16), ("\0"):rep(90000))      -- a reference over 64 KB
    f:close()
    local c = emu:client { retries = 0 }
    emu:fault { kind = "drop" }                                   -- lost before processing
    local t = assert(c:submit(h.req { positivePrompt = "big body", referenceImages = { seedream.file(path) } }))
    assert.is_true(type(t.body) ~= "string")
    local images = assert(t:wait(20))
    assert.are.equal(1, #images)
    assert.are.equal(0, c:stats().active)
    c:close()
    os.remove(path)
  end)

  it("a server that is down is a network error after the retries", function()
    local c = assert(seedream.client { api_key = "k", url = "http://127.0.0.1:9/v1", retries = 1,
                                       backoff = 0.01, budget = 1 })
    local images, err = c:generate(h.req())
    assert.is_nil(images)
    assert.are.equal("network", err.code)
    assert.is_true(err.retryable)
    assert.is_false(err.sent)                    -- refused: the request never left
    assert.is_false(require("seedream.error").outcome_unknown(err))
    assert.are.equal(0, c:cost().estimated)      -- so nothing may have been charged
    assert.are.equal(2, c:stats().http_retries + 1)
    c:close()
  end)

  -- An accepted (2xx) answer that cannot be read: the task may be made and charged, so it
  -- is polled under its taskUUID, never failed and paid again under a new one.
  for _, kind in ipairs { "malformed", "empty", "truncate" } do
    for _, delivery in ipairs { "sync", "async" } do
      it(("a %s 2xx answer to a %s task: the task is polled, and charged once"):format(kind, delivery),
         function()
        local c = emu:client { poll = { first = 0.05, min = 0.05 } }
        local before = emu:stats()
        emu:fault { kind = kind }
        local task = assert(c:submit(h.req { deliveryMethod = delivery }))
        local images = assert(task:wait())
        assert.are.equal(task.taskUUID, images[1].taskUUID)
        local after = emu:stats()
        assert.are.equal(1, after.tasks_charged - before.tasks_charged)
        assert.is_true(after.poll_requests > before.poll_requests)
        c:close()
      end)
    end
  end

  it("a poll answer that cannot be read is polled again, not a failure", function()
    local c = emu:client { delivery = "async", poll = { first = 0.05, min = 0.05 } }
    local task = assert(c:submit(h.req()))
    while task.status ~= "processing" do c:step(0.01) end
    emu:fault { kind = "malformed" }                 -- the next request: the poll
    assert(task:wait())
    c:close()
  end)

  it("a 5xx is retried with the same taskUUID and then succeeds", function()
    local c = emu:client { retries = 3 }
    local before = emu:stats()
    emu:fault { kind = "status", status = 503, count = 2 }
    local images = assert(c:generate(h.req()))
    local after = emu:stats()
    assert.are.equal(1, #images)
    assert.are.equal(3, after.requests - before.requests)
    assert.are.equal(1, after.tasks_charged - before.tasks_charged)
    local log = emu:requests(3)
    assert.are.equal(log[1].body[1].taskUUID, log[3].body[1].taskUUID)
    c:close()
  end)

  it("a 5xx that persists is reported with its status", function()
    local c = emu:client { retries = 1 }
    emu:fault { kind = "status", status = 500, count = 5 }
    local _, err = c:generate(h.req())
    assert.are.equal(500, err.status)
    assert.is_true(err.retryable)
    c:close()
  end)

  it("4xx answers keep the API's code and status, and are not retried", function()
    local c = emu:client { retries = 3 }
    for status, code in pairs { [400] = "invalidParameter", [402] = "insufficientCredit",
                                [403] = "notAllowed", [404] = "notFound" } do
      local before = emu:stats().requests
      emu:fault { kind = "status", status = status, code = code }
      local images, err = c:generate(h.req())
      assert.is_nil(images)
      assert.are.equal(code, err.code)
      assert.are.equal(status, err.status)
      assert.is_false(err.retryable)
      assert.are.equal(1, emu:stats().requests - before)      -- sent once, no retry
    end
    c:close()
  end)

  it("a validation error of the server names the parameter", function()
    -- the client would refuse this itself, so send it raw through the transport
    local core = require "seedream.core"
    local t = assert(core.http {})
    t:post(emu.url, h.KEY, '[{"taskType":"imageInference","taskUUID":"' .. core.uuid() ..
           '","model":"bytedance:seedream@5.0-lite","positivePrompt":"x","width":10,"height":10}]')
    local done
    repeat t:perform(0.1); done = t:next() until done
    t:close()
    local r = protocol.parse(done)
    local _, err = next(r.errors)
    assert.are.equal(400, err.status)
    assert.truthy(err.field == "width" or err.field == "height")
  end)

  it("a reference the server does not know is named by its place in the Lua list", function()
    local c = emu:client()
    local known = assert(c:generate(h.req()))[1]
    local images, err = c:generate(h.req { inputs = { referenceImages = {
      known.imageUUID, "0c2f5f1e-8d3a-4c6b-9a57-3e1f2d4b5a69" } } })
    assert.is_nil(images)
    assert.are.equal("inputs.referenceImages[2]", err.field)
    assert.is_nil(err.message:find("[1]", 1, true))  -- the server's text says it the same way
    c:close()
  end)
end)

describe("protocol.parse", function()
  local function parse(status, body) return protocol.parse { code = "ok", status = status, body = body } end

  it("splits data and errors of one answer by task", function()
    local r = parse(200, [[{"data":[{"taskType":"imageInference","taskUUID":"a","imageUUID":"i1",
      "imageURL":"http://x/i1.jpg"}],"errors":[{"code":"contentModerated","message":"no",
      "taskUUID":"b","parameter":"positivePrompt"}]}]])
    assert.are.equal(1, #r.items.a)
    assert.are.equal("contentModerated", r.errors.b.code)
    assert.are.equal("positivePrompt", r.errors.b.field)
    assert.is_nil(r.common)
  end)

  it("counts the index in a server's parameter path from 1, like the client's own paths", function()
    local r = parse(400, [[{"errors":[{"code":"invalidReferenceImage","message":"not found",
      "taskUUID":"a","parameter":"inputs.referenceImages[1]"}]}]])
    assert.are.equal("inputs.referenceImages[2]", r.errors.a.field)
  end)

  it("takes error items of any shape without raising", function()
    local r = parse(200, [[{"data":[{"taskUUID":"a","status":"error","error":5},
      {"taskUUID":"b","imageUUID":"i1","imageURL":{"x":1}},
      {"taskUUID":"c","imageUUID":"i2","imageURL":"http://x/i2.jpg"}],
      "errors":[true, {"taskUUID":"d","error":"plain words"}]}]])
    assert.are.equal("5", r.errors.a.message)
    assert.are.equal("plain words", r.errors.d.message)
    assert.is_false(protocol.is_image(r.items.b[1]))     -- an imageURL that is not a string
    assert.is_true(protocol.is_image(r.items.c[1]))
  end)

  it("never shows the API key a server echoes, nor its control characters", function()
    local key = "sk-live-4f8a2b"
    local r = protocol.parse({ code = "ok", status = 401, body = '{"errors":[{"code":"invalidApiKey",' ..
      '"message":"Invalid API key: Bearer ' .. key .. '\\u001b]0;owned\\u0007\\u001b[2J"}]}' }, key)
    local err = r.common
    assert.is_nil(err.message:find(key, 1, true))
    assert.truthy(err.message:find("[API key]", 1, true))
    assert.is_nil(err.message:find("%c"))
    r = protocol.parse({ code = "ok", status = 502, body = "<html>bad gateway for " .. key .. "</html>" }, key)
    assert.is_nil(tostring(r.common):find(key, 1, true))
    -- in the code and the parameter too
    r = protocol.parse({ code = "ok", status = 400, body = '{"errors":[{"taskUUID":"u1","code":"'
      .. key .. '","parameter":"x' .. key .. '","message":"m"}]}' }, key)
    assert.is_nil(tostring(r.errors.u1):find(key, 1, true))
    assert.is_nil(r.errors.u1.code:find(key, 1, true))
    assert.is_nil(r.errors.u1.field:find(key, 1, true))
    -- a key across the point where a long page is cut shows no part of itself
    for pad = 100, 120 do
      r = protocol.parse({ code = "ok", status = 400, body = ("x"):rep(pad) .. key .. ("y"):rep(50) }, key)
      assert.is_nil(tostring(r.common):find(key:sub(1, 6), 1, true), "pad " .. pad)
    end
  end)

  it("never lets an answer's item strings carry the API key on (an image URL)", function()
    local key = "sk-live-4f8a2b"
    local r = protocol.parse({ code = "ok", status = 200, body = '{"data":[{"taskType":"imageInference",'
      .. '"taskUUID":"u1","imageUUID":"' .. key .. '","imageURL":"http://other.example/a.jpg?token='
      .. key .. '"}]}' }, key)
    local item = r.items.u1[1]
    assert.are.equal("http://other.example/a.jpg?token=[API key]", item.imageURL)
    assert.is_nil(item.imageUUID:find(key, 1, true))
  end)

  it("takes the singular error form", function()
    local r = parse(403, [[{"error":{"code":"notAllowed","message":"nope"}}]])
    assert.are.equal("notAllowed", r.common.code)
    assert.are.equal(403, r.common.status)
  end)

  it("reports a non-JSON error page as http with a short snippet", function()
    local r = parse(502, "<html>" .. ("x"):rep(500) .. "</html>")
    assert.are.equal("http", r.common.code)
    assert.are.equal(502, r.common.status)
    assert.truthy(#r.common.message < 200)
  end)

  it("reports an answer without data or errors", function()
    assert.are.equal("bad_response", parse(200, "{}").common.code)
    assert.are.equal("bad_response", parse(200, "[1,2]").common.code)
  end)

  it("passes unknown API codes through unchanged", function()
    local r = parse(429, [[{"errors":[{"code":"someFutureCode","message":"m"}]}]])
    assert.are.equal("someFutureCode", r.common.code)
    assert.is_true(r.common.retryable)
  end)

  it("a failed getResponse item is an error of its task", function()
    local r = parse(200, [[{"data":[{"taskUUID":"t","status":"error","error":{"code":"x","message":"y"}}]}]])
    assert.are.equal("x", r.errors.t.code)
  end)
end)
