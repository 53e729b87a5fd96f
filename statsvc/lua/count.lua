-- Count a batch of hits, heartbeats and reads of one site on one local day, in order,
-- in one atomic run: every request is answered with the counts right after it.
--
-- KEYS[1]  total        hash  v = views, u = visits (never expires)
-- KEYS[2]  month        hash  v, u of this local month; <DD>v, <DD>u of each of its days
-- KEYS[3]  last_month   hash  the same for the month before (read for yesterday and the week)
-- KEYS[4]  visitors     set   visitor ids seen today (a new member is a visit)
-- KEYS[5]  online       zset  visitor -> last seen (ms)
-- KEYS[6]  pages        zset  path -> total views; also the registry of distinct pages
-- KEYS[7]  pages_day    zset  path -> views today
-- KEYS[8]  pages_month  zset  path -> views this month
-- KEYS[9]  ids_today    set   page-view ids counted today
-- KEYS[10] ids_yday     set   page-view ids counted yesterday
-- KEYS[11] other_online zset  visitor -> last seen (ms) on the "(other)" page
-- KEYS[11+i] the same for the page of request i (i = 1..n)
--
-- ARGV[1] online window (ms)   ARGV[2] page cap
-- ARGV[3] lifetime (s) of today's visitor and id sets   ARGV[4] of a day's page tallies
-- ARGV[5] of a month hash   ARGV[6] of a month's page tallies
-- ARGV[7] today's day of the month ("DD")   ARGV[8] yesterday's   ARGV[9] "1" if in last month
-- ARGV[10] the week's days before today in this month ("DD,DD,…")   ARGV[11] in last month
-- then 6 per request i, from ARGV[12 + 6(i-1)]: mode ("hit" counts and marks online,
-- "ping" marks online, "read" reads), visitor id, the visitor's id under yesterday's salt
-- or "" (within one online window after local midnight: not online twice), path,
-- page-view id or "", now (ms)
--
-- returns 16 values per request: counted (1/0), path, online, page online,
--   views today, yesterday, week, month, total, visits (the same five), page today, page total

local window, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local today = ARGV[7]

local function num(value)
  return tonumber(value) or 0
end

local function pair(key, day)
  local got = redis.call('HMGET', key, day .. 'v', day .. 'u')
  return num(got[1]), num(got[2])
end

local function days(key, list)
  local v, u = 0, 0
  for day in string.gmatch(list, '%d+') do
    local dv, du = pair(key, day)
    v, u = v + dv, u + du
  end
  return v, u
end

local got = redis.call('HMGET', KEYS[2], 'v', 'u', today .. 'v', today .. 'u')
local month_v, month_u, today_v, today_u = num(got[1]), num(got[2]), num(got[3]), num(got[4])
local total_v, total_u = pair(KEYS[1], '')
local yday_v, yday_u = pair(ARGV[9] == '1' and KEYS[3] or KEYS[2], ARGV[8])
local before_v, before_u = days(KEYS[2], ARGV[10])
local last_v, last_u = days(KEYS[3], ARGV[11])
before_v, before_u = before_v + last_v, before_u + last_u

