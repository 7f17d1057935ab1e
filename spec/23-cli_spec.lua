-- The `seedream` command (run as `lua5.4 bin/seedream ...`, as from a checkout): help,
-- usage errors, validate, generate against an emulator (plain and JSON output, dry run,
-- budget), run, emulator; and the progress reporter's terminal mode.
local json = require "seedream.json"
local h = require "helper"
local tmpdir, read, write = h.tmpname, h.read, h.write

local ROOT = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/.."
local BIN = ROOT .. "/bin/seedream"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs bin/seedream with args (a list) and env (a table); returns code, stdout, stderr.
local function seedream(args, env)
  local out, err = os.tmpname(), os.tmpname()
  local parts = { "env", "-u", "RUNWARE_API_KEY", "-u", "RUNWARE_API_URL" }
  for k, v in pairs(env or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
  parts[#parts + 1] = "lua5.4 " .. q(BIN)
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local _, _, code = os.execute(table.concat(parts, " ") .. " >" .. out .. " 2>" .. err ..
                                " </dev/null")
  local o, e = read(out), read(err)
  os.remove(out)
  os.remove(err)
  return code, o, e
end

describe("seedream command", function()
  local emu, env
  setup(function()
    emu = h.emulator("--latency-ms 10")
    env = { RUNWARE_API_URL = emu.url, RUNWARE_API_KEY = h.KEY }
  end)
  teardown(function() emu:stop() end)

  it("prints help for itself and every command, exit 0", function()
    for _, args in ipairs { { "--help" }, { "help" }, { "generate", "--help" },
                            { "run", "--help" }, { "validate", "--help" },
                            { "emulator", "--help" }, { "help", "generate" } } do
      local code, out = seedream(args)
      assert.are.equal(0, code, table.concat(args, " "))
      assert.matches("usage: seedream", out)
    end
    local _, out = seedream { "--help" }
    assert.matches("exit codes", out)
  end)

  it("exits 2 on usage errors", function()
    for _, args in ipairs { {}, { "bogus" }, { "generate" }, { "generate", "a", "b" },
                            { "generate", "x", "--size", "big" }, { "generate", "x", "--nope" },
                            { "generate", "x", "--count" }, { "generate", "x", "--count", "many" },
                            { "validate" }, { "run" }, { "help", "bogus" } } do
      local code, _, err = seedream(args)
      assert.are.equal(2, code, table.concat(args, " "))
      assert.is_truthy(#err > 0)
    end
    -- a reference that cannot be read is an I/O failure, not a usage error
    local code, _, err = seedream { "generate", "x", "--ref", "/no/such/file.png" }
    assert.are.equal(1, code)
    assert.matches("/no/such/file.png: cannot read it", err)
  end)

  it("validate - reads the request from standard input", function()
    local f = os.tmpname()
    write(f, '{"positivePrompt":"a cat","width":2048,"heigth":2048}')
    local p = assert(io.popen("lua5.4 " .. q(BIN) .. " validate - < " .. q(f)))
    local out = p:read("a")
    local _, _, code = p:close()
    assert.are.equal(1, code)
    assert.matches("^%-: .*did you mean 'height'", out)
    os.remove(f)
  end)

  it("validate prints OK for a valid request and the field path of an invalid one", function()
    local f = os.tmpname()
    write(f, '{"positivePrompt":"a cat","width":2048,"height":2048,' ..
             '"providerSettings":{"bytedance":{"maxSequentialImages":3}}}')
    local code, out = seedream { "validate", f }
    assert.are.equal(0, code)
    assert.are.equal("OK\n", out)
    write(f, '{"positivePrompt":"a cat","width":2048,"height":2048,' ..
             '"inputs":{"referenceImages":["https://a/1.png","not a reference"]}}')
    code, out = seedream { "validate", f }
    assert.are.equal(1, code)
    assert.matches("inputs%.referenceImages%[2%]", out)
    write(f, '{"positivePrompt":"a cat","width":2048,"heigth":2048}')
    code, out = seedream { "validate", f }
    assert.are.equal(1, code)
    assert.matches("did you mean 'height'", out)
    write(f, '[{"positivePrompt":"ok","width":2048,"height":2048},{"positivePrompt":"x"}]')
    code, out = seedream { "validate", f }
    assert.are.equal(1, code)
    assert.matches("^[^\n]*%[2%]", out)
    write(f, " [ ] ")
    code, out = seedream { "validate", f }
    assert.are.equal(1, code)
    assert.matches("an empty list", out)
    write(f, "{not json")
    assert.are.equal(1, (seedream { "validate", f }))
    os.remove(f)
    assert.are.equal(1, (seedream { "validate", "/no/such/request.json" }))
  end)

  it("generate writes the images into --out with plain log lines when not a TTY", function()
    local dir = tmpdir()
    local before = emu:stats()
    local code, out, err = seedream({ "generate", "a red kite", "--series", "2", "--size",
                                      "2304x1728", "--format", "png", "--out", dir }, env)
    assert.are.equal(0, code, err)
    assert.are.equal(1, emu:stats().inference_tasks - before.inference_tasks)
    assert.is_nil(out:find("\r", 1, true))
    assert.is_nil(out:find("\27", 1, true))
    assert.matches("submitted %x+", out)
    assert.matches("saved " .. dir:gsub("%p", "%%%0"), out)
    local m = json.decode(read(dir .. "/manifest.json"))
    assert.are.equal(2, #m.images)
    for _, img in ipairs(m.images) do
      assert.are.equal("png", (require("seedream").image_info(dir .. "/" .. img.file)))
      assert.are.equal(2304, img.width)
      assert.are.equal(0.035, img.cost)
    end
    assert.is_nil(out:find(h.KEY, 1, true))
    assert.is_nil(err:find(h.KEY, 1, true))
    -- the same command again resumes: nothing sent
    local n = emu:stats().requests
    code = seedream({ "generate", "a red kite", "--series", "2", "--size", "2304x1728",
                      "--format", "png", "--out", dir }, env)
    assert.are.equal(0, code)
    assert.are.equal(n, emu:stats().requests)
    os.execute("rm -rf " .. q(dir))
  end)

  it("--json prints one JSON object per line, the last a summary", function()
    local dir = tmpdir()
    local code, out = seedream({ "generate", "json please", "--count", "2", "--json",
                                 "--out", dir }, env)
    assert.are.equal(0, code)
    local events = {}
    for line in out:gmatch("[^\n]+") do
      local ev = assert(json.decode(line), "not JSON: " .. line)
      events[#events + 1] = ev
    end
    local last = events[#events]
    assert.are.equal("summary", last.event)
    assert.are.equal(2, #last.files)
    for _, f in ipairs(last.files) do assert.is_truthy(read(f)) end
    local kinds = {}
    for _, ev in ipairs(events) do kinds[ev.event] = true end
    assert.is_true(kinds.submitted and kinds.image and kinds.finished and kinds.saved)
    -- a small run's running totals are exact: the finished line counts its own task
    for _, ev in ipairs(events) do
      if ev.event == "finished" then
        assert.are.equal(1, ev.tasks_done)
        assert.are.equal(2, ev.images)
      end
    end
    os.execute("rm -rf " .. q(dir))
    -- an invalid request is an event line as well (and the message on stderr)
    local err
    code, out, err = seedream({ "generate", "tiny", "--size", "10x10", "--json", "--out", dir }, env)
    assert.are.equal(1, code)
    local ev = assert(json.decode(out))
    assert.are.equal("error", ev.event)              -- shaped like the other error events
    assert.are.equal("invalid", ev.error.code)
    assert.are.equal("width", ev.error.field)
    assert.matches("pixels", err)
  end)

  it("--quiet prints only the saved files", function()
    local dir = tmpdir()
    local code, out = seedream({ "generate", "quiet", "--quiet", "--out", dir }, env)
    assert.are.equal(0, code)
    local path = out:match("^([^\n]+)\n$")
    assert.is_truthy(path and read(path))
    os.execute("rm -rf " .. q(dir))
  end)

  it("--dry-run sends nothing and plans the tasks (no API key needed)", function()
    local dir = tmpdir()
    local before = emu:stats()
    local code, out = seedream({ "generate", "plan me", "--series", "4", "--dry-run",
                                 "--out", dir }, { RUNWARE_API_URL = emu.url })
    assert.are.equal(0, code)
    assert.are.same(before, emu:stats())
    assert.matches("planned", out)
    local m = json.decode(read(dir .. "/manifest.json"))
    assert.are.equal("planned", m.tasks[1].status)
    assert.is_true(math.abs(m.tasks[1].estimate - 0.14) < 1e-9)
    os.execute("rm -rf " .. q(dir))
  end)

  it("exits 3 when --budget refuses, before sending anything", function()
    local dir = tmpdir()
    local before = emu:stats().requests
    local code, _, err = seedream({ "generate", "too dear", "--count", "4", "--budget", "0.1",
                                    "--out", dir }, env)
    assert.are.equal(3, code)
    assert.matches("budget", err)
    assert.are.equal(before, emu:stats().requests)
    os.execute("rm -rf " .. q(dir))
  end)

  it("says a refused API URL once, prefixed once, and exits 1", function()
    local dir = tmpdir()
    local code, _, err = seedream({ "generate", "nowhere", "--out", dir },
                                  { RUNWARE_API_KEY = "k", RUNWARE_API_URL = "http://example.com/v1" })
    assert.are.equal(1, code)
    assert.matches("^seedream: url: the API URL must be https://", err)
    -- a host hidden behind "?@localhost" is still the host libcurl would talk to
    for _, url in ipairs { "http://127.0.0.2:9?@localhost/v1", "http://127.0.0.2:9#@localhost/v1" } do
      local c, e = require("seedream").client { url = url, api_key = "k" }
      assert.is_nil(c, url)
      assert.are.equal("url", e.field)
      assert.matches("got http://127%.0%.0%.2:9 ", tostring(e))
    end
    assert.is_nil(err:find("seedream: seedream:", 1, true))
    os.execute("rm -rf " .. q(dir))
  end)

  it("a bad --timeout or --budget is a usage error, before any directory is made", function()
    for _, args in ipairs { { "--timeout", "-5" }, { "--timeout", "0" }, { "--budget", "-1" } } do
      local dir = tmpdir()
      local code, _, err = seedream({ "generate", "x", "--out", dir, args[1], args[2] }, env)
      assert.are.equal(2, code)
      assert.matches(args[1] .. " must be", err)
      assert.is_nil(read(dir .. "/journal.jsonl"))
      os.execute("rm -rf " .. q(dir))
    end
  end)

  it("validate reads {} as a request without fields, and names a JSON value that is none", function()
    local f = os.tmpname()
    local function check(text)
      local out = assert(io.open(f, "w"))
      out:write(text)
      out:close()
      local code, o = seedream({ "validate", f }, env)
      return code, o
    end
    local code, out = check("{}")
    assert.are.equal(1, code)
    assert.matches("positivePrompt: is required", out)
    assert.is_nil(out:find("seedream: ", 1, true))
    code, out = check('"str"')
    assert.are.equal(1, code)
    assert.matches("not a request: a request is a JSON object, got string", out)
    os.remove(f)
  end)

  it("exits 1 when a paid image could not be saved, and says how to get it", function()
    local expiring = h.emulator("--ttl-unit-ms 1")      -- a ttl of 60 lasts 60 ms
    local dir, script = tmpdir(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[local client = ...
      local t = assert(client:submit { positivePrompt = "gone soon", width = 2048, height = 2048,
                                       ttl = 60, deliveryMethod = "async" })
      assert(t:wait())]])
    f:close()
    local code, _, err = seedream({ "run", "--out", dir, script },
                                  { RUNWARE_API_URL = expiring.url, RUNWARE_API_KEY = h.KEY })
    assert.are.equal(1, code)
    assert.matches("1 of 1 image%(s%) not saved", err)
    os.remove(script)
    os.execute("rm -rf " .. q(dir))
    expiring:stop()
  end)

  it("exits 130 when interrupted (Ctrl-C raises 'interrupted!' in the script)", function()
    local dir, script = tmpdir(), os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[error("interrupted!", 0)]])
    f:close()
    local code, _, err = seedream({ "run", "--out", dir, script }, env)
    assert.are.equal(130, code)
    -- one line that says how to resume, no traceback
    assert.are.equal("seedream run: interrupted; run it again with --out " .. dir
                     .. " to resume (nothing finished is paid twice)\n", err)
    os.remove(script)
    os.execute("rm -rf " .. q(dir))
  end)

  it("exits 130 when Ctrl-C stops a shell command while the run directory is opened", function()
    local bin = h.tmpdir()
    local f = assert(io.open(bin .. "/mkdir", "w"))
    f:write("#!/bin/sh\nkill -INT $$\n")                   -- as a terminal's Ctrl-C would
    f:close()
    os.execute("chmod +x " .. q(bin .. "/mkdir"))
    local e = {}
    for k, v in pairs(env) do e[k] = v end
    e.PATH = bin .. ":" .. os.getenv("PATH")
    local code, _, err = seedream({ "generate", "never", "--out", bin .. "/out" }, e)
    assert.are.equal(130, code, err)
    assert.matches("interrupted", err)
    os.execute("rm -rf " .. q(bin))
  end)

  it("exits 1 when generation fails (no API key)", function()
    local dir = tmpdir()
    local code, _, err = seedream({ "generate", "keyless", "--out", dir },
                                  { RUNWARE_API_URL = emu.url })
    assert.are.equal(1, code)
    assert.matches("no API key: set RUNWARE_API_KEY", err)
    assert.is_nil(read(dir .. "/journal.jsonl"))         -- nothing made for a run that cannot go
    os.execute("rm -rf " .. q(dir))
  end)

  it("run gives a script its client, run directory and arguments", function()
    local dir, script = tmpdir(), os.tmpname() .. ".lua"
    write(script, [[
      local client, run, args = ...
      assert(client == _ENV.client and run == _ENV.run and args == _ENV.args)
      local images = assert(client:series({ positivePrompt = args[1], width = 2048,
                                            height = 2048 }, tonumber(args[2])))
      assert(client:refine(images, "refined"))
      if args[3] then return tonumber(args[3]) end
    ]])
    local code, out, err = seedream({ "run", "--out", dir, script, "from run", "2" }, env)
    assert.are.equal(0, code, err)
    assert.matches("manifest:", out)
    local m = json.decode(read(dir .. "/manifest.json"))
    assert.are.equal(4, #m.images)
    assert.are.equal("from run", m.images[1].prompt)
    code = seedream({ "run", "--out", dir, script, "from run", "2", "7" }, env)
    assert.are.equal(7, code)
    write(script, "error('script broke')")
    code, _, err = seedream({ "run", "--out", dir, script }, env)
    assert.are.equal(1, code)
    assert.matches("script broke", err)
    -- a library error the script raises is said once, not "seedream run: seedream: ..."
    write(script, "error(require('seedream.error').new { code = 'budget', message = 'over' })")
    code, _, err = seedream({ "run", "--out", dir, script }, env)
    assert.matches("^seedream run: over %(budget%)", err)
    os.remove(script)
    os.execute("rm -rf " .. q(dir))
  end)

  it("emulator starts the emulator binary and passes flags through", function()
    local p = assert(io.popen("exec setsid sh -c " ..
      q("echo $$; exec lua5.4 " .. q(BIN) .. " emulator --api-key k --quiet"), "r"))
    local pid = assert(tonumber(p:read("l")))
    local ok, err = pcall(function()
      local url = p:read("l")
      assert.matches("^http://127%.0%.0%.1:%d+/v1$", url)
      local status = h.request("GET", url:gsub("/v1$", "") .. "/stats")
      assert.are.equal(200, status)
    end)
    os.execute("kill -TERM -" .. math.tointeger(pid) .. " 2>/dev/null")   -- its process group
    p:close()
    assert(ok, err)
  end)

  it("emulator stops when the command is killed outright (not left running under init)", function()
    local p = assert(io.popen("exec setsid sh -c " ..
      q("echo $$; exec lua5.4 " .. q(BIN) .. " emulator --api-key k --quiet"), "r"))
    local pid = math.tointeger(assert(tonumber(p:read("l"))))
    local url = p:read("l")
    assert.matches("^http://127%.0%.0%.1:%d+/v1$", url)
    os.execute("kill -KILL " .. pid)                   -- the Lua process only, not the group
    local gone = false
    for _ = 1, 100 do                                  -- the emulator follows within a moment
      local r = io.popen("ps -o stat= -g " .. pid .. " | grep -cv '^Z'")   -- zombies: gone
      local n = tonumber(r:read("a"))
      r:close()
      if n == 0 then gone = true break end
      require("seedream.core").sleep(0.05)
    end
    os.execute("kill -KILL -" .. pid .. " 2>/dev/null")
    p:close()
    assert.is_true(gone, "the emulator outlived its seedream command")
  end)

  it("the progress bar redraws in place on a terminal", function()
    local progress = require "seedream.progress"
    local chunks = {}
    local out = { write = function(self, ...)
      for _, s in ipairs { ... } do chunks[#chunks + 1] = s end
      return self
    end, flush = function() end }
    local p = progress.new { mode = "tty", out = out }
    local fake = { dir = "d", summary = function()
      return { tasks = 2, finished = 1, done = 1, failed = 0, planned = 0, replayed = 0,
               adopted = 0, images = 3, saved = 3, cost = 0.105, estimate = 0, elapsed = 65 }
    end }
    p:event("image", { image = { index = 1, seed = 1 }, task = { taskUUID = "t" } }, fake)
    p:event("finished", { record = { status = "done", images = { 1, 2, 3 } },
                          task = { taskUUID = "t" } }, fake)
    p:close()
    local text = table.concat(chunks)
    assert.matches("\r\27%[K%[#+%.+%] 1/2 tasks  3 image%(s%)  %$0%.105  01:05", text)
    assert.matches("done t: 3 image%(s%)\n", text)
    assert.are.equal("\n", text:sub(-1))
  end)

  it("the summary tells this session's cost from that of all runs of the directory", function()
    local progress = require "seedream.progress"
    local lines = {}
    local out = { write = function(self, ...)
      for _, s in ipairs { ... } do lines[#lines + 1] = s end
      return self
    end, flush = function() end }
    local p = progress.new { mode = "plain", out = out }
    local s = { tasks = 6, finished = 6, done = 6, failed = 0, planned = 0, replayed = 3,
                adopted = 0, images = 3, saved = 6, cost = 0.105, run_cost = 0.21, estimate = 0,
                elapsed = 2, dir = "d" }
    p:event("summary", s)
    assert.matches("cost %$0%.105 this session, %$0%.210 in all runs of it;", table.concat(lines))
    s.run_cost = 0.105
    lines = {}
    p:event("summary", s)
    assert.matches("cost %$0%.105; ", table.concat(lines))
  end)
end)
