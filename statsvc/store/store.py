"""All access to Redis or Valkey: site settings, salts and the counting script."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from importlib.resources import files
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

from statsvc.core.calendar import Windows
from statsvc.core.keys import Keys
from statsvc.core.pageview import OTHER_PAGE
from statsvc.core.site import Site, site_from_json

Mode = Literal["hit", "ping", "read"]
# why a hit was not counted (the rejected-traffic report): the script records `duplicate`
# itself, the counter the others as a read with a reason
REASONS = ("bot", "prefetch", "rate_limited", "origin", "dnt", "duplicate")
SALT_TTL = 2 * 86400  # a day's salt outlives the longest local day, then is gone
SHORT_TTL = 3 * 86400  # today's visitor and page-view id sets are read until tomorrow ends
PAGE_DAY_TTL = 8 * 86400  # daily page tallies serve the today, yesterday and week windows
PAGE_MONTH_TTL = 62 * 86400  # monthly page tallies serve the month window
MAX_BATCH = 256  # requests in one script run (it holds Redis while it runs)
MAX_CACHED_HEADS = 20_000  # packed day keys and arguments, one per site and day
MAX_CONNECTIONS = 32  # per process: counting takes one, site and salt look-ups the rest
REQUEST_ARGS = 6  # script arguments per request
COUNTED, NEW_VISIT, FOLDED, RATE_LIMITED = 1, 2, 4, 8  # the script's flags of a request
AUDIT_CAP = 1000  # entries kept in a site's audit trail
MAX_TOKENS = 100  # read-only tokens of one site
StoreError = RedisError
STORE_FAILURES = (RedisError, RedisClusterException)  # what a store call raises when it fails
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# a cluster's answers that a script did not run (a slot moving, a failover): run it again
NOT_RUN = (AskError, TryAgainError, ClusterDownError)  # MOVED is an AskError too
# of the failures, those that say the store cannot take the request now (down, frozen,
# loading, failing over, a slot moving, out of memory, a replica where the primary was),
# not that the request itself is wrong: a hit may be kept and counted later
UNREACHABLE = (
    StoreConnectionError,
    StoreTimeoutError,
    RedisClusterException,
    OutOfMemoryError,
    ReadOnlyError,
    *NOT_RUN,
)
REDIRECT_PAUSE = 0.05  # seconds between runs again while a slot moves or a failover ends
# how long a run a cluster refused is tried again before its hits are kept for later: short,
# for the other sites' requests of the same flush wait for it
REDIRECT_WINDOW = 0.25
LANE_REST = 2.0  # seconds a server that failed to answer is not asked again, at most
REFRESH_INTERVAL = 1.0  # seconds between reads of the slot map after other failures


class StoreUnavailable(StoreConnectionError):
    """The store cannot be reached, and what was asked cannot wait for it."""


class ScriptError(ResponseError):
    """The counting script failed for one batch (a key of the wrong type, say): running it
    again would fail again."""


class Figures(NamedTuple):
    """Views or visits over the windows of DESIGN §1."""

    today: int
    yesterday: int
    week: int
    month: int
    total: int


class Counts(NamedTuple):
    """What one run of the counting script did and read back (a tuple: made once per hit)."""

    counted: bool
    path: str
    online: int
    page_online: int
    views: Figures
    visits: Figures
    page_today: int
    page_total: int
    rate_limited: bool = False  # not counted: the visitor's views this minute reached the limit


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of what the store keeps, and of what one visitor may count."""

    retention_days: int = 400
    page_cap: int = 50_000
    rate_limit: int = 30  # counted views per visitor, site and minute (0: no limit)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """An import, checked and laid out as the import script takes it."""

    import_id: str
    digest: str
    entry: dict[str, Any]  # its audit entry
    views: int  # added to the total
    visits: int
    months: list[tuple[str, int, list[tuple[int, int, int]]]]  # month, lifetime, (DD, v, u)
    rejected: list[tuple[date, dict[str, int]]]  # refused hits by reason, of days
    pages: list[tuple[str, int]]  # page totals


