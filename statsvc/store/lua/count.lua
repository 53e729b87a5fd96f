-- Count batches of hits, heartbeats and reads, each of one site on one local day, in
-- order, in one atomic run: every request is answered with the counts right after it.
-- KEYS and ARGV hold one section per batch, one after the other (a batch is a site's:
-- in a Redis Cluster all of one run's batches must share a slot). In each section, the
-- ARGV section starts with n, the number of the batch's requests, and m, the number of
-- distinct minutes they came in (almost always 1), then:
--
-- KEYS[1]  total        hash  v = views, u = visits (never expires)
-- KEYS[2]  month        hash  v, u of this local month; <DD>v, <DD>u of each of its days;
--                             <DD>p = 1 while the day is pending (see `pending` below)
-- KEYS[3]  last_month   hash  the same for the month before (read for yesterday and the week)
-- KEYS[4]  visitors     set   visitor ids seen today (a new member is a visit)
-- KEYS[5]  online       zset  visitor -> last seen (ms)
-- KEYS[6]  pages        zset  path -> total views; also the registry of distinct pages
-- KEYS[7]  pages_day    zset  path -> views today
-- KEYS[8]  pages_month  zset  path -> views this month of the days rolled into it (below)
-- KEYS[9]  ids_today    set   page-view ids counted today
-- KEYS[10] ids_yday     set   page-view ids counted yesterday
-- KEYS[11] other_online zset  visitor -> last seen (ms) on the "(other)" page
-- KEYS[12] rejected     hash  reason -> hits not counted today (kept as long as a month hash)
-- KEYS[13] ids_tmrw     set   page-view ids counted tomorrow (a live retry before a replay)
-- KEYS[14] sources_day  zset  source -> visits today (see count_source)
-- KEYS[15] pages_yday   zset  path -> views yesterday
-- KEYS[16] last_pages_month  zset  the same as pages_month for the month before
-- KEYS[16+i] the page-online set of request i's page (i = 1..n)
-- KEYS[16+n+j] hash  visitor id or address id -> counted views in the batch's j-th minute
--                    (j = 1..m; expires in RATE_TTL)
--
-- ARGV[1] online window (ms)   ARGV[2] page cap
-- ARGV[3] lifetime (s) of today's visitor set   ARGV[4] of a day's page tallies once rolled
-- ARGV[5] of a month hash   ARGV[6] of a month's page tallies (and of a pending day's)
-- ARGV[7] today's day of the month ("DD")   ARGV[8] yesterday's   ARGV[9] "1" if in last month
-- ARGV[10] the week's days before today in this month ("DD,DD,…")   ARGV[11] in last month
-- ARGV[12] counted views a visitor may make in a minute (0: no limit)
-- ARGV[13] counted views a client address may make in a minute (0: no limit)
-- ARGV[14] lifetime (s) of a day's page-view id set
-- ARGV[15] source cap: distinct sources of a day before new ones fold into "(other)"
-- then 8 per request i (9 when m > 1), from ARGV[16 + s(i-1)] (s: 8 or 9): mode ("hit"
-- counts and marks online, "replay" counts a kept hit at its instant and marks no one
-- online, "ping" marks online,
-- "read" reads, "refuse:<reason>" reads and records a hit refused for that reason; a hit
-- whose page-view id was counted yesterday, today or tomorrow is recorded as "duplicate",
-- one over its address's or its visitor's limit in its minute as "rate_limited"; a hit not
-- counted and a ping mark online only a visitor counted today or one online under
-- yesterday's id), visitor id
-- (or "": a view kept through an outage whose visitor is not known counts no visit and marks
-- no one online), the visitor's id under yesterday's salt
-- or "" (within one online window after local midnight: not online twice), path (or "": a
-- view of the site and of no page), page-view id or "", now (ms), the client address's id or
-- "" (no limit per address), source (a bare host, or "" for none: "(direct)"), and when m > 1
-- the number j of its minute's tally
--
-- returns, batch after batch, 1 (or the error that failed that batch alone, and nothing
-- else for it), the figures before it, then 5 values per request; the caller adds up
-- the requests' views and visits in order (replies are the largest part of the work):
--   views today, yesterday, week, month, total, visits (the same five) before the batch, as
--   the hashes hold them (a string, or nil for none; the week a list of its days): the
--   caller adds them up, since a Lua number is a double, exact only up to 2^53
--   then per request: flags (1 counted, 2 a new visit, 4 folded into "(other)", 8 refused
--   over the rate limit, 16 refused as a duplicate; the refusal reasons' words are
--   statsvc.core.reasons'), online,
--   page online, page today, page total

local OTHER = '(other)'  -- the page the views of pages past the cap are folded into
local RATE_TTL = 120  -- seconds a minute's tally of views per visitor is kept
local DAY_KEYS, DAY_ARGS, REQUEST_ARGS = 16, 15, 8  -- a batch's keys and arguments, a request's
local KEYS, ARGV = KEYS, ARGV  -- read by offset, never copied

-- a month hash's own `extra` fields, then the views and visits of the days listed
-- ("DD,DD,…"), as stored: one HMGET; the days' views are added to the list `week_v`, their
-- visits to `week_u`
local function read(key, extra, list, week_v, week_u)
  local fields, first = extra, #extra + 1
  for day in string.gmatch(list, '%d+') do
    fields[#fields + 1] = day .. 'v'
    fields[#fields + 1] = day .. 'u'
  end
  if #fields == 0 then
    return {}
  end
  local got = redis.call('HMGET', key, unpack(fields))
  for i = first, #got, 2 do
    week_v[#week_v + 1], week_u[#week_u + 1] = got[i], got[i + 1]
  end
  return got
end

-- A set's members as a batch asks and adds them, in plain functions (a batch of one makes
-- no tables and no closures: most batches are of one when hits are spread over many sites).
-- For a batch of several requests, set_read reads those `asked` at once
-- (SMISMEMBER) into `known` (member -> true/false), set_add notes those added in `added`
-- and set_write writes them at once. For one (`known` nil), each question and addition is a
-- command (the SADD that adds tells whether the member was new): reading first would cost
-- one more
local function set_read(key, asked)
  local known = {}
  if #asked > 0 then
    local got = redis.call('SMISMEMBER', key, unpack(asked))
    for i = 1, #asked do
      known[asked[i]] = got[i] == 1
    end
  end
  return known
end

local function set_has(key, known, member)
  if not known then
    return redis.call('SISMEMBER', key, member) == 1
  end
  return known[member]
end

local function set_add(key, known, added, member)  -- tells whether it was new
  if not known then
    return redis.call('SADD', key, member) == 1
  end
  if known[member] then
    return false
  end
  known[member], added[member] = true, true
  return true
end

local function set_remove(key, known, added, member)  -- one just added
  if not known then
    redis.call('SREM', key, member)
    return
  end
  known[member], added[member] = false, nil
end

local function set_write(key, added)
  if not added then
    return
  end
  local list = {}
  for member in pairs(added) do
    list[#list + 1] = member
  end
  if #list > 0 then
    redis.call('SADD', key, unpack(list))
  end
end

-- The minute tallies of views per visitor and per address (`rate` hashes). For a batch of
-- several requests, `held` (rate -> field -> count, or false for none yet) holds the fields
-- wanted, read at once (tallies_read), counted in Lua, and `changed` the fields changed,
-- written at once (tallies_write), a hash made then getting its lifetime. For a batch of
-- one (`held` nil), tally_add is one HINCRBY (reading first would cost one more). Returns
-- the field's count after adding `by`
local function tally_want(held, wanted, rate, field)
  local fields = wanted[rate]
  if not fields then
    fields = {}
    wanted[rate], held[rate] = fields, {}
  end
  if held[rate][field] == nil then
    held[rate][field] = false
    fields[#fields + 1] = field
  end
end

local function tallies_read(held, wanted)
  for rate, fields in pairs(wanted) do
    local got = redis.call('HMGET', rate, unpack(fields))
    for i = 1, #fields do
      held[rate][fields[i]] = tonumber(got[i]) or false
    end
  end
end

local function tally_add(held, changed, rate, field, by)
  if not held then  -- a batch of one: counted in Redis, as it comes
    local seen = redis.call('HINCRBY', rate, field, by)
    if seen == 1 and by == 1 then
      redis.call('EXPIRE', rate, RATE_TTL, 'NX')
    end
    return seen
  end
  local seen = (held[rate][field] or 0) + by
  held[rate][field] = seen
  local fields = changed[rate]
  if not fields then
    fields = {}
    changed[rate] = fields
  end
  fields[field] = true
  return seen
end

local function tallies_write(held, changed)
  if not held then
    return
  end
  for rate, fields in pairs(changed) do
    local pairs_ = {}
    for field in pairs(fields) do
      pairs_[#pairs_ + 1], pairs_[#pairs_ + 2] = field, held[rate][field]
    end
    if #pairs_ > 0 then
      redis.call('HSET', rate, unpack(pairs_))
      redis.call('EXPIRE', rate, RATE_TTL, 'NX')
    end
  end
end

-- Traffic sources: a new visit (the first counted view of a visitor's day) adds one to its
-- source in the day's sorted set `key`: a host ("" is "(direct)"). A host not yet in the set
-- folds into "(other)" once the set holds `cap` hosts ("(direct)" and "(other)" take no
-- place). The set lives `lifetime` seconds (as the month hash holding the day's visits),
-- given when a member is made. Called for new visits only: other views cost nothing here.
-- `hosts` is the set's count of hosts as this batch knows it (nil: not read yet, read at the
-- first new host, as real_pages() reads the pages); returns it as it is after this visit.
-- For a batch of several requests, `batch` tallies the visits per source (`added`, in the
-- order of `order`), written once a source by sources_write, and knows which hosts the set
-- holds (`present`: asked once a host); for one (`batch` nil), each visit is written as it
-- comes (a known host: one ZADD XX INCR)
local function count_source(key, source, cap, lifetime, hosts, batch)
  if source == '' then
    source = '(direct)'
  else
    local present
    if batch then
      present = batch.present[source]
      if present == nil then
        present = redis.call('ZSCORE', key, source) ~= false
        batch.present[source] = present
      end
    elseif redis.call('ZADD', key, 'XX', 'INCR', 1, source) then
      return hosts  -- a host already counted today: one command
    end
    if not present then
      if not hosts then
        hosts = redis.call('ZCARD', key)
        for _, fixed in ipairs({'(direct)', '(other)'}) do
          if redis.call('ZSCORE', key, fixed) then
            hosts = hosts - 1
          end
        end
      end
      if hosts >= cap then
        source = '(other)'
      else
        hosts = hosts + 1
        if batch then
          batch.present[source] = true
        end
      end
    end
  end
  if batch then
    local added = batch.added[source]
    if not added then
      added = 0
      batch.order[#batch.order + 1] = source
    end
    batch.added[source] = added + 1
  elseif redis.call('ZINCRBY', key, 1, source) == '1' then  -- a new member: the set may be new
    redis.call('EXPIRE', key, lifetime, 'NX')
  end
  return hosts
end

local function sources_write(key, lifetime, batch)
  if not batch then
    return
  end
  local made = false
  for _, source in ipairs(batch.order) do
    local added = batch.added[source]
    made = tonumber(redis.call('ZINCRBY', key, added, source)) == added or made
  end
  if made then  -- a new member: the set may be new
    redis.call('EXPIRE', key, lifetime, 'NX')
  end
end

-- The minute tally of the request whose arguments start at ARGV[r]: the batch's one, or in a
-- batch across minutes (m of them) the one its last argument names
local function rate_key(k, n, m, r)
  if m == 1 then
    return KEYS[k + DAY_KEYS + n + 1]
  end
  return KEYS[k + DAY_KEYS + n + tonumber(ARGV[r + REQUEST_ARGS])]
end

-- one batch: its keys from KEYS[k + 1], its arguments (the day's) from ARGV[a + 1], its n
-- requests, its m minute tallies; appends its replies to `out`
local function count(k, a, n, m, out)
  local visitor_set, online_set = KEYS[k + 4], KEYS[k + 5]
  local pages_key, pages_day = KEYS[k + 6], KEYS[k + 7]
  local pages_month, ids_today, ids_yday = KEYS[k + 8], KEYS[k + 9], KEYS[k + 10]
  local other_online, ids_tmrw = KEYS[k + 11], KEYS[k + 13]
  local stride = m == 1 and REQUEST_ARGS or REQUEST_ARGS + 1
  local window, cap, limit = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 12])
  local address_limit = tonumber(ARGV[a + 13])
  local today = ARGV[a + 7]

  local yday = ARGV[a + 8]
  local this_extra = {'v', 'u', today .. 'v', today .. 'u', today .. 'p'}
  local last_extra = {}
  if ARGV[a + 9] == '1' then
    last_extra = {yday .. 'v', yday .. 'u', yday .. 'p'}
  else
    this_extra[6], this_extra[7], this_extra[8] = yday .. 'v', yday .. 'u', yday .. 'p'
  end
  local week_v, week_u = {}, {}
  local this = read(KEYS[k + 2], this_extra, ARGV[a + 10], week_v, week_u)
  local last = read(KEYS[k + 3], last_extra, ARGV[a + 11], week_v, week_u)
  week_v[#week_v + 1], week_u[#week_u + 1] = this[3], this[4]
  local total = redis.call('HMGET', KEYS[k + 1], 'v', 'u')
  local yday_v, yday_u, yday_pending, yday_month, yday_pages
  if ARGV[a + 9] == '1' then
    yday_v, yday_u, yday_pending = last[1], last[2], last[3]
    yday_month, yday_pages = KEYS[k + 3], KEYS[k + 16]
  else
    yday_v, yday_u, yday_pending = this[6], this[7], this[8]
    yday_month, yday_pages = KEYS[k + 2], pages_month
  end
  -- A day's page views go to its day tally, and to its month's once the day is rolled into
  -- the month (the day after, by the first batch that finds it pending): until then the
  -- month's tally is the rolled one plus the pending days' (month_pages.lua reads them so).
  -- A day is pending from its first counted views; one that had views before it could be
  -- (an import, a version that wrote the month's tally per view) is counted as rolled.
  local pending = not this[3] or this[5]
  if yday_pending then  -- yesterday's views join its month's tally, once
    redis.call('ZUNIONSTORE', yday_pages, 2, yday_pages, KEYS[k + 15])
    redis.call('HDEL', yday_month, yday .. 'p')
    redis.call('EXPIRE', yday_pages, ARGV[a + 6])
    redis.call('EXPIRE', KEYS[k + 15], ARGV[a + 4])  -- now read by the windows only
  end

  -- online: the site's online set, trimmed to the window at each mark, and its size as this
  -- batch knows it (read once at the first mark, then kept with what each command changed)
  local added_v, added_u, marked, online = 0, 0, false, nil
  local marked_pages = {}  -- page-online sets a reader joined: their lifetime set once
  local base = #out
  out[base + 1], out[base + 2], out[base + 3] = this[3], yday_v, week_v
  out[base + 4], out[base + 5] = this[1], total[1]
  out[base + 6], out[base + 7], out[base + 8] = this[4], yday_u, week_u
  out[base + 9], out[base + 10] = this[2], total[2]
  -- What the batch asks of the id sets, the visitor set and the minute tallies, read at once
  -- and then kept here as the requests change them (written back after the last one); a
  -- batch of one asks Redis as it goes (all of these nil)
  local known_yday, known_tmrw, known_today, known_visitors
  local added_today, added_visitors, held, changed
  if n > 1 then
    local ids, visitors, wanted = {}, {}, {}
    held, changed, added_today, added_visitors = {}, {}, {}, {}
    for i = 1, n do
      local r = a + DAY_ARGS + 1 + stride * (i - 1)
      local mode, visitor = ARGV[r], ARGV[r + 1]
      if visitor ~= '' then
        visitors[#visitors + 1] = visitor
      end
      if mode == 'hit' or mode == 'replay' then
        if ARGV[r + 4] ~= '' then
          ids[#ids + 1] = ARGV[r + 4]
        end
        local rate = rate_key(k, n, m, r)
        if address_limit > 0 and ARGV[r + 6] ~= '' then
          tally_want(held, wanted, rate, ARGV[r + 6])
        end
        if limit > 0 and visitor ~= '' then
          tally_want(held, wanted, rate, visitor)
        end
      end
    end
    known_yday, known_tmrw = set_read(ids_yday, ids), set_read(ids_tmrw, ids)
    known_today, known_visitors = set_read(ids_today, ids), set_read(visitor_set, visitors)
    tallies_read(held, wanted)
  end
  local with_ids, refused = false, {}
  -- the day's hosts: read at the first new one
  local source_cap, hosts, sources = tonumber(ARGV[a + 15]), nil, nil
  if n > 1 then
    sources = {added = {}, order = {}, present = {}}
  end
  -- the site's distinct pages, "(other)" not among them: read only when a path is new
  local pages = nil
  local function real_pages()
    if not pages then
      pages = redis.call('ZCARD', pages_key)
      if redis.call('ZSCORE', pages_key, OTHER) then
        pages = pages - 1
      end
    end
    return pages
  end
  local function refuse(reason)  -- a hit not counted, for `reason`: tallied, written once
    refused[reason] = (refused[reason] or 0) + 1
  end

  for i = 1, n do
    local r = a + DAY_ARGS + 1 + stride * (i - 1)
    local mode, visitor, previous = ARGV[r], ARGV[r + 1], ARGV[r + 2]
    local path, view_id, address = ARGV[r + 3], ARGV[r + 4], ARGV[r + 6]
    local now = tonumber(ARGV[r + 5])
    local page_online, rate = KEYS[k + DAY_KEYS + i], rate_key(k, n, m, r)

    local counted, flags = 0, 0
    if mode == 'hit' or mode == 'replay' then
      counted = 1
      -- counted yesterday, today, or tomorrow (a kept copy replayed after its retry came live
      -- past midnight): a duplicate
      if view_id ~= '' and (set_has(ids_yday, known_yday, view_id)
          or set_has(ids_tmrw, known_tmrw, view_id)
          or not set_add(ids_today, known_today, added_today, view_id)) then
        counted, flags = 0, 16
        refuse('duplicate')
      end
      -- the views counted from the client's address in the minute, then the visitor's; past
      -- either limit, refused (and its id not kept: it was not counted). One refused by its
      -- address leaves its visitor no view; one refused by its visitor gives its address's
      -- view back. Views kept through an outage come without an address (and without a
      -- visitor when it was not known): those pass.
      local by_address = counted == 1 and address_limit > 0 and address ~= ''
      if by_address and tally_add(held, changed, rate, address, 1) > address_limit then
        counted, flags = 0, 8
      end
      if counted == 1 and limit > 0 and visitor ~= ''
          and tally_add(held, changed, rate, visitor, 1) > limit then
        counted, flags = 0, 8
        if by_address then
          tally_add(held, changed, rate, address, -1)
        end
      end
      if flags == 8 then
        refuse('rate_limited')
        if view_id ~= '' then
          set_remove(ids_today, known_today, added_today, view_id)
        end
      end
      with_ids = with_ids or (counted == 1 and view_id ~= '')
    elseif mode ~= 'read' and mode ~= 'ping' then
      refuse(string.sub(mode, 8))
    end

    -- A path not in the registry folds into "(other)" once the site has `cap` pages (a page
    -- registered with 0 views, by an import, is in it: ZADD XX tells absent from 0). The
    -- path "" is no page (a badge not told its page's path): the site's figures only.
    local known, page_total, page_today = path ~= '', 0, 0
    if counted == 1 and known then
      page_total = redis.call('ZADD', pages_key, 'XX', 'INCR', 1, path)
      if not page_total then
        if real_pages() >= cap then
          path, page_online, flags = OTHER, other_online, 4
        else
          pages = pages + 1
        end
        page_total = redis.call('ZINCRBY', pages_key, 1, path)
      end
      page_total = tonumber(page_total)
      page_today = tonumber(redis.call('ZINCRBY', pages_day, 1, path))
      if not pending then
        redis.call('ZINCRBY', pages_month, 1, path)
      end
    elseif known then
      local score = redis.call('ZSCORE', pages_key, path)
      if not score and real_pages() >= cap then
        path, page_online, flags = OTHER, other_online, flags + 4
        score = redis.call('ZSCORE', pages_key, path)
      end
      known, page_total = score ~= false, tonumber(score) or 0
      page_today = tonumber(redis.call('ZSCORE', pages_day, path)) or 0
    end
    if counted == 1 then
      added_v, flags = added_v + 1, flags + 1
      if visitor ~= '' and set_add(visitor_set, known_visitors, added_visitors, visitor) then
        added_u, flags = added_u + 1, flags + 2
        hosts = count_source(KEYS[k + 14], ARGV[r + 7], source_cap, ARGV[a + 5], hosts, sources)
      end
    end

    -- numbers given to Redis as text made once (Lua would format one at each use)
    local since = now - window
    local now_text, since_text = ARGV[r + 5], string.format('%d', since)
    -- a hit not counted, and a heartbeat, mark online only a visitor counted today or one
    -- online under yesterday's id (the same reader past midnight): new User-Agents without a
    -- counted view add no one, so the online sets grow no faster than the limits let count
    local mark = (mode == 'hit' or mode == 'ping') and visitor ~= ''
    if mark and counted == 0 and not set_has(visitor_set, known_visitors, visitor) then
      local seen = previous ~= '' and redis.call('ZSCORE', online_set, previous)
      mark = seen and tonumber(seen) >= since or false
    end
    -- A mark trims the sets it writes to the window (the readers seen before `since` leave
    -- them), so their size is the count: cheaper than counting a range of a sorted set
    local at = #out
    if mark then
      marked = true
      local changed, before = 0, '(' .. since_text
      if previous ~= '' then
        changed = -redis.call('ZREM', online_set, previous)
      end
      changed = changed + redis.call('ZADD', online_set, 'GT', now_text, visitor)
          - redis.call('ZREMRANGEBYSCORE', online_set, '-inf', before)
      online = online and online + changed or redis.call('ZCARD', online_set)
      if known then
        if previous ~= '' then
          redis.call('ZREM', page_online, previous)
        end
        redis.call('ZADD', page_online, 'GT', now_text, visitor)
        redis.call('ZREMRANGEBYSCORE', page_online, '-inf', before)
        marked_pages[page_online] = true  -- to live one window after its last reader
        out[at + 3] = redis.call('ZCARD', page_online)
      end
      out[at + 2] = online
    else
      out[at + 2] = redis.call('ZCOUNT', online_set, since_text, '+inf')
    end
    out[at + 1] = flags
    out[at + 3] = out[at + 3] or redis.call('ZCOUNT', page_online, since_text, '+inf')
    out[at + 4], out[at + 5] = page_today, page_total
  end

  for page_online in pairs(marked_pages) do
    redis.call('PEXPIRE', page_online, ARGV[a + 1])
  end

  -- What the requests changed in the sets and tallies read at the start, written once
  set_write(ids_today, added_today)
  set_write(visitor_set, added_visitors)
  sources_write(KEYS[k + 14], ARGV[a + 5], sources)
  tallies_write(held, changed)
  for reason, times in pairs(refused) do  -- the day's tally of refusals: lifetime when made
    if redis.call('HINCRBY', KEYS[k + 12], reason, times) == times then
      redis.call('EXPIRE', KEYS[k + 12], ARGV[a + 5], 'NX')
    end
  end

  -- The batch's increments, written once; daily and monthly keys get their lifetime when made:
  -- the day's first counted views make the month hash, the day's visitor set and page
  -- tallies (whatever else writes them, imports, must set it too)
  if added_v > 0 then
    redis.call('HINCRBY', KEYS[k + 1], 'v', added_v)
    redis.call('HINCRBY', KEYS[k + 2], 'v', added_v)
    -- the day's first views; or, when an import wrote today's figures first, the batch
    -- that made today's visitor set (the day's first counted view is always a new visit)
    local first = redis.call('HINCRBY', KEYS[k + 2], today .. 'v', added_v) == added_v
        or (added_u > 0 and redis.call('SCARD', visitor_set) == added_u)
    if added_u > 0 then
      redis.call('HINCRBY', KEYS[k + 1], 'u', added_u)
      redis.call('HINCRBY', KEYS[k + 2], 'u', added_u)
      redis.call('HINCRBY', KEYS[k + 2], today .. 'u', added_u)
    end
    if not this[3] then  -- today's first views: today is pending
      redis.call('HSET', KEYS[k + 2], today .. 'p', 1)
    end
    if first then
      redis.call('EXPIRE', KEYS[k + 2], ARGV[a + 5], 'NX')
      redis.call('EXPIRE', visitor_set, ARGV[a + 3], 'NX')
      -- a pending day's tally holds views its month's does not: kept as long as the month's
      redis.call('EXPIRE', pages_day, pending and ARGV[a + 6] or ARGV[a + 4], 'NX')
      -- a month's page tallies made before the upgrade that gave them the month hash's
      -- lifetime kept their 62 days (NX): the day's first batch lengthens a lifetime more
      -- than a month short of this one (one TTL a site and day; one made since never is)
      if redis.call('EXPIRE', pages_month, ARGV[a + 6], 'NX') == 0
          and redis.call('TTL', pages_month) < tonumber(ARGV[a + 6]) - 32 * 86400 then
        redis.call('EXPIRE', pages_month, ARGV[a + 6], 'GT')
      end
    end
    if with_ids then  -- the day's id set may come later than its first views
      redis.call('EXPIRE', ids_today, ARGV[a + 14], 'NX')
    end
  end
  if marked then
    redis.call('PEXPIRE', online_set, ARGV[a + 1])
  end
end

local out, k, a = {}, 0, 0
while a < #ARGV do
  local n, m = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  -- a batch that fails (a key of the wrong type, say) fails alone: its place in the reply
  -- holds the error's text instead of its figures
  local mark = #out
  out[mark + 1] = 1
  local ok, err = pcall(count, k, a + 2, n, m, out)
  if not ok then
    for i = #out, mark + 1, -1 do
      out[i] = nil
    end
    out[mark + 1] = tostring(type(err) == 'table' and err.err or err)
  end
  k = k + DAY_KEYS + n + m
  a = a + 2 + DAY_ARGS + (m == 1 and REQUEST_ARGS or REQUEST_ARGS + 1) * n
end
return out
