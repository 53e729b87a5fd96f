-- Store a group and record the change in its audit trail, in one atomic run, if no other
-- change of any group came since the caller read the groups to check this one (a cycle
-- made by two changes at once would pass both checks). All keys share the groups' slot.
--
-- KEYS[1] groups   hash  group id -> JSON record
-- KEYS[2] version  string  raised by every change of a group
-- KEYS[3] audit    list  the group's audit entries (JSON), newest first
--
-- ARGV[1] the version the caller read ("" for none)   ARGV[2] group id   ARGV[3] its record
-- ARGV[4] the audit entry   ARGV[5] most entries kept in the audit list
--
-- returns 1 if stored, 0 if another change came first (nothing changed: read and try again)

if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
return 1
