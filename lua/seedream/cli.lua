--- The `seedream` command: generate, run, validate, emulator. `main(argv)` returns the exit
-- code: 0 ok, 1 failure (a task failed, a request is invalid, I/O, no API key, script
-- error), 2 usage error, 3 refused by --budget (nothing was sent for that task), 130
-- interrupted (Ctrl-C).
-- The API key comes from RUNWARE_API_KEY only (never a flag: flags show in `ps`) and is
-- never printed; the API URL from --url or RUNWARE_API_URL.
-- @module seedream.cli
local M = {}
local errors = require "seedream.error"

M.EXIT = { ok = 0, failure = 1, usage = 2, budget = 3, interrupted = 130 }
local EXIT = M.EXIT

local COMMON = [[
  --out DIR       run directory (images, manifest.json, gallery.html, journal.jsonl;
                  generate: default out/<date-time>, run: out/<script name>);
                  running again with the same DIR resumes: finished tasks are reused,
                  nothing is paid twice
  --budget USD    refuse any task that could take the total over USD (exit 3); steps
                  reused from an earlier run in the same --out count at what they cost
  --dry-run       validate and plan: nothing is sent, the manifest lists planned tasks
  --timeout S     seconds a task may take (default 300)
  --url URL       API endpoint (default $RUNWARE_API_URL, else the real API)
  --quiet         print only the saved file paths
  --json          one JSON object per event line, then a summary object (a request
                  refused before anything is made: one "error" event line, no summary)
  -h, --help      this help]]

