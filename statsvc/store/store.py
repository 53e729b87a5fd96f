"""The store: one Redis or Valkey server, or a Redis Cluster, and counting on it."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date
from importlib.resources import files
from typing import Any, Literal

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as StoreTimeoutError

from statsvc.core.calendar import Windows
from statsvc.core.keys import Keys
from statsvc.core.reasons import REASONS
from statsvc.core.results import Counts
from statsvc.core.site import Site
from statsvc.store.batcher import Batch, Lane, answer, evalsha, fail, share_runs
from statsvc.store.cluster import CLUSTER_SCHEMES, MAX_CONNECTIONS, ClusterRouter, cluster_client
from statsvc.store.failures import STORE_FAILURES
from statsvc.store.limits import Limits
from statsvc.store.records import Records
from statsvc.store.resp import packed, read_reply
from statsvc.store.sessions import Sessions

Mode = Literal["hit", "ping", "read"]
SHORT_TTL = 3 * 86400  # today's visitor and page-view id sets are read until tomorrow ends
PAGE_DAY_TTL = 8 * 86400  # daily page tallies serve the today, yesterday and week windows
PAGE_MONTH_TTL = 62 * 86400  # monthly page tallies serve the month window
MAX_CACHED_HEADS = 20_000  # packed day keys and arguments, one per site and day
LANE_REST = 2.0  # seconds a server that failed to answer is not asked again, at most


class Store(Records, Sessions):
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
        self._lanes: dict[str, Lane] = {}
        self._timeout = timeout
        self._keys = keys
        self._limits = limits
        self._script = files("statsvc.store.lua").joinpath("count.lua").read_text(encoding="utf-8")
        self._sha = hashlib.sha1(self._script.encode(), usedforsecurity=False).hexdigest()
        self._pending: dict[tuple[str, date], Batch] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._heads: dict[tuple[str, date, int, str], Batch] = {}
        self.batches = 0  # script runs so far (for tests and benchmarks)
        self._router = (
            None
            if self._cluster is None
            else ClusterRouter(self._cluster, self._lanes, self._run_on, timeout)
        )

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

    def _day(self, site: Site, windows: Windows) -> Batch:
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
            head = self._heads[key] = Batch(
                keys=packed(*keys),
                args=packed(*args),
                counts=(len(keys), len(args)),
                slot=key_slot(keys[0].encode()) if self._cluster else 0,
            )
        return Batch(keys=head.keys, args=head.args, counts=head.counts, slot=head.slot)

    async def _flush(self) -> None:
        """Send what is pending, one pipeline at a time, until nothing is."""
        runs: list[list[Batch]] = []
        try:
            while self._pending:
                await asyncio.sleep(0)  # let the requests of this loop turn join the batch
                days, self._pending = list(self._pending.values()), {}
                runs = share_runs(days)
                try:
                    replies = await self._run(runs)
                except Exception as exc:  # every waiter must hear of it, whatever it is
                    replies = [exc] * len(runs)
                for run, reply in zip(runs, replies, strict=True):
                    answer(run, reply)
        except BaseException:  # cancelled: nobody may be left waiting
            gone = StoreConnectionError("the store was closed before it answered")
            for day in [day for run in runs for day in run] + list(self._pending.values()):
                fail(day.waiting, gone)
            self._pending = {}
            raise

    async def _run(self, runs: list[list[Batch]]) -> list[Any]:
        """Run the script once per run, on the server or, in a cluster, on each run's primary."""
        if self._router is not None:
            return await self._router.run(runs)
        lane = self._lanes.get("")
        if lane is None:
            pool = self._redis.connection_pool
            lane = self._lanes[""] = Lane(await pool.get_connection())
        return await self._run_on(lane, runs)

    async def _run_on(self, lane: Lane, runs: list[list[Batch]]) -> list[Any]:
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

    async def _pipeline(self, lane: Lane, runs: list[list[Batch]]) -> list[Any]:
        """Send the runs in one write on a lane's connection; read one reply each."""
        connection = lane.connection
        commands = [evalsha(self._sha.encode(), run) for run in runs]
        if not lane.loaded:
            commands.insert(0, b"*3\r\n" + packed("SCRIPT", "LOAD", self._script))
        self.batches += len(runs)
        try:
            await connection.send_packed_command(b"".join(commands))
            replies = [await read_reply(connection) for _ in commands]
        except BaseException:
            await connection.disconnect()  # the replies are lost with it: start clean next time
            raise
        if not lane.loaded:  # if loading failed, the runs say so themselves (NOSCRIPT)
            lane.loaded = not isinstance(replies.pop(0), Exception)
        return replies
