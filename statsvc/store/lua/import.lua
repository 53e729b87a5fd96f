-- Add an older counter's figures to a site, once per import id, in one atomic run: either
-- every window gains the import, or (the id was applied before) nothing changes. All keys
-- are the site's (one cluster slot).
--
-- KEYS[1] total    hash  v = views, u = visits (never expires)
-- KEYS[2] imports  hash  import id -> digest of the import applied under it
-- KEYS[3] audit    list  JSON entries, newest first
-- KEYS[4] pages    zset  path -> total views; the page registry (capped)
-- KEYS[5 .. 4+m]        the month hashes the days fall in ("m:YYYY-MM": v, u, <DD>v, <DD>u)
-- KEYS[5+m .. 4+m+r]    the "rej:DATE" hashes of the days with refused hits (reason -> n)
-- KEYS[5+m+r]           (a migration's) migrations hash: source id -> ledger (JSON)
--
-- ARGV[1] import id   ARGV[2] digest   ARGV[3] audit entry (JSON)   ARGV[4] audit list cap
-- ARGV[5] views to add to the total   ARGV[6] visits to add to the total
-- ARGV[7] page cap   ARGV[8] m   ARGV[9] r   ARGV[10] p (pages)   ARGV[11] lifetime (s) of a
-- new "rej:DATE" hash
-- then per month: its lifetime (s) if new, d (its days), then d times: "DD", views, visits
-- then per rej hash: q (its reasons), then q times: reason, n
-- then p times: path, views
-- then, for a migration (`statsvc migrate`): its source id, its ledger after this import
--
-- returns "applied"; or, changing nothing: "same" (this id was applied with this digest),
-- "different" (this id was applied with another digest), "pages_exceed_total" (a page's
-- total views would pass the site's total views)

local known = redis.call('HGET', KEYS[2], ARGV[1])
if known then
  return known == ARGV[2] and 'same' or 'different'
end

local cap, m, r, p = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local a = 12
for _ = 1, m do  -- skip to the pages
  a = a + 2 + 3 * tonumber(ARGV[a + 1])
end
for _ = 1, r do
  a = a + 1 + 2 * tonumber(ARGV[a])
end

-- Check the pages before writing anything. A path not yet known folds into "(other)" once
-- the site has `cap` pages, as in count.lua; no page may end above the site's total views.
local total_v = (tonumber(redis.call('HGET', KEYS[1], 'v')) or 0) + tonumber(ARGV[5])
local pages = redis.call('ZCARD', KEYS[4])
local adds, order = {}, {}
for _ = 1, p do
  local path, views = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local score = redis.call('ZSCORE', KEYS[4], path)
  if not score and not adds[path] then
    if pages >= cap then
      path = '(other)'
      score = redis.call('ZSCORE', KEYS[4], path)
    end
    if not score and not adds[path] then
      pages = pages + 1
    end
  end
  if not adds[path] then
    adds[path] = {tonumber(score) or 0, 0}
    order[#order + 1] = path
  end
  adds[path][2] = adds[path][2] + views
end
for _, path in ipairs(order) do
  if adds[path][1] + adds[path][2] > total_v then
    return 'pages_exceed_total'
  end
end
local ledger = a  -- past the pages

local function add(key, field, n)
  if n ~= '0' then
    redis.call('HINCRBY', key, field, n)
  end
end

add(KEYS[1], 'v', ARGV[5])
add(KEYS[1], 'u', ARGV[6])
a = 12
for i = 1, m do
  local key, lifetime, d = KEYS[4 + i], ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  for _ = 1, d do
    local day, v, u = ARGV[a], ARGV[a + 1], ARGV[a + 2]
    add(key, day .. 'v', v)
    add(key, day .. 'u', u)
    add(key, 'v', v)
    add(key, 'u', u)
    a = a + 3
  end
  -- the month's lifetime as if its first view had been counted in it (count.lua sets it then)
  redis.call('EXPIRE', key, lifetime, 'NX')
end
for i = 1, r do
  local key, q = KEYS[4 + m + i], tonumber(ARGV[a])
  a = a + 1
  for _ = 1, q do
    add(key, ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  redis.call('EXPIRE', key, ARGV[11], 'NX')
end
for _, path in ipairs(order) do
  redis.call('ZINCRBY', KEYS[4], string.format('%d', adds[path][2]), path)
end

if ARGV[ledger] then
  redis.call('HSET', KEYS[5 + m + r], ARGV[ledger], ARGV[ledger + 1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return 'applied'