M.HELP = {
  main = [[
usage: seedream <command> [options]

commands:
  generate "prompt" [options]       generate images into a run directory
  run [options] script.lua [args]   run a workflow script with a ready client and run dir
  validate request.json             check a request without sending it
  emulator [--port N] [--api-key K] start the local Runware-compatible emulator
  help [command]                    this text, or a command's
  version                           the library's version (also --version)

environment: RUNWARE_API_KEY (the API key), RUNWARE_API_URL (the endpoint),
             SEEDREAM_CA_FILE (PEM CAs to trust as well, e.g. a company proxy's)
exit codes: 0 ok, 1 failure (generation, validation, I/O), 2 usage error,
            3 refused by --budget (nothing sent), 130 interrupted (Ctrl-C)]],
  generate = [[
usage: seedream generate "prompt" [options]
  --size WxH      image size (default 2048x2048), e.g. 2304x1728, 2848x1600, 3072x3072
  --count N       numberResults: N independent images (1..20)
  --series N      a sequential series of N images (maxSequentialImages, 1..15)
  --ref X         a reference image: a local file, URL, imageUUID or data URI (repeatable,
                  up to 14; references + series <= 15)
  --format F      JPG (default), PNG or WEBP
  --quality Q     outputQuality 20..99 (default 95)
  --async         deliveryMethod async (polled) instead of sync
]] .. COMMON,
  run = [[
usage: seedream run [options] script.lua [args...]
Runs script.lua inside seedream.run (waits yield, tasks run concurrently) with a client
wired to a run directory (default out/<script name>). The script gets (client, run, args)
as `...`, and the same names as globals: `client`, `run`, `args` (args[0] is the script
path; `arg` too), plus `seedream`. Options must come before the script.
The exit code is 1 if the script raises an error or returns false / nil, err (3 if that
error is a budget refusal, 130 if it was interrupted by Ctrl-C), the integer it returns if
it returns one, else 0.
]] .. COMMON,
  validate = [[
usage: seedream validate request.json    (- reads it from standard input)
Checks a request (a JSON object, or an array of task objects) against the schema without
sending anything. Prints OK, or the error with the path of the offending field.
Exit 0 valid, 1 invalid (or unreadable, or an empty list), 2 usage error.]],
  emulator = [[
usage: seedream emulator [--port N] [--api-key K] [emulator flags...]
Starts the local Runware-compatible emulator (seedream-emulator, found next to this
script, in ../build/, at $SEEDREAM_EMULATOR or on PATH) and prints its URL. Other flags (--latency-ms N, --quiet,
...) are passed through; see `seedream emulator -- --help`. The key defaults to
$RUNWARE_API_KEY.]],
}

local function say(out, ...) out:write(...) out:write("\n") end

-- The exit code of a run that raised: 130 for Ctrl-C (as a shell reports SIGINT), else 1.
local function failed(err)
  return errors.is_interrupt(err) and EXIT.interrupted or EXIT.failure
end

local function code_of(err)
  if type(err) == "table" and err.code == "budget" then return EXIT.budget end
  return failed(err)
end

-- Says why `seedream cmd` stopped, on stderr, and returns the exit code: an interrupt in one
-- line (with how to resume the run in `dir`), an error without a second "seedream: ".
local function report(cmd, err, dir)
  if errors.is_interrupt(err) then
    io.stderr:write("seedream ", cmd, ": interrupted", dir and ("; run it again with --out "
                    .. dir .. " to resume (nothing finished is paid twice)") or "", "\n")
    return EXIT.interrupted
  end
  io.stderr:write("seedream ", cmd, ": ", (tostring(err):gsub("^seedream: ", "")), "\n")
  return code_of(err)
end
local function usage_error(cmd, msg)
  io.stderr:write("seedream", cmd and (" " .. cmd) or "", ": ", msg, "\n",
                  "try 'seedream ", cmd and (cmd .. " ") or "", "--help'\n")
  return EXIT.usage
end

-- Options: spec maps a name to "string" | "number" | "flag" | "list". Stops at the first
-- positional argument when stop_at_positional (for `run`). Returns opts, positionals or
-- nil, message.
local function parse(argv, first, spec, stop_at_positional)
  local opts, pos = {}, {}
  local i = first
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
      break
    elseif a == "-h" or a == "--help" then
      opts.help = true
    elseif a:sub(1, 2) == "--" then
      local name, val = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local kind = spec[name]
      if not kind then return nil, "unknown option --" .. name end
      if kind == "flag" then
        if val then return nil, "--" .. name .. " takes no value" end
        opts[name] = true
      else
        if not val then
          i = i + 1
          val = argv[i]
          if val == nil then return nil, "--" .. name .. " needs a value" end
        end
        if kind == "number" then
          local n = tonumber(val)
          if not n then return nil, "--" .. name .. " needs a number, got '" .. val .. "'" end
          val = math.tointeger(n) or n
        end
        if kind == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], val)
        else
          opts[name] = val
        end
      end
    elseif a:sub(1, 1) == "-" and #a > 1 then
      return nil, "unknown option " .. a
    else
      pos[#pos + 1] = a
      if stop_at_positional then
        for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
        break
      end
    end
    i = i + 1
  end
  return opts, pos
end

local RUN_OPTS = { out = "string", budget = "number", ["dry-run"] = "flag", timeout = "number",
                   url = "string", quiet = "flag", json = "flag" }
local GEN_OPTS = { size = "string", count = "number", series = "number", ref = "list",
                   format = "string", quality = "number", async = "flag" }
for k, v in pairs(RUN_OPTS) do GEN_OPTS[k] = v end

local function mode_of(opts)
  if opts.json then return "json" end
  if opts.quiet then return "quiet" end
  return nil   -- tty or plain, from the output
end

-- The common options' values, checked before anything is created: a usage message or nil.
local function bad_run_opts(opts)
  if opts.budget and not (opts.budget >= 0) then return "--budget must be >= 0" end
  if opts.timeout and not (opts.timeout > 0) then return "--timeout must be > 0 seconds" end
end

-- Why nothing can be sent (no key and not a dry run), as a whole line, or nil.
local function no_key(opts)
  local key = os.getenv("RUNWARE_API_KEY")
  if opts["dry-run"] or (key and key ~= "") then return nil end
  return "seedream: no API key: set RUNWARE_API_KEY (or plan the run with --dry-run)"
end

-- A run directory, its progress reporter and a client, from the common options.
local function open_run(seedream, opts, dir)
  -- the messages returned are whole lines ("seedream: ..."), as tostring(err) gives them
  local run, err = seedream.run_dir(dir)
  if not run then return nil, tostring(err) end
  local progress = require("seedream.progress").new { mode = mode_of(opts) }
  progress:attach(run)
  local key = os.getenv("RUNWARE_API_KEY")
  if opts["dry-run"] and (not key or key == "") then key = "dry-run" end
  local client, cerr = run:client { budget = opts.budget, dry_run = opts["dry-run"] or false,
                                    url = opts.url, timeout = opts.timeout, api_key = key }
  if not client then return nil, tostring(cerr) end
  return run, progress, client
end

-- What a finished run failed to keep (images paid for but not saved, journal lines not
-- written: a full disk, ...), as a line, or nil: the command then exits 1.
local function losses(run)
  local s = run:summary()
  local parts = {}
  if s.saved < s.images then
    parts[#parts + 1] = ("%d of %d image(s) not saved"):format(s.images - s.saved, s.images)
  end
  if s.journal_errors > 0 then
    parts[#parts + 1] = ("%d journal line(s) not written"):format(s.journal_errors)
  end
  if #parts == 0 then return nil end
  return "seedream: " .. table.concat(parts, ", ") .. " in " .. run.dir ..
         " (see manifest.json; running it again with --out " .. run.dir
         .. " fetches what is missing)"
end

local function print_files(run, progress, mode)
  progress:close()
  if mode == "json" then return end
  local out = io.stdout
  for _, img in ipairs(run:images()) do
    if img.file and (mode == "quiet" or progress.mode == "tty") then
      say(out, run.dir, "/", img.file)
    end
  end
  if mode ~= "quiet" then
    say(out, "manifest: ", run.manifest_path)
    if run.gallery then say(out, "gallery:  ", run.gallery_path) end
  end
end

-- ---- generate ----

local function is_ref_string(s)
  local core = require "seedream.core"
  return s:match("^https?://") or s:match("^data:") or core.is_uuid(s)
end

function M.generate(argv)
  local opts, pos = parse(argv, 2, GEN_OPTS)
  if not opts then return usage_error("generate", pos) end
  if opts.help then say(io.stdout, M.HELP.generate) return EXIT.ok end
  if #pos ~= 1 then
    return usage_error("generate", #pos == 0 and "a prompt is needed" or
      "one prompt expected (quote it), got " .. #pos .. " arguments")
  end
  local seedream = require "seedream"
  local w, h = 2048, 2048
  if opts.size then
    w, h = opts.size:match("^(%d+)[xX](%d+)$")
    if not w then return usage_error("generate", "--size is WIDTHxHEIGHT, e.g. 2304x1728") end
    w, h = math.tointeger(tonumber(w)), math.tointeger(tonumber(h))
  end
  local req = { positivePrompt = pos[1], width = w, height = h }
  if opts.count then req.numberResults = opts.count end
  if opts.series then
    req.providerSettings = { bytedance = { maxSequentialImages = opts.series } }
  end
  if opts.format then req.outputFormat = opts.format:upper() end
  if opts.quality then req.outputQuality = opts.quality end
  if opts.async then req.deliveryMethod = "async" end
  if opts.ref then
    local refs = {}
    for i, r in ipairs(opts.ref) do
      if is_ref_string(r) then refs[i] = r
      else
        local f = io.open(r, "rb")
        if not f then   -- a file that cannot be read: an I/O failure (exit 1), not a usage one
          io.stderr:write("seedream generate: --ref ", r, ": cannot read it (and it is not a ",
                          "URL, UUID or data URI)\n")
          return EXIT.failure
        end
        f:close()
        refs[i] = seedream.file(r)
      end
    end
    req.inputs = { referenceImages = refs }
  end
  local ok, verr = seedream.validate(req)
  if not ok then
    io.stderr:write(tostring(verr), "\n")
    if opts.json then         -- a JSON reader of stdout learns it too, as one event line
      say(io.stdout, require("seedream.json").encode { event = "error", error = {
        code = verr.code, field = verr.field, message = verr.message } })
    end
    return EXIT.failure
  end
  local bad = bad_run_opts(opts)
  if bad then return usage_error("generate", bad) end
  local why = no_key(opts)
  if why then io.stderr:write(why, "\n") return EXIT.failure end
  local dir = opts.out or ("out/" .. os.date("%Y%m%d-%H%M%S"))
  local run, progress, client = open_run(seedream, opts, dir)
  if not run then io.stderr:write(progress, "\n") return EXIT.failure end
  local images, err
  local rok, rerr = pcall(seedream.run, function()
    local task
    task, err = client:submit(req)
    if task then images, err = task:wait() end
    run:finish()
  end)
  print_files(run, progress, mode_of(opts))
  client:close()
  if not rok then return report("generate", rerr, run.dir) end
  if not images then return report("generate", err, run.dir) end
  local lost = losses(run)
  if lost then io.stderr:write(lost, "\n") return EXIT.failure end
  return EXIT.ok
end

-- ---- run ----

function M.run(argv)
  local opts, pos = parse(argv, 2, RUN_OPTS, true)
  if not opts then return usage_error("run", pos) end
  if opts.help then say(io.stdout, M.HELP.run) return EXIT.ok end
  if #pos == 0 then return usage_error("run", "a script is needed") end
  local bad = bad_run_opts(opts)
  if bad then return usage_error("run", bad) end
  local why = no_key(opts)
  if why then io.stderr:write(why, "\n") return EXIT.failure end
  local script = pos[1]
  local args = { [0] = script }
  for i = 2, #pos do args[i - 1] = pos[i] end
  local seedream = require "seedream"
  local env = setmetatable({ seedream = seedream, args = args, arg = args }, { __index = _G })
  local chunk, lerr = loadfile(script, "t", env)
  if not chunk then io.stderr:write("seedream run: ", lerr, "\n") return EXIT.failure end
  local name = script:match("([^/]+)$"):gsub("%.lua$", "")
  local run, progress, client = open_run(seedream, opts, opts.out or ("out/" .. name))
  if not run then io.stderr:write(progress, "\n") return EXIT.failure end
  env.client, env.run, env.progress = client, run, progress
  local results
  local rok, rerr = pcall(seedream.run, function()
    results = table.pack(xpcall(chunk, debug.traceback, client, run, args))
    run:finish()
  end)
  print_files(run, progress, mode_of(opts))
  client:close()
  if not rok then return report("run", rerr, run.dir) end
  if not results[1] then return report("run", results[2], run.dir) end
  local r1, r2 = results[2], results[3]
  if math.type(r1) == "integer" then return r1 end
  if r1 == false or (r1 == nil and r2 ~= nil) then
    if r2 ~= nil then return report("run", r2) end
    return EXIT.failure
  end
  local lost = losses(run)
  if lost then io.stderr:write(lost, "\n") return EXIT.failure end
  return EXIT.ok
end

-- ---- validate ----

local function validate_one(seedream, req, where)
  if type(req) ~= "table" then
    return nil, where .. "not a request: a request is a JSON object, got " .. type(req)
  end
  local ok, err = seedream.validate(req)
  if ok then return true end
  return nil, where .. tostring(err):gsub("^seedream: ", "")
end

function M.validate(argv)
  local opts, pos = parse(argv, 2, {})
  if not opts then return usage_error("validate", pos) end
  if opts.help then say(io.stdout, M.HELP.validate) return EXIT.ok end
  if #pos ~= 1 then return usage_error("validate", "one request file expected") end
  local f, ferr
  if pos[1] == "-" then f = io.stdin else f, ferr = io.open(pos[1], "rb") end   -- -: stdin
  if not f then io.stderr:write("seedream validate: ", ferr, "\n") return EXIT.failure end
  local text = f:read("a") or ""
  if f ~= io.stdin then f:close() end
  local seedream = require "seedream"
  local req, jerr = require("seedream.json").decode(text)
  if req == nil then
    say(io.stdout, pos[1], ": not valid JSON: ", tostring(jerr))
    return EXIT.failure
  end
  local list, arr = { req }, false
  if type(req) == "table" and #req > 0 then list, arr = req, true end
  if type(req) == "table" and next(req) == nil and text:match("^%s*%[") then
    say(io.stdout, pos[1], ": an empty list: no request to check")
    return EXIT.failure
  end
  local bad = 0
  for i, r in ipairs(list) do
    local ok, err = validate_one(seedream, r, arr and ("[" .. i .. "] ") or "")
    if not ok then
      bad = bad + 1
      say(io.stdout, pos[1], ": ", err)
    end
  end
  if bad > 0 then return EXIT.failure end
  say(io.stdout, "OK")
  return EXIT.ok
end

-- ---- emulator ----

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function executable(path)
  return path and errors.execute("test -x " .. shq(path) .. " && test -f " .. shq(path)) == true
end

--- Where the emulator binary is: next to the launcher (`script`), in ../build/, or on PATH.
function M.find_emulator(script)
  local dir = script and script:match("^(.*)/[^/]*$") or (script and ".")
  if dir then
    for _, p in ipairs { dir .. "/seedream-emulator", dir .. "/../build/seedream-emulator" } do
      if executable(p) then return p end
    end
  end
  local env = os.getenv("SEEDREAM_EMULATOR")
  if executable(env) then return env end
  for d in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    if executable(d .. "/seedream-emulator") then return d .. "/seedream-emulator" end
  end
  return nil
end

function M.emulator(argv, script)
  local pass, i = {}, 2
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then say(io.stdout, M.HELP.emulator) return EXIT.ok end
    if a == "--" then
      for j = i + 1, #argv do pass[#pass + 1] = argv[j] end
      break
    end
    pass[#pass + 1] = a
    i = i + 1
  end
  local bin = M.find_emulator(script)
  if not bin then
    io.stderr:write("seedream emulator: seedream-emulator not found (next to the script, ",
                    "in ../build/ or on PATH); build it with `make`\n")
    return EXIT.failure
  end
  local has_port = false
  for _, a in ipairs(pass) do if a:match("^%-%-port") then has_port = true end end
  -- $PPID: this process, which the emulator stops with (see emulator/main.c)
  local cmd = { "SEEDREAM_EMULATOR_PARENT=$PPID exec", shq(bin) }
  if not has_port then cmd[#cmd + 1] = "--port 0" end
  for _, a in ipairs(pass) do cmd[#cmd + 1] = shq(a) end
  io.stdout:flush()
  local ok, how, code = os.execute(table.concat(cmd, " "))
  if ok then return EXIT.ok end
  if how == "signal" then return 128 + code end
  return code or EXIT.failure
end

-- ---- main ----

--- Runs the command line `argv` (a list: argv[1] is the command); `script` is the
-- launcher's path (arg[0]), used to find the emulator. Returns the exit code.
function M.main(argv, script)
  argv = argv or {}
  local cmd = argv[1]
  if cmd == nil then say(io.stderr, M.HELP.main) return EXIT.usage end
  if cmd == "-h" or cmd == "--help" then say(io.stdout, M.HELP.main) return EXIT.ok end
  if cmd == "help" then
    local topic = argv[2] and M.HELP[argv[2]]
    if argv[2] and not topic then return usage_error(nil, "no command '" .. argv[2] .. "'") end
    say(io.stdout, topic or M.HELP.main)
    return EXIT.ok
  end
  if cmd == "--version" or cmd == "version" then
    say(io.stdout, "seedream ", require("seedream").VERSION)
    return EXIT.ok
  end
  local fn = ({ generate = M.generate, run = M.run, validate = M.validate,
                emulator = M.emulator })[cmd]
  if not fn then return usage_error(nil, "unknown command '" .. tostring(cmd) .. "'") end
  -- a Ctrl-C outside a run's own guard (opening its directory, the last lines) ends the
  -- command the same way: a line and 130, not a traceback
  local ok, code = xpcall(fn, function(e)
    -- an interrupt as it is; any other error keeps the stack where it was raised
    if type(e) ~= "string" or errors.is_interrupt(e) then return e end
    return debug.traceback(e, 2)
  end, argv, script)
  if ok then return code end
  if failed(code) == EXIT.interrupted then
    io.stderr:write("seedream ", cmd, ": interrupted\n")
    return EXIT.interrupted
  end
  error(code, 0)
end

return M
