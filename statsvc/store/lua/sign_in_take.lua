-- Take a place for one sign-in try of one client address in one minute's tally, before its
-- token is judged. The tally holds the minute's failed tries (f) and the tries being judged
-- (j): a try is refused once f has reached the limit, told to wait while f + j has (a try
-- being judged may be found valid and give its place back), and else takes a place in j. In
-- one script, so tries sent at the same instant never all pass: at most `limit` of them hold a
-- place. The tally's first take gives it its lifetime, so no tally outlives its minute by
-- much, whatever happens (sign_in_settle.lua settles a try).
--
-- KEYS[1] tally  hash  f = the address's failed tries in the minute, j = its tries being judged
--
-- ARGV[1] the tries a minute may hold
-- ARGV[2] seconds the tally is kept from its first take
--
-- returns 1 if the try took a place, 0 if it is refused (the failures fill the tally), -1 if
-- it is to wait (tries being judged fill it)

local held = redis.call('HMGET', KEYS[1], 'f', 'j')
local failed, judged, limit = tonumber(held[1]) or 0, tonumber(held[2]) or 0, tonumber(ARGV[1])
if failed >= limit then
  return 0
end
if failed + judged >= limit then
  return -1
end
redis.call('HINCRBY', KEYS[1], 'j', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
return 1
