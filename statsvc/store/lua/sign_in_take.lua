-- Take a place for one sign-in try of one client address in one minute's tally, before its
-- token is judged; past the limit, give it back at once and refuse the try. In one script,
-- so tries sent at the same instant never all pass: at most `limit` of them hold a place.
-- The tally's first take gives it its lifetime, so no tally outlives its minute by much,
-- whatever happens.
--
-- KEYS[1] tally  string  the address's failed and still-judged tries in the minute (a counter)
--
-- ARGV[1] the tries a minute may hold
-- ARGV[2] seconds the tally is kept from its first take
--
-- returns 1 if the try took a place, 0 if it is refused (the tally is full)

local held = redis.call('INCR', KEYS[1])
if held == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if held > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
