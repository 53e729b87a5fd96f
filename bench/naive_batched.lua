-- For bench/script.py --against: bench/naive.lua's own commands for each request,
-- but batched as count.lua's runs are (it takes count.lua's keys and arguments, see there,
-- and answers in its reply's shape). It counts only what the naive script counts (views and
-- visits of the day and in total, the online set, one page tally; no week, month or
-- yesterday, no page today or page online, no refusals, sources or rate limits), so its
-- figures are not statsvc's: it measures what the naive design's work costs Redis once the
-- per-request EVALSHA is gone. Not used by statsvc.
local DAY_KEYS, DAY_ARGS, REQUEST_ARGS = 16, 15, 8

local function count(k, a, n, m, out)
  local total, month, visitors = KEYS[k + 1], KEYS[k + 2], KEYS[k + 4]
  local online, pages, ids = KEYS[k + 5], KEYS[k + 6], KEYS[k + 9]
  local today = ARGV[a + 7] .. 'v'
  local visits = ARGV[a + 7] .. 'u'
  local stride = m == 1 and REQUEST_ARGS or REQUEST_ARGS + 1
  local base = #out
  for f = 1, 10 do
    out[base + f] = false
  end
  out[base + 3], out[base + 8] = {}, {}
  local views_before, visits_before = 0, 0
  for i = 1, n do
    local r = a + DAY_ARGS + 1 + stride * (i - 1)
    local visitor, path, id, now = ARGV[r + 1], ARGV[r + 3], ARGV[r + 4], ARGV[r + 5]
    local flags = 0
    if redis.call('SADD', ids, id) == 1 then
      flags = 1
      redis.call('EXPIRE', ids, 259200)
      redis.call('HINCRBY', total, 'v', 1)
      redis.call('HINCRBY', month, today, 1)
      if redis.call('SADD', visitors, visitor) == 1 then
        flags = 3
        redis.call('HINCRBY', month, visits, 1)
      end
      redis.call('EXPIRE', month, 34560000)
      redis.call('EXPIRE', visitors, 172800)
      redis.call('ZINCRBY', pages, 1, path)
    end
    redis.call('ZADD', online, now, visitor)
    redis.call('ZREMRANGEBYSCORE', online, '-inf', tonumber(now) - 300000)
    local views_total = tonumber(redis.call('HGET', total, 'v'))
    local views_today = tonumber(redis.call('HGET', month, today))
    local visits_today = tonumber(redis.call('HGET', month, visits) or 0)
    local at = #out
    out[at + 1], out[at + 2], out[at + 3] = flags, redis.call('ZCARD', online), 0
    out[at + 4], out[at + 5] = 0, tonumber(redis.call('ZSCORE', pages, path))
    if i == 1 then  -- the figures before the batch, in count.lua's places
      views_before = views_total - flags % 2
      visits_before = visits_today - math.floor(flags / 2)
      out[base + 1] = tostring(views_today - flags % 2)
      out[base + 5] = tostring(views_before)
      out[base + 6] = tostring(visits_before)
    end
  end
end

local out, k, a = {}, 0, 0
while a < #ARGV do
  local n, m = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  out[#out + 1] = 1
  count(k, a + 2, n, m, out)
  k = k + DAY_KEYS + n + m
  a = a + 2 + DAY_ARGS + (m == 1 and REQUEST_ARGS or REQUEST_ARGS + 1) * n
end
return out
