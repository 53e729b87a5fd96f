-- Count one page view, refresh a heartbeat, or only read: one atomic run.
--
-- KEYS[1]  total        hash  v = views, u = visits (never expires)
-- KEYS[2]  month        hash  v, u of the local month
-- KEYS[3]  yesterday    hash  v, u of the local day before today
-- KEYS[4]  visitors     set   visitor ids seen today (a new member is a visit)
-- KEYS[5]  online       zset  visitor -> last seen (ms)
-- KEYS[6]  pages        zset  path -> total views; also the registry of distinct pages
-- KEYS[7]  pages_today  zset  path -> views today
-- KEYS[8]  ids_today    set   page-view ids counted today
-- KEYS[9]  ids_yday     set   page-view ids counted yesterday
-- KEYS[10] page_online  zset  visitor -> last seen (ms) on this page
-- KEYS[11] other_online zset  the same for the "(other)" page
-- KEYS[12..n] the days of this week (hashes v, u), oldest first; KEYS[n] is today
--
-- ARGV[1] mode: "hit" counts and marks online, "ping" marks online, "read" reads
-- ARGV[2] visitor id      ARGV[3] page path        ARGV[4] now (ms)
-- ARGV[5] online window (ms)  ARGV[6] retention of daily keys (s)
-- ARGV[7] page cap        ARGV[8] page-view id or ""
-- ARGV[9] lifetime of today's visitor and id sets (s)
-- ARGV[10] retention of the daily page tallies (s)
-- ARGV[11] the visitor's id under yesterday's salt, within one online window after
--          local midnight (the same reader, who must not be online twice), or ""
--
-- returns {counted (1/0), path, online, page_online,
--          views today, yesterday, week, month, total,
--          visits today, yesterday, week, month, total,
--          page today, page total}

local mode, visitor, path = ARGV[1], ARGV[2], ARGV[3]
local now, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local retention, cap, view_id, short = ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
local page_retention, previous = ARGV[10], ARGV[11]
local today = KEYS[#KEYS]
local page_online = KEYS[10]

-- A path not yet known folds into "(other)" once the site has `cap` pages.
local known = redis.call('ZSCORE', KEYS[6], path)
if not known and redis.call('ZCARD', KEYS[6]) >= cap then
  path = '(other)'
  page_online = KEYS[11]
  known = redis.call('ZSCORE', KEYS[6], path)
end

local counted = 0
if mode == 'hit' then
  counted = 1
  if view_id ~= '' then
    if redis.call('SISMEMBER', KEYS[9], view_id) == 1
        or redis.call('SADD', KEYS[8], view_id) == 0 then
      counted = 0
    else
      redis.call('EXPIRE', KEYS[8], short, 'NX')
    end
  end
  if counted == 1 then
    local visit = redis.call('SADD', KEYS[4], visitor)
    if visit == 1 then
      redis.call('EXPIRE', KEYS[4], short, 'NX')
    end
    for _, key in ipairs({KEYS[1], KEYS[2], today}) do
      if redis.call('HINCRBY', key, 'v', 1) == 1 and key ~= KEYS[1] then
        redis.call('EXPIRE', key, retention)
      end
      if visit == 1 then
        redis.call('HINCRBY', key, 'u', 1)
      end
    end
    redis.call('ZINCRBY', KEYS[6], 1, path)
    if redis.call('ZINCRBY', KEYS[7], 1, path) == '1' then
      redis.call('EXPIRE', KEYS[7], page_retention)
    end
    known = true
  end
end

local since = now - window
if mode ~= 'read' then
  if previous ~= '' then
    redis.call('ZREM', KEYS[5], previous)
  end
  redis.call('ZADD', KEYS[5], 'GT', now, visitor)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. since)
  redis.call('PEXPIRE', KEYS[5], window)
  if known then
    if previous ~= '' then
      redis.call('ZREM', page_online, previous)
    end
    redis.call('ZADD', page_online, 'GT', now, visitor)
    redis.call('ZREMRANGEBYSCORE', page_online, '-inf', '(' .. since)
    redis.call('PEXPIRE', page_online, window)
  end
end

local function pair(key)
  local got = redis.call('HMGET', key, 'v', 'u')
  return tonumber(got[1]) or 0, tonumber(got[2]) or 0
end

local total_v, total_u = pair(KEYS[1])
local month_v, month_u = pair(KEYS[2])
local yday_v, yday_u = pair(KEYS[3])
local week_v, week_u, today_v, today_u = 0, 0, 0, 0
for i = 12, #KEYS do
  today_v, today_u = pair(KEYS[i])
  week_v, week_u = week_v + today_v, week_u + today_u
end

return {
  counted, path,
  redis.call('ZCOUNT', KEYS[5], since, '+inf'),
  redis.call('ZCOUNT', page_online, since, '+inf'),
  today_v, yday_v, week_v, month_v, total_v,
  today_u, yday_u, week_u, month_u, total_u,
  tonumber(redis.call('ZSCORE', KEYS[7], path)) or 0,
  tonumber(known and redis.call('ZSCORE', KEYS[6], path)) or 0,
}
