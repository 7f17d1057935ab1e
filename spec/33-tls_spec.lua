-- HTTPS end to end: the emulator serves TLS with a certificate made here (openssl), and the
-- client trusts it through `ca_file` only. Everything the client does over TLS (sync and
-- async tasks, polling, downloads) works; a server the client has no reason to trust gets
-- nothing, not even the request.
local seedream = require "seedream"
local core = require "seedream.core"
local cjson = require("cjson").new()
local h = require "helper"

-- A throwaway certificate for 127.0.0.1 in dir: cert.pem, key.pem.
local function make_cert(dir)
  local cert = dir .. "/cert.pem"
  local made = os.execute(("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem "
    .. "-out %s -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
    .. ">/dev/null 2>&1"):format(dir, cert))
  assert(made, "openssl could not make the test certificate")
  return cert, dir .. "/key.pem"
end

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
    local key
    cert, key = make_cert(dir)
    emu = h.emulator(("--tls-cert %s --tls-key %s"):format(cert, key))
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

  -- A CA directory is read by OpenSSL's hashed names, one issuer at a time: the system's
  -- (the default, when it is one) costs the first handshake ~4 ms instead of the ~55 ms of
  -- parsing the whole bundle. Here one made of the test certificate is trusted, and one
  -- without it is not.
  it("trusts the certificates of a hashed CA directory (ca_dir), and only those", function()
    local function status_with(ca_dir)
      local t = assert(core.http { ca_dir = ca_dir, retries = 0 })
      assert.are.equal(ca_dir, t:stats().ca_dir)
      assert(t:get(emu.base .. "/health"))
      local done
      repeat t:perform(0.1); done = t:next() until done
      t:close()
      return done
    end
    local hashed, other = dir .. "/hashed", dir .. "/other"
    assert(os.execute(("mkdir -p %s %s"):format(hashed, other)))
    local p = assert(io.popen("openssl x509 -hash -noout -in " .. cert))
    local hash = p:read("l")
    p:close()
    assert.truthy(hash and hash:match("^%x%x%x%x%x%x%x%x$"), tostring(hash))
    assert(os.execute(("cp %s %s/%s.0"):format(cert, hashed, hash)))
    assert(os.execute(("cp %s %s/00000000.0"):format(cert, other)))   -- the wrong name
    local ok = status_with(hashed)
    assert.are.equal("ok", ok.code, ok.message)
    assert.are.equal(200, ok.status)
    local refused = status_with(other)
    assert.are.equal("network", refused.code)
    assert.truthy(refused.message:lower():find("certificate"), refused.message)
  end)

  -- Over TLS at most 100 requests go to libcurl at once (HTTP/2's usual stream limit, see
  -- the next block), nor more than there are connections, until an answer shows a server
  -- without HTTP/2, like this emulator; then, as over plain HTTP, as many as there are
  -- connections. (More than the connections would wait inside libcurl on an HTTP/1.1
  -- server, their timeouts running.)
  it("admits TLS requests by streams, by connections once the server shows HTTP/1.1", function()
    local few = assert(core.http { ca_file = cert, max_connections = 20 })
    assert.are.equal(20, few:stats().tls_admit)
    few:close()
    local t = assert(core.http { ca_file = cert, max_connections = 150 })
    assert.are.equal(100, t:stats().tls_admit)
    assert(t:get(emu.base .. "/health"))
    local done
    repeat t:perform(0.1); done = t:next() until done
    assert.are.equal(200, done.status)
    assert.are.equal(150, t:stats().tls_admit)
    t:close()
  end)

  it("on an HTTP/1.1 TLS server, requests beyond the connections wait outside libcurl", function()
    -- 6 requests of 0.8 s over 2 connections take 2.4 s; each may take 2 s from when it
    -- goes. Handed to libcurl all at once, the last ones used to time out in its queue.
    local slow = h.emulator(("--latency-ms 800 --tls-cert %s --tls-key %s")
                            :format(cert, dir .. "/key.pem"))
    local t = assert(core.http { ca_file = cert, max_connections = 2, retries = 0 })
    local body = '[{"taskType":"imageInference","taskUUID":"%s","model":"bytedance:seedream@5.0-lite",' ..
                 '"positivePrompt":"x","width":2048,"height":2048}]'
    for _ = 1, 6 do assert(t:post(slow.url, h.KEY, body:format(core.uuid()), 2)) end
    local ok, t0 = 0, core.now()
    while ok < 6 and core.now() - t0 < 10 do
      t:perform(0.05)
      for done in function() return t:next() end do
        assert.are.equal("ok", done.code, done.message)
        ok = ok + 1
      end
    end
    assert.are.equal(6, ok)
    t:close()
    slow:stop()
  end)

  it("names an unreadable CA file when the client is made", function()
    local client, err = seedream.client { api_key = h.KEY, url = emu.url,
                                          ca_file = dir .. "/missing.pem" }
    assert.is_nil(client)
    assert.are.equal("ca_file", err.field)
    assert.truthy(err.message:find("missing.pem", 1, true))
  end)
end)