@dataclass(slots=True)
class _Day:
    """The requests for one site and local day waiting for the next script run, each kept
    already packed as the protocol's bulk strings (packing is most of a client's work)."""

    keys: bytes  # the day's keys, packed
    args: bytes  # the day's arguments, packed
    counts: tuple[int, int]  # how many of each
    slot: int  # the cluster slot of the site's keys (0 on a single server)
    page_keys: list[bytes] = field(default_factory=list)
    rate_keys: list[bytes] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    waiting: list[asyncio.Future[Counts]] = field(default_factory=list)

    def size(self) -> tuple[int, int]:
        """Return how many keys and arguments this batch takes in a script run."""
        n = len(self.requests)
        return self.counts[0] + 2 * n, 1 + self.counts[1] + REQUEST_ARGS * n


def evalsha(sha: bytes, days: list[_Day]) -> bytes:
    """Return the EVALSHA that runs these batches in one script run, packed."""
    sizes = [day.size() for day in days]
    keys, args = sum(k for k, _ in sizes), sum(a for _, a in sizes)
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n" % (3 + keys + args), bulk(sha), bulk(b"%d" % keys)]
    for day in days:
        parts += (day.keys, *day.page_keys, *day.rate_keys)
    for day in days:
        parts += (bulk(b"%d" % len(day.requests)), day.args, *day.requests)
    return b"".join(parts)


