-- The naive design's script: one EVALSHA per request, 15 commands, no batching.
-- KEYS[1] total  KEYS[2] day  KEYS[3] visitors  KEYS[4] online  KEYS[5] pages  KEYS[6] ids
-- ARGV[1] visitor  ARGV[2] path  ARGV[3] now (ms)  ARGV[4] page-view id
-- returns {views total, views today, visits today, online, page total}
if redis.call('SADD', KEYS[6], ARGV[4]) == 1 then
  redis.call('EXPIRE', KEYS[6], 259200)
  redis.call('HINCRBY', KEYS[1], 'v', 1)
  redis.call('HINCRBY', KEYS[2], 'v', 1)
  if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[2], 'u', 1)
  end
  redis.call('EXPIRE', KEYS[2], 34560000)
  redis.call('EXPIRE', KEYS[3], 172800)
  redis.call('ZINCRBY', KEYS[5], 1, ARGV[2])
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[3] - 300000)
return {
  tonumber(redis.call('HGET', KEYS[1], 'v')),
  tonumber(redis.call('HGET', KEYS[2], 'v')),
  tonumber(redis.call('HGET', KEYS[2], 'u') or 0),
  redis.call('ZCARD', KEYS[4]),
  tonumber(redis.call('ZSCORE', KEYS[5], ARGV[2])),
}
