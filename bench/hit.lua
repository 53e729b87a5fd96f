-- wrk script: POST page views as the widget sends them (text/plain JSON with a page-view id),
-- spread over BENCH_PAGES pages (1000), BENCH_SITES sites (1) and 100,000 User-Agents.
-- BENCH_PATH picks the endpoint (/api/v1/hit; /api/v1/ping for heartbeats).
-- BENCH_REFERRER, if set, is every hit's referrer (say https://www.google.com.vn/search?q=x
-- for an external one, https://portal.example.vn/ for an internal one); none by default.
local pages = tonumber(os.getenv("BENCH_PAGES") or "1000")
local sites = tonumber(os.getenv("BENCH_SITES") or "1")
local path = os.getenv("BENCH_PATH") or "/api/v1/hit"
local referrer = os.getenv("BENCH_REFERRER")
local extra = referrer and string.format(',"referrer":"%s"', referrer) or ""
local thread_seed = 0

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  local site = "bench"
  if sites > 1 then
    site = "bench" .. math.random(0, sites - 1)
  end
  local body = string.format(
    '{"site":"%s","url":"https://portal.example.vn/tin-tuc/%d","id":"%08x%08x"%s}',
    site, math.random(pages), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), extra)
  local headers = {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["User-Agent"] = string.format("Mozilla/5.0 (bench %d)", math.random(100000)),
  }
  return wrk.format("POST", path, headers, body)
end