local pages = redis.call('ZCARD', KEYS[6])
local added_v, added_u, marked, oldest = 0, 0, false, nil
local out = {}
for i = 1, (#ARGV - 11) / 6 do
  local a = 12 + 6 * (i - 1)
  local mode, visitor, previous = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local path, view_id, now = ARGV[a + 3], ARGV[a + 4], tonumber(ARGV[a + 5])
  local page_online = KEYS[11 + i]

  local counted = 0
  if mode == 'hit' then
    counted = 1
    if view_id ~= '' and (redis.call('SISMEMBER', KEYS[10], view_id) == 1
        or redis.call('SADD', KEYS[9], view_id) == 0) then
      counted = 0
    end
  end

  -- A path not yet known folds into "(other)" once the site has `cap` pages.
  local known, page_total, page_today = true, 0, 0
  if counted == 1 then
    page_total = redis.call('ZINCRBY', KEYS[6], 1, path)
    if page_total == '1' then
      pages = pages + 1
      if pages > cap then
        redis.call('ZREM', KEYS[6], path)
        path, page_online = '(other)', KEYS[11]
        page_total = redis.call('ZINCRBY', KEYS[6], 1, path)
        pages = pages - (page_total == '1' and 0 or 1)
      end
    end
    page_total = num(page_total)
    page_today = num(redis.call('ZINCRBY', KEYS[7], 1, path))
    redis.call('ZINCRBY', KEYS[8], 1, path)
    added_v, today_v, month_v, total_v = added_v + 1, today_v + 1, month_v + 1, total_v + 1
    if redis.call('SADD', KEYS[4], visitor) == 1 then
      added_u, today_u, month_u, total_u = added_u + 1, today_u + 1, month_u + 1, total_u + 1
    end
  else
    local score = redis.call('ZSCORE', KEYS[6], path)
    if not score and pages >= cap then
      path, page_online = '(other)', KEYS[11]
      score = redis.call('ZSCORE', KEYS[6], path)
    end
    known, page_total = score ~= false, num(score)
    page_today = num(redis.call('ZSCORE', KEYS[7], path))
  end

  local since = now - window
  if mode ~= 'read' then
    marked = true
    oldest = math.min(oldest or since, since)
    if previous ~= '' then
      redis.call('ZREM', KEYS[5], previous)
    end
    redis.call('ZADD', KEYS[5], 'GT', now, visitor)
    if known then
      if previous ~= '' then
        redis.call('ZREM', page_online, previous)
      end
      -- trimmed now and then (by the clock's last digit) as readers join: counts read only
      -- the window, and the set must not grow with every reader of a page never left idle
      if redis.call('ZADD', page_online, 'GT', now, visitor) == 1 and now % 8 == 0 then
        redis.call('ZREMRANGEBYSCORE', page_online, '-inf', '(' .. since)
      end
      redis.call('PEXPIRE', page_online, window)
    end
  end

  local n = #out
  out[n + 1], out[n + 2] = counted, path
  out[n + 3] = redis.call('ZCOUNT', KEYS[5], since, '+inf')
  out[n + 4] = redis.call('ZCOUNT', page_online, since, '+inf')
  out[n + 5], out[n + 6], out[n + 7] = today_v, yday_v, before_v + today_v
  out[n + 8], out[n + 9] = month_v, total_v
  out[n + 10], out[n + 11], out[n + 12] = today_u, yday_u, before_u + today_u
  out[n + 13], out[n + 14] = month_u, total_u
  out[n + 15], out[n + 16] = page_today, page_total
end

-- The batch's increments, written once; daily and monthly keys get their lifetime when made.
if added_v > 0 then
  redis.call('HINCRBY', KEYS[1], 'v', added_v)
  redis.call('HINCRBY', KEYS[2], 'v', added_v)
  redis.call('HINCRBY', KEYS[2], today .. 'v', added_v)
  if added_u > 0 then
    redis.call('HINCRBY', KEYS[1], 'u', added_u)
    redis.call('HINCRBY', KEYS[2], 'u', added_u)
    redis.call('HINCRBY', KEYS[2], today .. 'u', added_u)
  end
  redis.call('EXPIRE', KEYS[2], ARGV[5], 'NX')
  redis.call('EXPIRE', KEYS[4], ARGV[3], 'NX')
  redis.call('EXPIRE', KEYS[7], ARGV[4], 'NX')
  redis.call('EXPIRE', KEYS[8], ARGV[6], 'NX')
  redis.call('EXPIRE', KEYS[9], ARGV[3], 'NX')
end
if marked then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. oldest)
  redis.call('PEXPIRE', KEYS[5], window)
end
return out
