-- Count a failed sign-in of one client address in one minute; the tally's first failure
-- gives it its lifetime, so no tally outlives its minute by much, whatever happens.
--
-- KEYS[1] tally  string  the address's failed sign-ins in the minute (a counter)
--
-- ARGV[1] seconds the tally is kept from its first failure
--
-- returns the address's failed sign-ins in the minute, this one included

local failures = redis.call('INCR', KEYS[1])
if failures == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return failures