-- The real API's protocol: HTTP/2 over TLS. nghttpx terminates it in front of the emulator,
-- which publishes image URLs on the front (--public-url), so downloads take it too. HTTP/2
-- carries many requests on one connection: the transport asks for it (ALPN) and waits to
-- multiplex (PIPEWAIT) instead of opening a connection per request.
describe("HTTP/2 over TLS", function()
  local dir, cert, emu, front

  setup(function()
    dir = h.tmpdir()
    local key
    cert, key = make_cert(dir)
    local port = h.free_port()
    emu = h.emulator("--latency-ms 100 --public-url https://127.0.0.1:" .. port)
    front = h.h2_front(emu, port, cert, key)
  end)
  teardown(function()
    if front then front.stop() end
    emu:stop()
    h.rmdir(dir)
  end)

  local function client(o)
    o = o or {}
    o.url, o.ca_file = front.url, cert
    return emu:client(o)
  end

  -- n tasks (fields of `extra` in each request), waited for; each must have `images` images
  local function run_all(c, n, extra, images)
    local tasks = {}
    for i = 1, n do
      local fields = { positivePrompt = "h2 " .. i }
      for k, v in pairs(extra) do fields[k] = v end
      tasks[i] = assert(c:submit(h.req(fields)))
    end
    local results, errs = seedream.wait_all(tasks)
    for i = 1, n do
      assert(results[i], tostring(errs[i]))
      assert.are.equal(images, #results[i])
    end
    return results
  end

  it("runs 16 sync tasks at once on one connection, and downloads on it too", function()
    local c = client { max_in_flight = 16 }
    local t0 = core.now()
    local results = run_all(c, 32, {}, 1)
    -- 100 ms per image: one after another, 32 would take 3.2 s; 16 at a time, about 0.2 s
    assert.is_true(core.now() - t0 < 1.6, "took " .. (core.now() - t0) .. " s")
    local url = results[1][1].imageURL
    assert.truthy(url:find("^" .. front.url:gsub("/v1$", ""):gsub("%p", "%%%0") .. "/image/"), url)
    local paths, derrs = c:download({ results[1][1], results[2][1], results[3][1] }, dir)
    for i = 1, 3 do
      assert(paths[i], tostring(derrs[i]))
      assert.are.equal("jpg", (seedream.image_info(paths[i])))
    end
    local s = c:stats()
    c:close()
    local st = emu:stats()
    assert.are.equal(32, st.tasks_charged)
    assert.are.equal(3, st.image_gets)
    assert.are.equal(0, st.image_gets_with_auth)     -- the API's own host, still no key
    -- HTTP/1.1 would have needed 16 connections for 16 requests at once
    assert.are.equal(1, s.http_connects)
  end)

  -- An HTTP/2 server takes about 100 streams on a connection (nghttpx: 100). Past them,
  -- libcurl opened a connection per extra request (a TLS handshake each: 200 sync tasks at
  -- once made 101 connections, 1,000 made ~700); the transport now keeps the rest waiting.
  it("keeps 200 sync tasks at once to one connection", function()
    local c = client { max_in_flight = 200 }
    run_all(c, 200, {}, 1)
    local s = c:stats()
    c:close()
    assert.are.equal(1, s.http_connects)
    assert.are.equal(100, s.http_tls_admit)     -- answers came over HTTP/2: streams it is
  end)

  -- Proxies and load balancers drop HTTP/2 connections (restarts, GOAWAY): the requests on
  -- them fail together. Each is sent again with its taskUUID; the server, which has most
  -- of them already, answers conflictTaskUUID and they are polled: nothing charged twice.
  it("survives the front going away with every request in flight", function()
    local port = h.free_port()
    local slow = h.emulator("--latency-ms 1000 --public-url https://127.0.0.1:" .. port)
    local key = dir .. "/key.pem"
    local f = h.h2_front(slow, port, cert, key)
    local c = slow:client { url = f.url, ca_file = cert, max_in_flight = 8 }
    local tasks = {}
    for i = 1, 8 do tasks[i] = assert(c:submit(h.req { positivePrompt = "dropped " .. i })) end
    repeat c:step(0.02) until slow:stats().tasks == 8     -- all 8 reached the emulator
    f.stop()
    f = h.h2_front(slow, port, cert, key)
    local results, errs = seedream.wait_all(tasks)
    local s = c:stats()
    c:close()
    local st = slow:stats()
    f.stop()
    slow:stop()
    for i = 1, 8 do assert(results[i], tostring(errs[i])) end
    assert.are.equal(8, st.tasks_charged)                -- once each
    assert.are.equal(8, st.duplicates)                    -- every retry found its task
    assert.are.equal(8, s.http_retries)
    assert.are.equal(2, s.http_connects)                  -- the lost one and its successor
  end)

  it("submits and polls async tasks over it", function()
    local before = emu:stats()
    local c = client {}
    run_all(c, 8, { deliveryMethod = "async", numberResults = 2 }, 2)
    local s = c:stats()
    c:close()
    local after = emu:stats()
    assert.are.equal(8, after.tasks_charged - before.tasks_charged)
    assert.is_true(after.polls > before.polls)
    assert.are.equal(1, s.http_connects)
  end)
end)
