-- The examples run, against a private emulator, and say what they should.
local h = require "helper"

local function run(emu, script, args)
  local cmd = ("RUNWARE_API_URL=%s RUNWARE_API_KEY=%s lua5.4 examples/%s %s 2>&1")
    :format(emu.url, h.KEY, script, args or "")
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok and code == 0, out
end

describe("examples", function()
  local emu, dir
  setup(function()
    emu = h.emulator("--latency-ms 20")
    dir = h.tmpdir()
  end)
  teardown(function()
    emu:stop()
    h.rmdir(dir)
  end)

  it("seed_requests saves the four reference requests at their sizes", function()
    local ok, out = run(emu, "seed_requests.lua", dir .. "/seed")
    assert.is_true(ok, out)
    for _, size in ipairs { "2304x1728", "3456x2592", "4096x2304" } do
      assert.truthy(out:find(size .. " jpg", 1, true), out)
    end
    assert.are.equal(4, #h.ls(dir .. "/seed"))
  end)

  it("coroutines runs its pipelines concurrently and saves each", function()
    local ok, out = run(emu, "coroutines.lua", dir .. "/coro")
    assert.is_true(ok, out)
    assert.are.same({ "city.jpg", "forest.jpg", "harbour.jpg" }, h.ls(dir .. "/coro"))
  end)

  it("game_loop keeps frames going and reports its frame times", function()
    local ok, out = run(emu, "game_loop.lua", "1")
    assert.is_true(ok, out)
    local frames, landed = out:match("(%d+) frames, (%d+) images landed")
    assert.truthy(tonumber(frames) >= 50, out)
    assert.truthy(tonumber(landed) > 0, out)
    assert.truthy(out:find("inside step(0) per frame", 1, true))
  end)

  it("luv_loop gets its images through luv", function()
    local ok, out = run(emu, "luv_loop.lua", "4")
    assert.is_true(ok, out)
    assert.truthy(out:find("4 images through luv", 1, true), out)
  end)
end)