def bulk(value: bytes) -> bytes:
    """Return `value` as a bulk string of the Redis protocol."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def packed(*values: str | int) -> bytes:
    """Return the values as bulk strings of the Redis protocol."""
    return b"".join(bulk(v.encode() if isinstance(v, str) else b"%d" % v) for v in values)


@dataclass(slots=True)
class _Lane:
    """The connection counting runs on to one server, held once made, and whether that
    server has the script."""

    connection: Any
    loaded: bool = False
    resting_until: float = 0.0  # after the server failed to answer: fail at once until then


class Store:
    """The statsvc data in one Redis or Valkey server, or in a Redis Cluster.

    Counting requests that arrive together are batched: one batch per site and day, the
    batches of an event-loop turn in one script run (up to MAX_BATCH requests), each caller
    awaiting its own reply. In a cluster a run holds the batches of one slot only, and the
    runs for each primary go to it in one write.
    """

    def __init__(
        self, client: Redis | RedisCluster, keys: Keys, limits: Limits, timeout: float = 1.0
    ) -> None:
        self._redis: Any = client  # the two clients share the commands used here
        self._cluster = client if isinstance(client, RedisCluster) else None
        self._lanes: dict[str, _Lane] = {}
        self._timeout = timeout
        self._refreshed = 0.0  # when the cluster's slot map was last read again (loop time)
        self._keys = keys
        self._limits = limits
        self._script = files("statsvc.store.lua").joinpath("count.lua").read_text(encoding="utf-8")
        self._sha = hashlib.sha1(self._script.encode(), usedforsecurity=False).hexdigest()
        self._pending: dict[tuple[str, date], _Day] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._heads: dict[tuple[str, date, int, str], _Day] = {}
        self.batches = 0  # script runs so far (for tests and benchmarks)

    @classmethod
    def from_url(cls, url: str, keys: Keys, limits: Limits, *, timeout: float = 1.0) -> Store:
        """Open a store: `redis://`, `rediss://` or `unix://` for one server,
        `redis+cluster://host:port[,host:port…]` for a cluster. Counting is never retried
        blindly (a lost reply must not double count)."""
        scheme = url.partition("://")[0].lower()
        if scheme in CLUSTER_SCHEMES:
            return cls(cluster_client(url, timeout), keys, limits, timeout)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout,  # a request waits this long for a free connection, then fails
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        return cls(Redis.from_pool(pool), keys, limits, timeout)

    async def close(self) -> None:
        """Answer what is pending, then close the connections; later counting fails."""
        self._closed = True
        if self._flusher is not None:
            await asyncio.gather(asyncio.shield(self._flusher), return_exceptions=True)
        for lane in self._lanes.values():
            await lane.connection.disconnect()
        self._lanes.clear()
        await self._redis.aclose()

    async def ready(self) -> bool:
        """Tell whether the server (every primary of a cluster) answers."""
        try:
            return bool(await self._redis.ping())
        except STORE_FAILURES:
            return False

    async def reachable(self) -> bool:
        """PING each server (each primary of a cluster) on a connection of its own, not the
        counting one; let counting use at once those that answer; tell whether any did."""
        if self._cluster is None:
            answers = await self.ready()
            nodes = [("", answers)]
        else:
            try:
                await self._cluster.initialize()
            except STORE_FAILURES:
                return False
            primaries = self._cluster.get_primaries()
            pongs = await asyncio.gather(
                *(self._cluster.ping(target_nodes=node) for node in primaries),
                return_exceptions=True,
            )
            nodes = [(n.name, p is True) for n, p in zip(primaries, pongs, strict=True)]
        for name, answers in nodes:
            lane = self._lanes.get(name)
            if answers and lane is not None:
                lane.resting_until = 0.0
        return any(answers for _, answers in nodes)

    async def get_site(self, site_id: str) -> Site | None:
        """Return a site's settings, or None for an unknown site."""
        raw = await self._redis.get(self._keys.site(site_id))
        if raw is None:
            return None
        return site_from_json(site_id, json.loads(raw))

    async def put_site(self, site: Site, *, only_new: bool = False) -> bool:
        """Store a site's settings; with only_new, only if the site does not exist yet."""
        data = json.dumps(site.to_json(), ensure_ascii=False)
        stored = await self._redis.set(self._keys.site(site.id), data, nx=only_new)
        if stored:
            await self._redis.sadd(self._keys.sites(), site.id)
        return bool(stored)

    async def site_ids(self) -> list[str]:
        """Return every site id, sorted."""
        members = await self._redis.smembers(self._keys.sites())
        return sorted(_bytes(m).decode() for m in members)

    async def salt(self, site_id: str, day: date) -> bytes:
        """Return the salt of a site's visitor ids on a local day, making it on first use."""
        fresh = secrets.token_bytes(32)
        old = await self._redis.set(
            self._keys.salt(site_id, day), fresh, nx=True, get=True, ex=SALT_TTL
        )
        return old if isinstance(old, bytes) else fresh

    def count(
        self,
        mode: Mode,
        site: Site,
        windows: Windows,
        *,
        path: str,
        now_ms: int,
        visitor: str = "",
        previous: str = "",
        view_id: str | None = None,
        reason: str = "",
    ) -> asyncio.Future[Counts]:
        """Count a hit, refresh a heartbeat, or only read: joins the next script run. A read
        with a `reason` (one of REASONS) records a hit refused for that reason."""
        if self._closed:
            raise StoreConnectionError("the store is closed")
        mode_arg: str = mode
        if reason:
            if mode != "read" or reason not in REASONS:
                raise ValueError(f"a refusal is a read with a known reason, not {reason!r}")
            mode_arg = "refuse:" + reason
        day = self._pending.get((site.id, windows.today))
        if day is None:
            day = self._pending[(site.id, windows.today)] = self._day(site, windows)
        day.page_keys.append(packed(self._keys.page_online(site.id, path)))
        # the minute of the request, not of the batch: a batch may straddle two minutes
        day.rate_keys.append(packed(self._keys.rate(site.id, now_ms // 60_000)))
        day.requests.append(packed(mode_arg, visitor, previous, path, view_id or "", now_ms))
        day.paths.append(path)
        if self._loop is None:  # asked once: on Python 3.11 each asking is a getpid() call
            self._loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Counts] = self._loop.create_future()
        day.waiting.append(waiter)
        if self._flusher is None or self._flusher.done():
            self._flusher = self._loop.create_task(self._flush())
        return waiter

    def _day(self, site: Site, windows: Windows) -> _Day:
        """Return a new batch for a site and day; its keys and arguments, packed, are kept
        for the next batches of that site, day and online window."""
        key = (site.id, windows.today, site.online_window, site.week_start)
        head = self._heads.get(key)
        if head is None:
            limits = self._limits
            keys = self._keys.day(site.id, windows)
            args: list[str | int] = [
                site.online_window * 1000,
                limits.page_cap,
                SHORT_TTL,
                PAGE_DAY_TTL,
                (limits.retention_days + 31) * 86400,
                PAGE_MONTH_TTL,
                *windows.day_fields(),
                limits.rate_limit,
            ]
            if len(self._heads) >= MAX_CACHED_HEADS:
                self._heads.clear()
            head = self._heads[key] = _Day(
                keys=packed(*keys),
                args=packed(*args),
                counts=(len(keys), len(args)),
                slot=key_slot(keys[0].encode()) if self._cluster else 0,
            )
        return _Day(keys=head.keys, args=head.args, counts=head.counts, slot=head.slot)

    async def _flush(self) -> None:
        """Send what is pending, one pipeline at a time, until nothing is."""
        runs: list[list[_Day]] = []
        try:
            while self._pending:
                await asyncio.sleep(0)  # let the requests of this loop turn join the batch
                days, self._pending = list(self._pending.values()), {}
                runs = _runs(days)
                try:
                    replies = await self._run(runs)
                except Exception as exc:  # every waiter must hear of it, whatever it is
                    replies = [exc] * len(runs)
                for run, reply in zip(runs, replies, strict=True):
                    _answer(run, reply)
        except BaseException:  # cancelled: nobody may be left waiting
            gone = StoreConnectionError("the store was closed before it answered")
            for day in [day for run in runs for day in run] + list(self._pending.values()):
                _fail(day.waiting, gone)
            self._pending = {}
            raise

    async def _run(self, runs: list[list[_Day]]) -> list[Any]:
        """Run the script once per run, on the server or, in a cluster, on each run's primary."""
        if self._cluster is None:
            lane = self._lanes.get("")
            if lane is None:
                pool = self._redis.connection_pool
                lane = self._lanes[""] = _Lane(await pool.get_connection())
            return await self._run_on(lane, runs)
        return await self._run_on_cluster(self._cluster, runs)

    async def _run_on_cluster(self, cluster: RedisCluster, runs: list[list[_Day]]) -> list[Any]:
        """Send each primary its runs; run again, on the slot's new primary, those a moving
        slot or a failover refused (refused, they did not run), for REDIRECT_WINDOW at most;
        then their hits are told the store cannot take them now (and are kept)."""
        await cluster.initialize()  # the slot map, read on first use
        replies: list[Any] = [None] * len(runs)
        todo = list(range(len(runs)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(self._timeout, REDIRECT_WINDOW)
        while True:
            by_node: dict[str, tuple[ClusterNode, list[int]]] = {}
            for n in todo:
                try:
                    node = cluster.nodes_manager.get_node_from_slot(runs[n][0].slot)
                except RedisClusterException as exc:  # no node serves that slot now
                    replies[n] = exc
                    continue
                by_node.setdefault(node.name, (node, []))[1].append(n)
            results = await asyncio.gather(
                *(
                    self._run_on(self._lane(node), [runs[n] for n in ns])
                    for node, ns in by_node.values()
                ),
                return_exceptions=True,
            )
            for (_, ns), result in zip(by_node.values(), results, strict=True):
                for at, n in enumerate(ns):
                    replies[n] = result if isinstance(result, BaseException) else result[at]
            failed = any(isinstance(replies[n], STORE_FAILURES) for n in todo)
            todo = [n for n in todo if isinstance(replies[n], NOT_RUN)]
            if failed:
                await self._refresh(cluster, at_once=bool(todo))
            if not todo or loop.time() >= deadline:
                return replies
            await asyncio.sleep(REDIRECT_PAUSE)

    async def _refresh(self, cluster: RedisCluster, *, at_once: bool) -> None:
        """Read the slot map again: at once after a redirection, at most once a second after
        other failures (a node that is down fails every run sent to it)."""
        now = asyncio.get_running_loop().time()
        if not at_once and now - self._refreshed < REFRESH_INTERVAL:
            return
        self._refreshed = now
        with suppress(*STORE_FAILURES):  # the runs already say what failed; the next tries again
            await cluster.nodes_manager.initialize()

    def _lane(self, node: ClusterNode) -> _Lane:
        lane = self._lanes.get(node.name)
        if lane is None:
            lane = self._lanes[node.name] = _Lane(node.acquire_connection())
        return lane

    async def _run_on(self, lane: _Lane, runs: list[list[_Day]]) -> list[Any]:
        """Run the script once per run on one server; load it first where the server lacks it.
        A server that just failed to answer is not asked again for LANE_REST seconds, or until
        a PING says it is back (reachable): the requests meanwhile fail at once (and hits are
        kept) instead of each waiting out the timeout on a frozen server."""
        now = asyncio.get_running_loop().time()
        if now < lane.resting_until:
            raise StoreConnectionError("the store did not answer a moment ago")
        try:
            replies = await self._pipeline(lane, runs)
        except (StoreConnectionError, StoreTimeoutError, OSError):
            lane.resting_until = asyncio.get_running_loop().time() + LANE_REST
            raise
        missing = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:  # a restarted server: nothing ran for those, so running them again is safe
            lane.loaded = False
            try:
                again = await self._pipeline(lane, [runs[n] for n in missing])
            except Exception as exc:  # only those runs failed: the others did count
                again = [exc] * len(missing)
            for n, reply in zip(missing, again, strict=True):
                replies[n] = reply
        return replies

    async def _pipeline(self, lane: _Lane, runs: list[list[_Day]]) -> list[Any]:
        """Send the runs in one write on a lane's connection; read one reply each."""
        connection = lane.connection
        commands = [evalsha(self._sha.encode(), run) for run in runs]
        if not lane.loaded:
            commands.insert(0, b"*3\r\n" + packed("SCRIPT", "LOAD", self._script))
        self.batches += len(runs)
        try:
            await connection.send_packed_command(b"".join(commands))
            replies = [await _reply(connection) for _ in commands]
        except BaseException:
            await connection.disconnect()  # the replies are lost with it: start clean next time
            raise
        if not lane.loaded:  # if loading failed, the runs say so themselves (NOSCRIPT)
            lane.loaded = not isinstance(replies.pop(0), Exception)
        return replies

    # -- the admin API: figures by day and page, tokens, the audit trail, imports ----------
    # (plain commands and registered scripts, off the hit path; every key of one site)

    @property
    def limits(self) -> Limits:
        """Return the bounds of what this store keeps."""
        return self._limits

    @cached_property
    def _adjust_script(self) -> AsyncScript:
        script: AsyncScript = self._redis.register_script(_lua("adjust.lua"))
        return script

    @cached_property
    def _import_script(self) -> AsyncScript:
        script: AsyncScript = self._redis.register_script(_lua("import.lua"))
        return script

    async def totals(self, site_id: str) -> tuple[int, int]:
        """Return a site's all-time views and visits."""
        views, visits = await self._redis.hmget(self._keys.total(site_id), ["v", "u"])
        return _int(views), _int(visits)

    async def day_figures(self, site_id: str, days: Sequence[date]) -> list[tuple[int, int]]:
        """Return the views and visits of each day: one HMGET per month, pipelined."""
        months: dict[str, list[date]] = {}
        for day in days:
            months.setdefault(day.strftime("%Y-%m"), []).append(day)
        pipe = self._redis.pipeline(transaction=False)
        for month, in_month in months.items():
            fields = [f"{day.day:02d}{kind}" for day in in_month for kind in "vu"]
            pipe.hmget(self._keys.month(site_id, month), fields)
        figures: dict[date, tuple[int, int]] = {}
        for in_month, got in zip(months.values(), await pipe.execute(), strict=True):
            for n, day in enumerate(in_month):
                figures[day] = (_int(got[2 * n]), _int(got[2 * n + 1]))
        return [figures[day] for day in days]

    async def month_days(self, site_id: str, months: Sequence[str]) -> dict[date, tuple[int, int]]:
        """Return every day of these months ("YYYY-MM") that has figures, with them."""
        pipe = self._redis.pipeline(transaction=False)
        for month in months:
            pipe.hgetall(self._keys.month(site_id, month))
        days: dict[date, list[int]] = {}
        for month, fields in zip(months, await pipe.execute(), strict=True):
            for name, value in fields.items():
                field_name = _bytes(name).decode()
                if len(field_name) == 3 and field_name[:2].isdigit():
                    day = date.fromisoformat(f"{month}-{field_name[:2]}")
                    figures = days.setdefault(day, [0, 0])
                    figures[field_name[2] == "u"] = _int(value)
        return {day: (v, u) for day, (v, u) in sorted(days.items())}

    async def rejected(self, site_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        """Return each day's hits not counted, by reason."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self._keys.rejected(site_id, day))
        return [
            {_bytes(reason).decode(): _int(n) for reason, n in tally.items()}
            for tally in await pipe.execute()
        ]

    async def page_views(
        self, site_id: str, *, days: Sequence[date] = (), month: str | None = None, limit: int
    ) -> list[tuple[str, int]]:
        """Return the most viewed pages, most viewed first (ties by path): of the days given
        (summed), else of the month given, else of all time."""
        scored: Any  # pairs (path, views)
        if len(days) > 1:  # a week: its days summed (ZUNION of one site's keys, one slot)
            keys = [self._keys.pages_day(site_id, day) for day in days]
            scored = await self._redis.zunion(keys, withscores=True)
        else:
            if days:
                key = self._keys.pages_day(site_id, days[0])
            elif month:
                key = self._keys.pages_month(site_id, month)
            else:
                key = self._keys.pages(site_id)
            scored = await self._redis.zrange(key, 0, limit - 1, desc=True, withscores=True)
            if len(scored) == limit:  # the last views may be shared: take the first paths
                last = scored[-1][1]
                kept = [page for page in scored if page[1] > last]
                scored = kept + await self._redis.zrangebyscore(
                    key, last, last, start=0, num=limit - len(kept), withscores=True
                )
        pages = [(path.decode(), int(score)) for path, score in scored]
        pages.sort(key=lambda page: (-page[1], page[0]))
        return pages[:limit]

    async def save_settings(self, site: Site, entry: dict[str, Any]) -> None:
        """Store a site's settings and record the change in its audit trail, atomically."""
        data = json.dumps(site.to_json(), ensure_ascii=False)
        await self._adjust(site.id, self._keys.site(site.id), "set", "", data, entry)
        await self._redis.sadd(self._keys.sites(), site.id)

    async def token(self, site_id: str, token_id: str) -> dict[str, Any] | None:
        """Return the record of a site's read-only token, or None."""
        raw = await self._redis.hget(self._keys.tokens(site_id), token_id)
        return None if raw is None else dict(json.loads(raw))

    async def tokens(self, site_id: str) -> dict[str, dict[str, Any]]:
        """Return the records of a site's read-only tokens by token id."""
        records = await self._redis.hgetall(self._keys.tokens(site_id))
        return {_bytes(k).decode(): json.loads(v) for k, v in records.items()}

    async def add_token(
        self, site_id: str, token_id: str, record: dict[str, Any], entry: dict[str, Any]
    ) -> bool:
        """Add a token record and its audit entry, atomically; False if the site has
        MAX_TOKENS tokens already."""
        key, data = self._keys.tokens(site_id), json.dumps(record)
        return await self._adjust(site_id, key, "hset", token_id, data, entry)

    async def remove_token(self, site_id: str, token_id: str, entry: dict[str, Any]) -> bool:
        """Remove a token and record it in the audit trail, atomically; False if there was none."""
        return await self._adjust(site_id, self._keys.tokens(site_id), "hdel", token_id, "", entry)

    async def _adjust(
        self, site_id: str, key: str, op: str, name: str, value: str, entry: dict[str, Any]
    ) -> bool:
        keys = [key, self._keys.audit(site_id)]
        audit = json.dumps(entry, ensure_ascii=False)
        args: list[str | int] = [op, name, value, MAX_TOKENS, audit, AUDIT_CAP]
        return int(await self._adjust_script(keys=keys, args=args)) == 1

    async def audit(self, site_id: str, limit: int) -> list[dict[str, Any]]:
        """Return the latest entries of a site's audit trail, newest first."""
        entries = await self._redis.lrange(self._keys.audit(site_id), 0, limit - 1)
        return [json.loads(entry) for entry in entries]

    async def apply_import(self, site_id: str, plan: ImportPlan) -> str:
        """Apply an import unless its id was applied before: "applied", or "same" / "different"
        (the id was applied with the same / another digest; nothing changed)."""
        keys = [
            self._keys.total(site_id),
            self._keys.imports(site_id),
            self._keys.audit(site_id),
            self._keys.pages(site_id),
            *(self._keys.month(site_id, month) for month, _, _ in plan.months),
            *(self._keys.rejected(site_id, day) for day, _ in plan.rejected),
        ]
        args: list[str | int] = [
            plan.import_id,
            plan.digest,
            json.dumps(plan.entry, ensure_ascii=False),
            AUDIT_CAP,
            plan.views,
            plan.visits,
            self._limits.page_cap,
            len(plan.months),
            len(plan.rejected),
            len(plan.pages),
            (self._limits.retention_days + 31) * 86400,
        ]
        for _, lifetime, days in plan.months:
            args += [lifetime, len(days)]
            for day, views, visits in days:
                args += [f"{day:02d}", views, visits]
        for _, tally in plan.rejected:
            args.append(len(tally))
            for reason, n in tally.items():
                args += [reason, n]
        for path, views in plan.pages:
            args += [path, views]
        return _bytes(await self._import_script(keys=keys, args=args)).decode()

    # -- dashboard sessions: one expiring key each, named by a digest of the cookie ---------

    async def put_session(self, digest: str, session: dict[str, Any], lifetime: int) -> None:
        """Keep a dashboard session for `lifetime` seconds."""
        await self._redis.set(self._keys.session(digest), json.dumps(session), ex=lifetime)

    async def session(self, digest: str) -> dict[str, Any] | None:
        """Return a dashboard session, or None if it ended or expired."""
        raw = await self._redis.get(self._keys.session(digest))
        return None if raw is None else dict(json.loads(raw))

    async def end_session(self, digest: str) -> None:
        """End a dashboard session at once."""
        await self._redis.delete(self._keys.session(digest))


def cluster_client(url: str, timeout: float) -> RedisCluster:
    """Return a cluster client for `redis+cluster://[user:password@]host:port[,host:port…]`."""
    scheme, _, rest = url.partition("://")
    rest = rest.partition("/")[0].partition("?")[0]
    auth, _, hosts = rest.rpartition("@")
    username, _, password = auth.partition(":") if ":" in auth else ("", "", auth)
    nodes = []
    for address in hosts.split(","):
        host, _, port = address.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a cluster node must be host:port, not {address!r}")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    return RedisCluster(
        startup_nodes=nodes,
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=CLUSTER_SCHEMES[scheme.lower()] == "rediss",
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=MAX_CONNECTIONS,
        # nothing is sent again blindly (the admin scripts write too); redirections (MOVED,
        # ASK) are followed all the same
        retry=Retry(NoBackoff(), 0),
    )


async def _reply(connection: Any) -> Any:
    """Read one reply; an error reply is returned, not raised (it is one run's, not all)."""
    try:
        return await connection.read_response()
    except ResponseError as error:
        return error


def _runs(days: list[_Day]) -> list[list[_Day]]:
    """Share the batches out into script runs of at most MAX_BATCH requests each, a run's
    batches all of one slot (on a single server, all are of slot 0)."""
    runs: list[list[_Day]] = [[]]
    room = MAX_BATCH
    for day in sorted(days, key=_slot):
        for start in range(0, len(day.waiting), MAX_BATCH):
            part = _slice(day, start)
            if len(part.waiting) > room or (runs[-1] and runs[-1][0].slot != part.slot):
                runs.append([])
                room = MAX_BATCH
            runs[-1].append(part)
            room -= len(part.waiting)
    return runs


def _slot(day: _Day) -> int:
    return day.slot


def _slice(day: _Day, start: int) -> _Day:
    """Return the requests start..start+MAX_BATCH of a day, as one batch."""
    if start == 0 and len(day.waiting) <= MAX_BATCH:
        return day
    end = start + MAX_BATCH
    return _Day(
        keys=day.keys,
        args=day.args,
        counts=day.counts,
        slot=day.slot,
        page_keys=day.page_keys[start:end],
        rate_keys=day.rate_keys[start:end],
        requests=day.requests[start:end],
        paths=day.paths[start:end],
        waiting=day.waiting[start:end],
    )


def _fail(waiting: list[asyncio.Future[Counts]], error: Exception) -> None:
    for waiter in waiting:
        if not waiter.done():
            waiter.set_exception(error)


def _batch_error(text: str) -> ResponseError:
    """Return the error a batch failed with: passing (out of memory, a replica), or its own."""
    if text.startswith("OOM"):
        return OutOfMemoryError(text)
    if text.startswith("READONLY"):
        return ReadOnlyError(text)
    return ScriptError(text)


def _answer(run: list[_Day], reply: list[Any] | Exception) -> None:
    """Hand each request its counts: the figures before its batch plus the views and visits
    of the requests before it and its own, as the script's flags tell. A batch that failed
    (the script says why in place of its figures) fails its requests only."""
    if isinstance(reply, Exception):
        for day in run:
            _fail(day.waiting, reply)
        return
    at = 0
    for day in run:
        if not isinstance(reply[at], int):
            _fail(day.waiting, _batch_error(_bytes(reply[at]).decode(errors="replace")))
            at += 1
            continue
        views, visits = list(reply[at + 1 : at + 6]), list(reply[at + 6 : at + 11])
        at += 11
        for n, waiter in enumerate(day.waiting):
            flags, online, page_online, page_today, page_total = reply[at : at + 5]
            at += 5
            if flags & COUNTED:
                views = [views[0] + 1, views[1], views[2] + 1, views[3] + 1, views[4] + 1]
            if flags & NEW_VISIT:
                visits = [visits[0] + 1, visits[1], visits[2] + 1, visits[3] + 1, visits[4] + 1]
            if waiter.done():
                continue  # its caller went away
            waiter.set_result(
                Counts(
                    counted=bool(flags & COUNTED),
                    path=OTHER_PAGE if flags & FOLDED else day.paths[n],
                    online=online,
                    page_online=page_online,
                    views=Figures(*views),
                    visits=Figures(*visits),
                    page_today=page_today,
                    page_total=page_total,
                    rate_limited=bool(flags & RATE_LIMITED),
                )
            )


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _int(value: bytes | str | None) -> int:
    return 0 if value is None else int(value)


@cache
def _lua(name: str) -> str:
    return files("statsvc.store.lua").joinpath(name).read_text(encoding="utf-8")
