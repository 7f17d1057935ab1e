-- core.answer: the C decoder every API answer goes through. Checked against lua-cjson
-- (the reference decoder) on hand-picked and generated documents, then for the sorting by
-- task that it does while reading.
local core = require "seedream.core"
local cjson = require("cjson").new()

-- cjson's value with object members that are null removed (core.answer leaves them out).
local function without_null_members(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if not (type(k) == "string" and x == cjson.null) then out[k] = without_null_members(x) end
  end
  return out
end

-- What core.answer read for a value: wrap it as the only data item's "v" member.
local function read_back(json)
  local r, why = core.answer('{"data":[{"taskUUID":"t","v":' .. json .. '}]}')
  if not r then return nil, why end
  return r.items.t[1].v
end

-- Deep equality; numbers by value (Debian's lua-cjson gives every number as a float,
-- core.answer keeps integers as integers, checked on their own below).
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

describe("core.answer decodes JSON like lua-cjson", function()
  local cases = {
    '0', '-0', '1', '-17', '1.5', '-2.25e3', '1E-7', '6.02e+23',
    '123456789012345678901234567890', '"plain"', '""', '"a\\"b\\\\c\\/d"',
    '"\\b\\f\\n\\r\\t"', '"\\u00e9\\u4e2d\\u0041"', '"\\ud83d\\ude00 smile"',
    '"caf\xc3\xa9 \xe2\x82\xac"', 'true', 'false', '[]', '{}', '[1,[2,[3,[4]]]]',
    '{"a":{"b":{"c":[true,false,"x"]}}}', '[null,1,null]', '{"keep":1,"gone":null}',
    ' [ 1 , 2 ] ', '{"k":"v","n":[{"x":-0.5}]}',
  }
  for _, json in ipairs(cases) do
    it("reads " .. json, function()
      local got, why = read_back(json)
      assert.is_nil(why)
      assert.is_true(same(without_null_members(cjson.decode(json)), got))
    end)
  end

  it("agrees on 300 generated documents", function()
    math.randomseed(20261125)
    local pieces = { "a", "Z", " ", "\\", "\"", "/", "\n", "\t", "\1", "\xc3\xa9",
                     "\xf0\x9f\x98\x80", "{", "]" }
    local function gen(depth)
      local kind = math.random(depth > 3 and 4 or 6)
      if kind == 1 then return math.random(-1e6, 1e6) end
      if kind == 2 then return math.random() * 10 ^ math.random(-5, 8) end
      if kind == 3 then
        local s = {}
        for i = 1, math.random(0, 12) do s[i] = pieces[math.random(#pieces)] end
        return table.concat(s)
      end
      if kind == 4 then return math.random(2) == 1 end
      if kind == 5 then
        local t = {}
        for i = 1, math.random(0, 4) do t[i] = gen(depth + 1) end
        return t
      end
      local t = {}
      for i = 1, math.random(1, 4) do t["k" .. i .. pieces[math.random(#pieces)]] = gen(depth + 1) end
      return t
    end
    for _ = 1, 300 do
      local json = cjson.encode({ gen(0) })
      local got, why = read_back(json)
      assert.is_nil(why)
      assert.is_true(same(cjson.decode(json), got), json)
    end
  end)

  local bad = {
    '', '{', '[1,]', '{"a":1,}', '{"a" 1}', '{a:1}', '01', '1.', '.5', '-', '1e', '+1',
    '"unterminated', '"bad \\x escape"', '"\\u12"', '"\\ud800"', '"\\udc00x"',
    '"tab\there"', 'nul', 'tru', '[1] [2]', '{"a":1} x', '\0',
  }
  for _, json in ipairs(bad) do
    -- RFC 8259's grammar (cjson lets some of these through: 01, 1., +1, a raw tab)
    it(("refuses %q with a position"):format(json), function()
      local r, why = core.answer(json)
      assert.is_nil(r)
      assert.truthy(why:match(" at byte %d+$"), why)
    end)
  end

  it("refuses nesting deeper than 64 levels", function()
    local r, why = core.answer(("["):rep(100) .. ("]"):rep(100))
    assert.is_nil(r)
    assert.truthy(why:find("nesting too deep", 1, true))
    assert.truthy(core.answer(("["):rep(60) .. ("]"):rep(60)))
  end)

  it("keeps integers as integers and the rest as floats", function()
    assert.are.equal("integer", math.type(read_back("869685396")))
    assert.are.equal("integer", math.type(read_back("-3")))
    assert.are.equal(9007199254740993, read_back("9007199254740993"))   -- exact, not 2^53
    assert.are.equal("float", math.type(read_back("0.035")))
    assert.are.equal("float", math.type(read_back("1e3")))
    assert.are.equal("float", math.type(read_back("123456789012345678901234567890")))
  end)

  it("gives JSON null inside arrays as core.null, equal to cjson.null", function()
    assert.are.equal(cjson.null, core.null)
    local v = read_back("[null]")
    assert.are.equal(core.null, v[1])
  end)
end)

describe("core.answer sorts an answer by task", function()
  it("lists data items under their taskUUID, in order", function()
    local r = assert(core.answer([[{"data":[
      {"taskType":"imageInference","taskUUID":"a","imageUUID":"1","imageURL":"u1"},
      {"taskType":"imageInference","taskUUID":"b","imageUUID":"2","imageURL":"u2"},
      {"taskType":"imageInference","taskUUID":"a","imageUUID":"3","imageURL":"u3","seed":7}]}]]))
    assert.are.equal(2, #r.items.a)
    assert.are.equal("1", r.items.a[1].imageUUID)
    assert.are.equal(7, r.items.a[2].seed)
    assert.are.equal(math.type(7), math.type(r.items.a[2].seed))
    assert.are.equal(1, #r.items.b)
    assert.is_true(r.has_data)
    assert.is_false(r.has_errors)
    assert.is_nil(r.common)
  end)

  it("drops data items that are not objects with a string taskUUID", function()
    local r = assert(core.answer('{"data":[1,"x",{"imageUUID":"i"},{"taskUUID":5},{"taskUUID":"ok"}]}'))
    local n = 0
    for _ in pairs(r.items) do n = n + 1 end
    assert.are.equal(1, n)
    assert.are.equal(1, #r.items.ok)
  end)

  it("files errors by task, the first one per task, and task-less ones as common", function()
    local r = assert(core.answer([[{"errors":[{"code":"c1","taskUUID":"a"},
      {"code":"c2","taskUUID":"a"},{"code":"whole"},{"code":"whole2"}]}]]))
    assert.are.equal("c1", r.errors.a.code)
    assert.are.equal(2, #r.common)
    assert.are.equal("whole", r.common[1].code)
    assert.is_true(r.has_errors)
    assert.is_false(r.has_data)
  end)

  it("a failed data item is its task's error unless the errors array names the task", function()
    for _, json in ipairs {
      [[{"data":[{"taskUUID":"a","status":"error","error":{"code":"late"}},
                 {"taskUUID":"b","status":"error","error":{"code":"only"}}],
         "errors":[{"code":"listed","taskUUID":"a"}]}]],
      [[{"errors":[{"code":"listed","taskUUID":"a"}],
         "data":[{"taskUUID":"a","status":"error","error":{"code":"late"}},
                 {"taskUUID":"b","status":"error","error":{"code":"only"}}]}]],
    } do
      local r = assert(core.answer(json))
      assert.are.equal("listed", r.errors.a.code)
      assert.are.equal("only", r.errors.b.error.code)
      assert.is_nil(r.items.a)
    end
  end)

  it("takes the singular error object", function()
    local r = assert(core.answer('{"error":{"code":"notAllowed","message":"no"}}'))
    assert.are.equal("notAllowed", r.common[1].code)
    assert.is_true(r.has_errors)
  end)

  it("files the singular error under the taskUUID beside it, before or after it", function()
    for _, json in ipairs {
      '{"error":{"code":"conflictTaskUUID","message":"m"},"taskUUID":"u1","taskType":"imageInference"}',
      '{"taskUUID":"u1","error":{"code":"conflictTaskUUID","message":"m"}}',
    } do
      local r = assert(core.answer(json))
      assert.are.equal("conflictTaskUUID", r.errors.u1.code, json)
      assert.are.equal("u1", r.errors.u1.taskUUID)
      assert.is_nil(r.common)
    end
    -- the error's own taskUUID wins over the one beside it
    local r = assert(core.answer('{"taskUUID":"u1","error":{"code":"x","taskUUID":"u2"}}'))
    assert.are.equal("x", r.errors.u2.code)
    assert.is_nil(r.errors.u1)
    -- a top-level taskUUID that is not a string names nothing
    r = assert(core.answer('{"taskUUID":5,"error":{"code":"x"}}'))
    assert.are.equal("x", r.common[1].code)
  end)

  it("takes an error's task from its context when it names none itself", function()
    local r = assert(core.answer('{"errors":[{"code":"conflictTaskUUID","context":{"taskUUID":"u3"}},' ..
                                 '{"code":"y","context":{"other":1}}]}'))
    assert.are.equal("conflictTaskUUID", r.errors.u3.code)
    assert.are.equal("y", r.common[1].code)
  end)

  it("reads a top level that is not an object as an empty answer", function()
    local r = assert(core.answer("[1,2]"))
    assert.is_nil(next(r.items))
    assert.is_nil(next(r.errors))
    assert.is_false(r.has_data)
    assert.is_false(r.has_errors)
  end)

  it("skips other top-level members, whatever their shape", function()
    local r = assert(core.answer('{"meta":{"x":[1,{"y":null}]},"data":[{"taskUUID":"a"}],"z":null}'))
    assert.are.equal(1, #r.items.a)
  end)

  it("keeps only the named members of data items when given a set", function()
    local keep = { taskUUID = true, imageUUID = true, status = true }
    local r = assert(core.answer([[{"data":[{"taskUUID":"a","imageUUID":"i","extra":{"deep":[1,2]},
      "status":"success","other":"x"},{"taskUUID":"b","status":"error","error":{"code":"e"}}],
      "errors":[{"code":"kept whole","taskUUID":"c","parameter":"width"}]}]], keep))
    assert.are.same({ taskUUID = "a", imageUUID = "i", status = "success" }, r.items.a[1])
    -- failed items are filed by their status before "error" is dropped; errors stay whole
    assert.is_nil(r.errors.b.error)
    assert.are.equal("width", r.errors.c.parameter)
  end)

  it("still checks the syntax of members it drops", function()
    local r, why = core.answer('{"data":[{"taskUUID":"a","x":[1,}]}', { taskUUID = true })
    assert.is_nil(r)
    assert.truthy(why:find("at byte", 1, true))
  end)

  it("leaves null members out of items", function()
    local r = assert(core.answer('{"data":[{"taskUUID":"a","imageUUID":"i","NSFWContent":null}]}'))
    assert.is_nil(r.items.a[1].NSFWContent)
    assert.are.equal("i", r.items.a[1].imageUUID)
  end)
end)
