-- Settle a sign-in try that took a place in its minute's tally (sign_in_take.lua): its token
-- was valid (the place is given back) or not (the try is counted failed). Only in a tally that
-- is still there: one expired meanwhile is not made again (it would be kept forever, without
-- a lifetime). A tally back to nothing is deleted: valid tokens leave no trace in the store.
--
-- KEYS[1] tally  hash  f = the address's failed tries in the minute, j = its tries being judged
--
-- ARGV[1] "valid" or "failed"
--
-- returns 1 if the tally was there, 0 if not

if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local judged = redis.call('HINCRBY', KEYS[1], 'j', -1)
if ARGV[1] == 'failed' then
  redis.call('HINCRBY', KEYS[1], 'f', 1)
elseif judged <= 0 and not redis.call('HGET', KEYS[1], 'f') then
  redis.call('DEL', KEYS[1])
end
return 1
