--- The gallery: a static contact sheet (`gallery.html`) of a run directory, made from its
-- manifest. No external assets (inline CSS only); thumbnails are the image files
-- themselves, width-limited, each linking to the full image; refinement chains are rows
-- (original -> refined -> ...). All text is HTML-escaped.
-- @module seedream.gallery
local M = {}

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

--- HTML-escapes a value (tostring'ed).
function M.escape(s)
  return (tostring(s):gsub("[&<>\"']", ESC))
end
local esc = M.escape

-- A relative link to a file in the run directory: percent-encodes what is not plainly
-- safe, so no name can leave the attribute or be taken for a scheme.
local function href(name)
  local s = name:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)
  return s
end

local CSS = [[
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;background:#f4f4f2;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}
.meta{color:#666;margin-bottom:1.2em}
.row{display:flex;align-items:flex-start;gap:.6em;margin:0 0 1.2em;flex-wrap:wrap}
.arrow{align-self:center;font-size:2em;color:#999}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em;width:260px}
.card img{width:100%;max-width:256px;height:auto;display:block;border-radius:3px}
.ph{width:256px;height:150px;display:flex;align-items:center;justify-content:center;
background:repeating-linear-gradient(45deg,#eee,#eee 10px,#e4e4e4 10px,#e4e4e4 20px);
color:#888;border-radius:3px}
.prompt{margin:.4em 0;max-height:8.5em;overflow:auto;white-space:pre-wrap}
.facts{color:#555;font-size:.9em}
.st-failed,.st-missing{color:#b00}.st-planned{color:#06c}
table.tasks{border-collapse:collapse;margin-top:1em;font-size:.9em}
table.tasks td,table.tasks th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
]]

local function money(v)
  if type(v) ~= "number" then return nil end
  return (("$%.4f"):format(v):gsub("0+$", ""):gsub("%.$", ".00"))
end

local function card(img)
  local out = {}
  local name = img.file
  if name and img.status == "saved" then
    local h = esc(href(name))
    out[#out + 1] = ('<a href="%s"><img src="%s" width="256" loading="lazy" alt="%s"></a>')
      :format(h, h, esc(img.imageUUID or name))
  else
    out[#out + 1] = ('<div class="ph">%s</div>'):format(esc(img.status or "pending"))
  end
  out[#out + 1] = ('<div class="prompt">%s</div>'):format(esc(img.prompt or ""))
  local facts = {}
  if img.seed then facts[#facts + 1] = "seed " .. esc(img.seed) end
  if img.width and img.height then facts[#facts + 1] = esc(img.width .. "x" .. img.height) end
  if money(img.cost) then facts[#facts + 1] = esc(money(img.cost)) end
  if img.index then facts[#facts + 1] = "#" .. esc(img.index) end
  facts[#facts + 1] = ('<span class="st-%s">%s</span>')
    :format(esc(img.status or "?"), esc(img.status or "?"))
  out[#out + 1] = '<div class="facts">' .. table.concat(facts, " &middot; ") .. "</div>"
  if name then
    out[#out + 1] = ('<div class="facts"><a href="%s">%s</a></div>')
      :format(esc(href(name)), esc(name))
  end
  if img.error then
    out[#out + 1] = ('<div class="facts st-failed">%s</div>'):format(esc(img.error))
  end
  return '<div class="card" id="img-' .. esc(img.imageUUID or "") .. '">' ..
    table.concat(out, "\n") .. "</div>"
end

--- The rows of the contact sheet: each image that has no parent in the run starts a row,
-- followed by its refinements (depth first). Returns a list of lists of image entries.
function M.rows(images)
  local by_uuid, children = {}, {}
  for _, img in ipairs(images) do
    if img.imageUUID then by_uuid[img.imageUUID] = img end
  end
  local roots = {}
  for _, img in ipairs(images) do
    local parent
    for _, p in ipairs(img.parents or {}) do
      if by_uuid[p] and p ~= img.imageUUID then parent = p break end
    end
    if parent then
      children[parent] = children[parent] or {}
      table.insert(children[parent], img)
    else
      roots[#roots + 1] = img
    end
  end
  local rows, placed = {}, {}
  local function walk(img, row)
    if placed[img] then return end
    placed[img] = true
    row[#row + 1] = img
    for _, child in ipairs(children[img.imageUUID] or {}) do walk(child, row) end
  end
  for _, img in ipairs(roots) do
    local row = {}
    walk(img, row)
    rows[#rows + 1] = row
  end
  for _, img in ipairs(images) do       -- cycles: nothing may disappear
    if not placed[img] then
      local row = {}
      walk(img, row)
      rows[#rows + 1] = row
    end
  end
  return rows
end

--- The HTML text of the gallery for a manifest table (see `seedream.rundir`).
function M.render(manifest)
  local images = manifest.images or {}
  local t = manifest.totals or {}
  local out = {
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>" .. esc(manifest.title or "seedream run") .. "</title>",
    "<style>" .. CSS .. "</style></head><body>",
    "<h1>" .. esc(manifest.title or "seedream run") .. "</h1>",
    ('<div class="meta">%s image(s) in %s task(s), cost %s &middot; model %s &middot; updated %s</div>')
      :format(esc(t.images or #images), esc(t.tasks or 0), esc(money(t.cost or 0) or "?"),
              esc(manifest.model or "?"), esc(manifest.updated or "?")),
  }
  for _, row in ipairs(M.rows(images)) do
    local cells = {}
    for _, img in ipairs(row) do cells[#cells + 1] = card(img) end
    out[#out + 1] = '<div class="row">' ..
      table.concat(cells, '\n<div class="arrow">&rarr;</div>\n') .. "</div>"
  end
  local odd = {}
  for _, task in ipairs(manifest.tasks or {}) do
    if task.status ~= "done" then odd[#odd + 1] = task end
  end
  if #odd > 0 then
    out[#out + 1] = '<table class="tasks"><tr><th>task</th><th>status</th><th>prompt</th>'
      .. "<th>note</th></tr>"
    for _, task in ipairs(odd) do
      local note = task.error and (task.error.code or "") .. ": " .. (task.error.message or "")
                   or (task.estimate and ("estimate " .. (money(task.estimate) or ""))) or ""
      out[#out + 1] = ('<tr><td>%s</td><td class="st-%s">%s</td><td>%s</td><td>%s</td></tr>')
        :format(esc(task.taskUUID or ""), esc(task.status or ""), esc(task.status or ""),
                esc(task.prompt or ""), esc(note))
    end
    out[#out + 1] = "</table>"
  end
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

return M
