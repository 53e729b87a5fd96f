-- Add an older counter's figures to a site, once per import id, in one atomic run: either
-- every window gains the import, or (the id was applied before, or a check fails) nothing
-- changes. All keys are the site's (one cluster slot).
--
-- KEYS[1] total    hash  v = views, u = visits (never expires)
-- KEYS[2] imports  hash  import id -> digest of the import applied under it
-- KEYS[3] audit    list  JSON entries, newest first
-- KEYS[4] pages    zset  path -> total views; the page registry (capped)
-- KEYS[5 .. 4+m]        the month hashes the days fall in ("m:YYYY-MM": v, u, <DD>v, <DD>u)
-- KEYS[5+m .. 4+m+r]    the "rej:DATE" hashes of the days with refused hits (reason -> n)
-- KEYS[5+m+r .. 4+m+r+s] the "src:DATE" sorted sets of the days with sources (source -> visits)
-- KEYS[5+m+r+s]         (a migration's) migrations hash: source id -> ledger (JSON)
--
-- ARGV[1] import id   ARGV[2] digest   ARGV[3] audit entry (JSON)   ARGV[4] audit list cap
-- ARGV[5] views to add to the total   ARGV[6] visits to add to the total
-- ARGV[7] page cap   ARGV[8] m   ARGV[9] r   ARGV[10] lifetime (s) of a new "rej:DATE" hash
-- ARGV[11] the pages, "<path>\n<views>\n" each (a path holds no control character): real
-- pages in the order they take the places left below the cap, "(other)" anywhere
-- ARGV[12] source cap (hosts of a day, as count.lua's)   ARGV[13] s
-- then per month: its lifetime (s) if new, d (its days), then d times: "DD", views, visits
-- then per rej hash: q (its reasons), then q times: reason, n
-- then per src set: q (its sources), then q times: source, n (at most the day's visits, which
-- are checked: a source's visits never pass 2^53 - 1 either)
-- then, for a migration (`statsvc migrate`): its source id, its ledger after this import
-- Every figure given is at most 10^15 (the caller's bound), so sums of them are exact here.
--
-- returns "applied"; or, changing nothing: "same" (this id was applied with this digest),
-- "different" (this id was applied with another digest), "too_large" (a stored figure would
-- pass 2^53 - 1), "pages_exceed_total" (a page's total views would pass the site's total)

local OTHER = '(other)'
local LIMIT = 9007199254740991  -- 2^53 - 1: past it a double (Lua's, JSON's) loses units

local known = redis.call('HGET', KEYS[2], ARGV[1])
if known then
  return known == ARGV[2] and 'same' or 'different'
end

-- Whether a stored figure (Redis's decimal text, or false) plus n would pass LIMIT (adding
-- nothing passes nothing). Compared as text: a stored figure may be past what a double holds
-- exactly, and is never read as one.
local function passes(stored, n)
  if n == 0 then
    return false
  elseif n > LIMIT then
    return true
  end
  local room, figure = string.format('%d', LIMIT - n), stored or '0'
  return #figure > #room or (#figure == #room and figure > room)
end

local function any_passes(key, fields, adds)
  if #fields == 0 then
    return false
  end
  local stored = redis.call('HMGET', key, unpack(fields))
  for i = 1, #fields do
    if passes(stored[i], adds[i]) then
      return true
    end
  end
  return false
end

local cap, m, r = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local source_cap, s = tonumber(ARGV[12]), tonumber(ARGV[13])
local FIRST_MONTH_ARG = 14

-- Check every figure before writing anything: the total, each month and day, each tally of
-- refused hits, then the pages.
if any_passes(KEYS[1], {'v', 'u'}, {tonumber(ARGV[5]), tonumber(ARGV[6])}) then
  return 'too_large'
end
local a = FIRST_MONTH_ARG
for i = 1, m do
  local d = tonumber(ARGV[a + 1])
  local fields, adds = {'v', 'u'}, {0, 0}
  a = a + 2
  for _ = 1, d do
    local v, u = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    adds[1], adds[2] = adds[1] + v, adds[2] + u
    fields[#fields + 1], adds[#adds + 1] = ARGV[a] .. 'v', v
    fields[#fields + 1], adds[#adds + 1] = ARGV[a] .. 'u', u
    a = a + 3
  end
  if any_passes(KEYS[4 + i], fields, adds) then
    return 'too_large'
  end
end
for i = 1, r do
  local q = tonumber(ARGV[a])
  local fields, adds = {}, {}
  a = a + 1
  for _ = 1, q do
    fields[#fields + 1], adds[#adds + 1] = ARGV[a], tonumber(ARGV[a + 1])
    a = a + 2
  end
  if any_passes(KEYS[4 + m + i], fields, adds) then
    return 'too_large'
  end
end

-- A path not yet known takes a place below the cap, as in count.lua; past the cap it folds
-- into "(other)", which takes no place (an export lists it among the pages by its views, and
-- it must not push a real page out). A page folded with no views adds nothing.
local pages = redis.call('ZCARD', KEYS[4])
if redis.call('ZSCORE', KEYS[4], OTHER) then
  pages = pages - 1
end
local adds, order = {}, {}
for path, views in string.gmatch(ARGV[11], '([^\n]+)\n(%d+)\n') do
  local n, folded = tonumber(views), false
  if not adds[path] and path ~= OTHER and not redis.call('ZSCORE', KEYS[4], path) then
    if pages < cap then
      pages = pages + 1
    else
      path, folded = OTHER, true
    end
  end
  if not (folded and n == 0) then
    if not adds[path] then
      -- a page's score is a double in Redis itself: read as one, it is exact
      adds[path] = {tonumber(redis.call('ZSCORE', KEYS[4], path)) or 0, 0}
      order[#order + 1] = path
    end
    adds[path][2] = adds[path][2] + n
  end
end
-- The total as a number, only to compare pages with it: exact up to LIMIT (a total past it,
-- which this import does not add to, is above any page within LIMIT all the same)
local total_v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0') + tonumber(ARGV[5])
for _, path in ipairs(order) do
  local views = adds[path][1] + adds[path][2]
  if views > LIMIT then
    return 'too_large'
  end
  if views > total_v then
    return 'pages_exceed_total'
  end
end

local function add(key, field, n)
  if n ~= '0' then
    redis.call('HINCRBY', key, field, n)
  end
end

add(KEYS[1], 'v', ARGV[5])
add(KEYS[1], 'u', ARGV[6])
a = FIRST_MONTH_ARG
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
  redis.call('EXPIRE', key, ARGV[10], 'NX')
end
-- a day's sources as count.lua counts them: a host not yet in the day's set folds into
-- "(other)" once the set holds the cap of hosts
for i = 1, s do
  local key, q = KEYS[4 + m + r + i], tonumber(ARGV[a])
  a = a + 1
  for _ = 1, q do
    local source = ARGV[a]
    if source ~= '(direct)' and source ~= OTHER and not redis.call('ZSCORE', key, source) then
      local hosts = redis.call('ZCARD', key)
      if redis.call('ZSCORE', key, '(direct)') then
        hosts = hosts - 1
      end
      if redis.call('ZSCORE', key, OTHER) then
        hosts = hosts - 1
      end
      if hosts >= source_cap then
        source = OTHER
      end
    end
    redis.call('ZINCRBY', key, ARGV[a + 1], source)
    a = a + 2
  end
  redis.call('EXPIRE', key, ARGV[10], 'NX')
end
if ARGV[a] then  -- a migration's ledger, kept with the figures it added
  redis.call('HSET', KEYS[5 + m + r + s], ARGV[a], ARGV[a + 1])
end
for _, path in ipairs(order) do
  redis.call('ZINCRBY', KEYS[4], string.format('%d', adds[path][2]), path)
end

redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return 'applied'
