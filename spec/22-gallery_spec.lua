-- The gallery: links resolve to files of the run, text is escaped, no external assets,
-- refine chains are rows, and it is rewritten on every progress step.
local seedream = require "seedream"
local gallery = require "seedream.gallery"
local h = require "helper"
local tmpdir, read = h.tmpname, h.read

local function unescape(s)
  return (s:gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&lt;", "<"):gsub("&gt;", ">")
           :gsub("&amp;", "&"):gsub("%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end))
end

local EVIL = [[<script>alert("x")</script> & 'quotes' <img src=http://evil/>]]

describe("gallery", function()
  local emu, dir, run, html, frames, refined, saved_seen
  setup(function()
    emu = h.emulator("--latency-ms 10")
    dir = tmpdir()
    run = assert(seedream.run_dir(dir, { title = "Title <&>" }))
    saved_seen = 0
    run:on(function(ev, data)
      if ev == "saved" then
        -- written before listeners run: the image just saved is already in the page
        local page = read(dir .. "/gallery.html")
        local name = data.file:match("[^/]+$")
        if page and page:find('href="' .. name .. '"', 1, true) then
          saved_seen = saved_seen + 1
        end
      end
    end)
    local c = run:client { api_key = h.KEY, url = emu.url }
    seedream.run(function()
      frames = assert(c:series(h.req { positivePrompt = EVIL }, 2))
      refined = c:refine(frames, "refined <b>")
      run:finish()
    end)
    c:close()
    html = assert(read(dir .. "/gallery.html"))
  end)
  teardown(function()
    emu:stop()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("links and thumbnails resolve to image files of the run directory", function()
    local n = 0
    for attr, target in html:gmatch('(%a+)="([^"]*)"') do
      if attr == "href" or attr == "src" then
        local path = dir .. "/" .. unescape(target)
        assert.is_truthy(read(path), attr .. " " .. target .. " does not resolve")
        assert.is_truthy(seedream.image_info(path))
        n = n + 1
      end
    end
    assert.is_true(n >= 4 * 3)        -- 4 images: thumbnail src, its link, the file link
  end)

  it("escapes every text and uses no external asset", function()
    assert.is_nil(html:find("<script", 1, true))
    assert.is_nil(html:find("<link", 1, true))
    assert.is_nil(html:find("url(", 1, true))
    assert.is_nil(html:find("@import", 1, true))
    for attr, v in html:gmatch('(%a+)="([^"]*)"') do
      if attr == "src" or attr == "href" then assert.is_nil(v:find(":", 1, true)) end
    end
    assert.is_truthy(html:find("src=http://evil/&gt;", 1, true))   -- the prompt, as text
    assert.is_truthy(html:find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;", 1, true))
    assert.is_truthy(html:find("Title &lt;&amp;&gt;", 1, true))
    assert.is_truthy(html:find("<style>", 1, true))
  end)

  it("shows each refine chain as a row: original, arrow, refined", function()
    for i = 1, 2 do
      local a = html:find('id="img-' .. frames[i].imageUUID .. '"', 1, true)
      local b = html:find('id="img-' .. refined[i].imageUUID .. '"', 1, true)
      assert.is_truthy(a and b)
      local between = html:sub(a, b)
      assert.is_truthy(between:find("&rarr;", 1, true))
      assert.is_nil(between:find('class="row"', 1, true))   -- same row
    end
    assert.is_truthy(html:find("seed " .. math.tointeger(frames[1].seed), 1, true))
    assert.is_truthy(html:find("2048x2048", 1, true))
    assert.is_truthy(html:find("$0.035", 1, true))
  end)

  it("is rewritten on every progress step", function()
    assert.are.equal(4, saved_seen)
  end)

  it("groups images by their parents (rows)", function()
    local rows = gallery.rows {
      { imageUUID = "a" }, { imageUUID = "b", parents = { "a" } },
      { imageUUID = "c", parents = { "b" } }, { imageUUID = "d", parents = { "x" } },
      { imageUUID = "e", parents = { "e" } },
    }
    local ids = {}
    for i, row in ipairs(rows) do
      ids[i] = {}
      for j, img in ipairs(row) do ids[i][j] = img.imageUUID end
    end
    assert.are.same({ { "a", "b", "c" }, { "d" }, { "e" } }, ids)
  end)

  it("renders placeholders for images without a file", function()
    local page = gallery.render { images = { { imageUUID = "p", status = "planned",
                                               prompt = "later" } },
                                  tasks = { { taskUUID = "t", status = "planned", estimate = 0.07,
                                              prompt = "later" } } }
    assert.is_truthy(page:find('class="ph">planned', 1, true))
    assert.is_nil(page:find("<img", 1, true))
    assert.is_truthy(page:find("estimate $0.07", 1, true))
  end)
end)
