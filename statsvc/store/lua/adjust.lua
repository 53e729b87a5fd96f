-- Change one of a site's settings or tokens and record the change in the site's audit
-- trail, in one atomic run (both keys are the site's: one cluster slot).
--
-- KEYS[1] target  the key changed: a string (op "set") or a hash (ops "hset", "hdel")
-- KEYS[2] audit   list  JSON entries, newest first
--
-- ARGV[1] op: "set" (the string becomes ARGV[3]), "hset" (add the new field ARGV[2] with the
--         value ARGV[3], unless the hash already has ARGV[4] fields), "hdel" (remove ARGV[2])
-- ARGV[2] field   ARGV[3] value   ARGV[4] most fields of the hash ("hset")
-- ARGV[5] the audit entry (JSON)   ARGV[6] most entries kept in the audit list
--
-- returns 1 if the key changed and the entry was recorded, 0 if nothing changed (the field
-- exists, or is gone already), -1 if the hash is full

local op = ARGV[1]
local changed = 1
if op == 'set' then
  redis.call('SET', KEYS[1], ARGV[3])
elseif op == 'hset' then
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
    return -1
  end
  changed = redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
elseif op == 'hdel' then
  changed = redis.call('HDEL', KEYS[1], ARGV[2])
else
  return redis.error_reply('unknown op ' .. op)
end
if changed == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[5])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
end
return changed
