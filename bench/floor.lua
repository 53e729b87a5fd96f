-- The floor, for bench/script.py --against (or swapped for count.lua in a copy of the tree):
-- the naive script's figures (bench/naive.lua: views and visits of the day and in total, the
-- online count, one page tally, page-view ids counted once) batched as count.lua's runs are
-- (it takes count.lua's keys and arguments, see there, and answers in its reply's shape),
-- and nothing of statsvc's besides (no week, month or yesterday, no page today or page
-- online, no id checks of other days, no rate limits, sources or refusals). Not used by
-- statsvc.
--
-- With AS_NAIVE false, as few Redis calls as a script can make: a hit is the id's SADD, the
-- visitor's SADD, the page's ZINCRBY (its reply the page's total), the online set's ZADD,
-- trim and size; a batch reads its figures once, adds its views and visits once and sets
-- lifetimes once. With AS_NAIVE true, each hit runs the naive script's own 15 commands.
local AS_NAIVE = false
local DAY_KEYS, DAY_ARGS, REQUEST_ARGS = 16, 15, 8

local function count(k, a, n, m, out)
  local total, month, visitors = KEYS[k + 1], KEYS[k + 2], KEYS[k + 4]
  local online, pages, ids = KEYS[k + 5], KEYS[k + 6], KEYS[k + 9]
  local today_v, today_u = ARGV[a + 7] .. 'v', ARGV[a + 7] .. 'u'
  local window = tonumber(ARGV[a + 1])
  local stride = m == 1 and REQUEST_ARGS or REQUEST_ARGS + 1
  local day = redis.call('HMGET', month, today_v, today_u)
  local all = redis.call('HMGET', total, 'v', 'u')
  local base = #out
  out[base + 1], out[base + 2], out[base + 3] = day[1], false, {}
  out[base + 4], out[base + 5] = false, all[1]
  out[base + 6], out[base + 7], out[base + 8] = day[2], false, {}
  out[base + 9], out[base + 10] = false, all[2]
  local views, visits = 0, 0
  for i = 1, n do
    local r = a + DAY_ARGS + 1 + stride * (i - 1)
    local visitor, path, id, now = ARGV[r + 1], ARGV[r + 3], ARGV[r + 4], ARGV[r + 5]
    local flags, page_total = 0, 0
    if redis.call('SADD', ids, id) == 1 then
      flags, views = 1, views + 1
      if AS_NAIVE then
        redis.call('EXPIRE', ids, 259200)
        redis.call('HINCRBY', total, 'v', 1)
        redis.call('HINCRBY', month, today_v, 1)
      end
      if redis.call('SADD', visitors, visitor) == 1 then
        flags, visits = 3, visits + 1
        if AS_NAIVE then
          redis.call('HINCRBY', month, today_u, 1)
        end
      end
      if AS_NAIVE then
        redis.call('EXPIRE', month, 34560000)
        redis.call('EXPIRE', visitors, 172800)
      end
      page_total = tonumber(redis.call('ZINCRBY', pages, 1, path))
    end
    redis.call('ZADD', online, now, visitor)
    redis.call('ZREMRANGEBYSCORE', online, '-inf', '(' .. (tonumber(now) - window))
    if AS_NAIVE then  -- the naive script reads its figures back after each hit
      redis.call('HGET', total, 'v')
      redis.call('HGET', month, today_v)
      redis.call('HGET', month, today_u)
      page_total = tonumber(redis.call('ZSCORE', pages, path)) or 0
    end
    local at = #out
    out[at + 1], out[at + 2], out[at + 3] = flags, redis.call('ZCARD', online), 0
    out[at + 4], out[at + 5] = 0, page_total
  end
  if views > 0 and not AS_NAIVE then
    redis.call('HINCRBY', total, 'v', views)
    redis.call('HINCRBY', month, today_v, views)
    if visits > 0 then
      redis.call('HINCRBY', total, 'u', visits)
      redis.call('HINCRBY', month, today_u, visits)
    end
    redis.call('EXPIRE', month, ARGV[a + 5], 'NX')
    redis.call('EXPIRE', visitors, ARGV[a + 3], 'NX')
    redis.call('EXPIRE', ids, ARGV[a + 14], 'NX')
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
