-- Give back the place a sign-in try took in its minute's tally (sign_in_take.lua): its token
-- was valid. Only to a tally that is still there: one expired meanwhile is not made again (a
-- DECR would make it, at -1 and without a lifetime, kept forever). A tally given back to
-- zero is deleted: valid tokens leave no trace in the store.
--
-- KEYS[1] tally  string  the address's failed and still-judged tries in the minute (a counter)
--
-- returns the tries the tally holds after it (0 when it is gone)

local held = tonumber(redis.call('GET', KEYS[1]))
if held == nil then
  return 0
end
if held <= 1 then
  redis.call('DEL', KEYS[1])
  return 0
end
return redis.call('DECR', KEYS[1])
