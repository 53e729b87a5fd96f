#!lua flags=no-writes,allow-cross-slot-keys
-- Read the figures of many sites at once (a group's members), counting nothing. It takes no
-- KEYS: the sites' key names are made here from the names statsvc.core.keys gives, cut where
-- the site id goes. In a Redis Cluster it runs on one node for the sites whose slots that
-- node serves (allow-cross-slot-keys: the keys of many slots, all of this node).
--
-- ARGV[1] what comes before the site id in its keys ("sv:{")
-- ARGV[2] what follows it in the key of its totals ("}:total")   ARGV[3] in a month hash's,
--         the month then following ("}:m:")   ARGV[4] in the key of its readers online
-- ARGV[5] the number of sections: sites whose windows are the same (one zone, week start and
--         online window); each section is
--   online since (ms), this month ("YYYY-MM"), last month, today's day of the month ("DD"),
--   yesterday's, "1" if yesterday is in last month, the week's days before today in this
--   month ("DD,DD,…"), in last month, its site ids ("id,id,…": one argument, which the
--   client packs far faster than a thousand)
--
-- returns, site after site in the order given, 11 integers: views today, yesterday, week,
-- month, total; visits today, yesterday, week, month, total; online; then the same 11 summed
-- over the sites (exact while a sum stays below 2^53: a Lua number is a double)

local before, total_after, month_after, online_after = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local function num(value)
  return tonumber(value) or 0
end

-- fields "DDv", "DDu" of the days listed, appended to `fields`
local function days(fields, list)
  for day in string.gmatch(list, '%d+') do
    fields[#fields + 1] = day .. 'v'
    fields[#fields + 1] = day .. 'u'
  end
end

-- the views (i = 0) or visits (i = 1) of fields first, first + 2, … of `got`
local function summed(got, first, i)
  local sum = 0
  for at = first + i, #got, 2 do
    sum = sum + num(got[at])
  end
  return sum
end

local out = {}
local a = 6
for _ = 1, tonumber(ARGV[5]) do
  local since, month, last_month = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local today, yday, yday_last = ARGV[a + 3], ARGV[a + 4], ARGV[a + 5] == '1'
  -- this month's fields: its totals, today, yesterday (if in it), the week's days before
  local this_fields = {'v', 'u', today .. 'v', today .. 'u'}
  local last_fields = {}
  if yday_last then
    last_fields = {yday .. 'v', yday .. 'u'}
  else
    this_fields[5], this_fields[6] = yday .. 'v', yday .. 'u'
  end
  local this_week, last_week = #this_fields + 1, #last_fields + 1
  days(this_fields, ARGV[a + 6])
  days(last_fields, ARGV[a + 7])
  for site in string.gmatch(ARGV[a + 8], '[^,]+') do
    local this = redis.call('HMGET', before .. site .. month_after .. month, unpack(this_fields))
    local last = {}
    if #last_fields > 0 then
      last = redis.call('HMGET', before .. site .. month_after .. last_month, unpack(last_fields))
    end
    local total = redis.call('HMGET', before .. site .. total_after, 'v', 'u')
    local yday_v, yday_u
    if yday_last then
      yday_v, yday_u = num(last[1]), num(last[2])
    else
      yday_v, yday_u = num(this[5]), num(this[6])
    end
    local m = #out
    out[m + 1], out[m + 2] = num(this[3]), yday_v
    out[m + 3] = num(this[3]) + summed(this, this_week, 0) + summed(last, last_week, 0)
    out[m + 4], out[m + 5] = num(this[1]), num(total[1])
    out[m + 6], out[m + 7] = num(this[4]), yday_u
    out[m + 8] = num(this[4]) + summed(this, this_week, 1) + summed(last, last_week, 1)
    out[m + 9], out[m + 10] = num(this[2]), num(total[2])
    out[m + 11] = redis.call('ZCOUNT', before .. site .. online_after, since, '+inf')
  end
  a = a + 9
end
local sums = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
for i = 1, #out do
  local k = (i - 1) % 11 + 1
  sums[k] = sums[k] + out[i]
end
for k = 1, 11 do
  out[#out + 1] = sums[k]
end
return out
