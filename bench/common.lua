-- bench/common.lua: what several benchmark scripts read the same way.
local M = {}

--- The Vm* lines of /proc/self/status in KiB: VmHWM (peak RSS), VmRSS, ...
function M.status_kb()
  local out = {}
  for line in io.lines("/proc/self/status") do
    local k, v = line:match("^(Vm%u%u%u?):%s*(%d+) kB")
    if k then out[k] = tonumber(v) end
  end
  return out
end

return M
