-- Page views of days and whole months, summed, read at once: a month's are its page tally
-- (the days rolled into it) and the tallies of its days still pending (count.lua).
-- KEYS[1..d]  the page tallies of single days
-- then per month: its hash (<DD>p = 1: day DD pending), its page tally, the page tallies of
-- its days 1..n
-- ARGV[1] d, then per month n, its number of days
-- returns path, views, path, views, … (views as digits)

local keys = {}
local d = tonumber(ARGV[1])
for i = 1, d do
  keys[i] = KEYS[i]
end
local k = d
for i = 2, #ARGV do
  local n = tonumber(ARGV[i])
  local fields = {}
  for day = 1, n do
    fields[day] = string.format('%02dp', day)
  end
  local pending = redis.call('HMGET', KEYS[k + 1], unpack(fields))
  keys[#keys + 1] = KEYS[k + 2]
  for day = 1, n do
    if pending[day] then
      keys[#keys + 1] = KEYS[k + 2 + day]
    end
  end
  k = k + 2 + n
end
local args = {#keys}
for i = 1, #keys do
  args[i + 1] = keys[i]
end
args[#args + 1] = 'WITHSCORES'
return redis.call('ZUNION', unpack(args))
