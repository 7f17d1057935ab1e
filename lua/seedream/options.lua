--- The options of `seedream.client{}`: which keys there are, their defaults, and their
-- checks. A wrong type or an unknown key is misuse and raises ("bad option ..."); a value
-- that is well-typed but unusable (a plain-http URL to another host, an unreadable CA file,
-- a key with control characters) is `nil, err`, as run-time failures are.
-- @module seedream.options
local core = require "seedream.core"
local errors = require "seedream.error"

local M = {}

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

-- The keys each options table may have (others raise, with the nearest name).
local CLIENT = set { "api_key", "url", "timeout", "connect_timeout", "retries", "backoff",
  "max_in_flight", "delivery", "poll", "ca_file", "on_image", "on_error", "budget", "price",
  "dry_run", "journal", "gzip" }
local POLL = set { "first", "min", "factor", "max", "timeout" }
M.SUBMIT = set { "timeout", "on_image" }               -- of client:submit and generate

local function bad_option(name, what, v)
  error(("bad option '%s' to seedream.client (%s expected, got %s)")
        :format(name, what, type(v) == "number" and tostring(v) or type(v)), errors.user_level())
end

-- An environment variable, nil when unset or empty (VAR= in a shell means "not set").
local function env_or_nil(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

-- o[key], of type kind, or default when absent; `name` is how the message calls it.
local function opt(o, key, kind, default, name)
  local v = o[key]
  if v == nil then return default end
  if type(v) ~= kind then bad_option(name or key, kind, v) end
  return v
end

-- A number option that must be > 0 (>= 0 with zero_ok), and a whole one with int.
local function opt_num(o, key, default, int, zero_ok, name)
  local v = opt(o, key, "number", default, name)
  if v == nil then return nil end
  if v ~= v or v < 0 or (v == 0 and not zero_ok) or (int and math.tointeger(v) == nil) then
    local what = (int and "a whole number" or "a number") .. (zero_ok and " >= 0" or " > 0")
    bad_option(name or key, what, v)
  end
  return int and math.tointeger(v) or v
end

-- The key goes in a header: never over plain http except to this machine (the emulator).
local function check_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  scheme = scheme and scheme:lower()
  -- the authority ends at the first / ? or #, as for libcurl ("http://evil?@localhost/" is
  -- the host evil); user:password@ is only inside it
  local authority = rest and rest:match("^[^/?#\\]*"):gsub("^.*@", "")
  local host = authority and (authority:match("^%[([^%]]*)%]") or authority:match("^([^:]*)"))
  if scheme ~= "https" and not (scheme == "http" and (host == "127.0.0.1" or host == "::1"
                                                      or host == "localhost")) then
    return errors.new { code = "invalid", field = "url",
      message = "the API URL must be https:// (plain http:// only to localhost, where the "
                .. "emulator runs), got " .. errors.url_shown(url) }
  end
end

--- The options of `o` checked, with their defaults: `url` (RUNWARE_API_URL, else
-- `default_url`), `timeout` (300 s a task may take), `max_in_flight` (16), `delivery`
-- ("sync"|"async": the deliveryMethod of requests that do not say; nil), `on_image`,
-- `on_error`, `poll` ({ first = 1, min = 0.5, factor = 1.5, max = 10, timeout }: seconds;
-- timeout bounds one poll request, by default max(20, 2 x max), or max(60, 3 x max) when
-- its answer carries images inline, never past the last deadline of the tasks it polls),
-- `dry_run` (false), `gzip` (true: answers with inline images come compressed, about a
-- quarter fewer bytes for more CPU in the step that receives them),
-- `journal`, `budget` (USD: forces includeCost and refuses tasks that
-- could exceed it), `price` (per image, 0.035), `ca_file` (SEEDREAM_CA_FILE: PEM CAs to
-- trust besides the system's), `api_key` (RUNWARE_API_KEY), and for the transport
-- `connect_timeout` (10 s), `retries` (3), `backoff` (0.5 s); or `nil, err`.
function M.read(o, default_url)
  o = o or {}
  if type(o) ~= "table" then
    error("bad argument #1 to 'client' (table expected)", errors.user_level())
  end
  errors.check_options(o, CLIENT, "seedream.client")
  local poll = opt(o, "poll", "table", {})
  errors.check_options(poll, POLL, "seedream.client", "poll.")
  for _, k in ipairs { "first", "min", "factor", "max", "timeout" } do
    opt_num(poll, k, nil, false, false, "poll." .. k)
  end
  if poll.factor and poll.factor < 1 then bad_option("poll.factor", "a number >= 1", poll.factor) end
  local c = {
    url = opt(o, "url", "string", env_or_nil("RUNWARE_API_URL") or default_url),
    timeout = opt_num(o, "timeout", 300),
    max_in_flight = opt_num(o, "max_in_flight", 16, true),
    delivery = opt(o, "delivery", "string", nil),
    on_image = opt(o, "on_image", "function", nil),
    on_error = opt(o, "on_error", "function", nil),
    poll = { first = poll.first or 1.0, min = poll.min or 0.5, factor = poll.factor or 1.5,
             max = poll.max or 10.0, timeout = poll.timeout },
    dry_run = opt(o, "dry_run", "boolean", false),
    gzip = opt(o, "gzip", "boolean", true),
    journal = opt(o, "journal", "table", nil),
    budget = opt_num(o, "budget", nil, false, true),
    price = opt_num(o, "price", core.limits.cost_per_image),
  }
  if c.delivery and c.delivery ~= "sync" and c.delivery ~= "async" then
    error("bad option 'delivery' to seedream.client (\"sync\" or \"async\" expected)",
          errors.user_level())
  end
  local err = check_url(c.url)
  if err then return nil, err end
  -- extra trust (a company proxy's CA, a test server's); verification itself stays on
  c.ca_file = opt(o, "ca_file", "string", os.getenv("SEEDREAM_CA_FILE"))
  if c.ca_file then
    local f = io.open(c.ca_file, "r")
    if not f then
      return nil, errors.new { code = "invalid", field = "ca_file",
                               message = "cannot read the CA file " .. c.ca_file }
    end
    f:close()
  end
  -- it goes in a header line: no control characters (a NUL would cut it, CR/LF would add
  -- lines); the message never shows it
  local key = opt(o, "api_key", "string", os.getenv("RUNWARE_API_KEY"))
  if key and (key:find("%c") or #key > 4096) then
    return nil, errors.new { code = "invalid", field = "api_key",
      message = "the API key has control characters or is longer than 4096 bytes" }
  end
  c.api_key = key
  -- the transport's, read last (as the transport did): a url, CA file or key that cannot
  -- be used is reported first
  c.connect_timeout = opt_num(o, "connect_timeout", nil)
  c.retries = opt_num(o, "retries", nil, true, true)
  c.backoff = opt_num(o, "backoff", nil, false, true)
  return c
end

return M
