-- wrk script for bench/redirect.sh: each request asks for one of N codes
-- <PREFIX><i> (i zero-padded to 7 digits), i drawn uniformly (DIST=uniform)
-- or from a Zipf distribution with exponent ZIPF_S (DIST=zipf: code 0 is
-- the most popular). The draw sequence is seeded, so every server gets the
-- same one.
local n = tonumber(os.getenv("CODES") or "1000")
local dist = os.getenv("DIST") or "uniform"
local prefix = os.getenv("PREFIX") or "u"
local s = tonumber(os.getenv("ZIPF_S") or "1.0")

local cdf
if dist == "zipf" then
  -- cumulative weights 1/k^s, normalised; a draw is a binary search.
  cdf = {}
  local sum = 0
  for k = 1, n do
    sum = sum + 1 / k ^ s
    cdf[k] = sum
  end
  for k = 1, n do cdf[k] = cdf[k] / sum end
elseif dist ~= "uniform" then
  error("DIST must be uniform or zipf")
end

math.randomseed(42)

local function draw()
  if not cdf then return math.random(n) - 1 end
  local u, lo, hi = math.random(), 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end

request = function()
  return wrk.format("GET", string.format("/%s%07d", prefix, draw()))
end
