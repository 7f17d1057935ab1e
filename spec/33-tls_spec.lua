-- HTTPS end to end: the emulator serves TLS with a certificate made here (openssl), and the
-- client trusts it through `ca_file` only. Everything the client does over TLS (sync and
-- async tasks, polling, downloads) works; a server the client has no reason to trust gets
-- nothing, not even the request.
local seedream = require "seedream"
local core = require "seedream.core"
local cjson = require("cjson").new()
local h = require "helper"

describe("HTTPS", function()
  local dir, cert, emu

  -- GET on the emulator with the client's own transport (luasocket speaks no TLS).
  local function get_json(path)
    local t = assert(core.http { ca_file = cert })
    assert(t:get(emu.base .. path))
    local done
    repeat t:perform(0.1); done = t:next() until done
    t:close()
    assert.are.equal("ok", done.code, done.message)
    return cjson.decode(done.body)
  end

  setup(function()
    dir = h.tmpdir()
    cert = dir .. "/cert.pem"
    local made = os.execute(("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem "
      .. "-out %s -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      .. ">/dev/null 2>&1"):format(dir, cert))
    assert(made, "openssl could not make the test certificate")
    emu = h.emulator(("--tls-cert %s --tls-key %s/key.pem"):format(cert, dir))
  end)
  teardown(function()
    emu:stop()
    h.rmdir(dir)
  end)

  it("runs sync and async tasks and downloads over TLS, on kept-alive connections", function()
    assert.truthy(emu.url:find("^https://"))
    local client = emu:client { ca_file = cert }
    local images = assert(client:generate(h.req {}))
    assert.truthy(images[1].imageURL:find("^https://127%.0%.0%.1:"))
    local path = assert(images[1]:save(dir))
    assert.are.equal("jpg", (seedream.image_info(path)))
    local tasks = {}
    for i = 1, 5 do
      tasks[i] = assert(client:submit(h.req { positivePrompt = "async " .. i,
                                              deliveryMethod = "async" }))
    end
    local results, errs = seedream.wait_all(tasks)
    for i = 1, 5 do assert(results[i], tostring(errs[i])) end
    local s = client:stats()
    client:close()
    assert.are.equal(6, get_json("/stats").tasks_charged)
    -- TLS handshakes are the expensive part: connections are reused, not one per request
    assert.is_true(s.http_connects <= 3, s.http_connects .. " connections")
  end)

  it("sends nothing to a server whose certificate it cannot verify", function()
    local before = get_json("/stats").requests
    local client = emu:client {}              -- the system's CAs only
    local images, err = client:generate(h.req {})
    client:close()
    assert.is_nil(images)
    assert.are.equal("network", err.code)
    assert.truthy(err.message:lower():find("certificate"), err.message)
    assert.truthy(err.message:find("SEEDREAM_CA_FILE", 1, true), err.message)   -- the way out
    assert.are.equal(before, get_json("/stats").requests)
  end)

  it("names an unreadable CA file when the client is made", function()
    local client, err = seedream.client { api_key = h.KEY, url = emu.url,
                                          ca_file = dir .. "/missing.pem" }
    assert.is_nil(client)
    assert.are.equal("ca_file", err.field)
    assert.truthy(err.message:find("missing.pem", 1, true))
  end)
end)
