#!lua flags=no-writes,allow-cross-slot-keys
-- Read the settings of many sites at once (a group's members). It takes no KEYS: the keys
-- are made here from the name statsvc.core.keys gives, cut where the site id goes; in a
-- Redis Cluster it runs on one node for the sites whose slots that node serves. One reply
-- of many strings costs the client far less than a pipeline of as many GETs.
--
-- ARGV[1] what comes before the site id in the key of its settings ("sv:{")
-- ARGV[2] what follows it ("}:site")   ARGV[3] the site ids, "id,id,…" (one argument: the
--         client packs one long string far faster than a thousand short ones)
--
-- returns each site's settings (JSON), or false for a site that is not there, in order

local out = {}
for site in string.gmatch(ARGV[3], '[^,]+') do
  out[#out + 1] = redis.call('GET', ARGV[1] .. site .. ARGV[2])
end
return out
