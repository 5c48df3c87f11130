-- wrk script: a realistic mix of viewer tile URLs over the demo city.
-- Usage: wrk -t2 -c64 -d20s -s benches/load/tiles.lua http://127.0.0.1:8080
-- Tiles of zooms 10-14 around Putian, the viewer's area and event sources.
local paths = {}
local layers = { "districts,towns,villages,grids,units,labels", "events,ships,heritage,homesteads,enterprises,schools" }
local function lon2x(lon, z) return math.floor((lon + 180) / 360 * 2 ^ z) end
local function lat2y(lat, z)
  local r = math.rad(lat)
  return math.floor((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ^ z)
end
for z = 10, 14 do
  local x0, x1 = lon2x(118.7, z), lon2x(119.3, z)
  local y0, y1 = lat2y(25.65, z), lat2y(25.15, z)
  local step = math.max(1, math.floor((x1 - x0) / 12))
  for x = x0, x1, step do
    for y = y0, y1, step do
      for _, l in ipairs(layers) do
        paths[#paths + 1] = string.format("/tiles/%s/%d/%d/%d.mvt", l, z, x, y)
      end
    end
  end
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("urls %d, requests %d, p50 %.2f ms, p99 %.2f ms\n", #paths, summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
