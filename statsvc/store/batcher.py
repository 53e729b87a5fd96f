"""The batcher: counting requests that arrive together joined into batches, one per site and
local day, the batches of an event-loop turn sent as script runs, each on a lane (one
connection per server, held, with the script loaded once), each caller awaiting its own
reply. Packing, sharing out and decoding are statsvc.store.batches'."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date
from typing import Any, Literal, Required, TypedDict, Unpack

from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as StoreTimeoutError

from statsvc.core.calendar import Windows
from statsvc.core.keys import Keys
from statsvc.core.reasons import REASONS
from statsvc.core.results import Counts
from statsvc.core.site import Site
from statsvc.store.batches import Batch, Lane, Waiter, answer, evalsha, fail, share_runs
from statsvc.store.cluster import ClusterRouter
from statsvc.store.limits import PAGE_DAY_TTL, REPLAY_HORIZON, Limits
from statsvc.store.lua import script
from statsvc.store.resp import packed, read_reply

# "replay": a kept hit, counted at the instant it came as a hit is, but it marks no one
# online (its reader may have left, or moved on under today's id) and has no address
Mode = Literal["hit", "ping", "read", "replay"]
SHORT_TTL = 3 * 86400  # today's visitor set is read until tomorrow ends (and by replays)
# A day's page-view id set is made at the earliest as its day begins, and read by the hits of
# the day after until a kept one of them is replayed, REPLAY_HORIZON after its day ends at the
# latest: two local days (25 hours each at most, on a DST change) and the horizon.
ID_TTL = 2 * 25 * 3600 + REPLAY_HORIZON
MAX_CACHED_HEADS = 20_000  # packed day keys and arguments, one per site and day
MAX_CACHED_PAGE_KEYS = 10_000  # packed page-online keys, one per site and page
LANE_REST = 2.0  # seconds a server that failed to answer is not asked again, at most


class Request(TypedDict, total=False):
    """A request's fields, as count_into takes them."""

    path: Required[str]
    now_ms: Required[int]
    visitor: str
    previous: str
    view_id: str | None
    reason: str
    address: str
    source: str


class Batcher:
    """Counting requests batched into script runs: one batch per site and day, the batches of
    an event-loop turn in runs of up to MAX_BATCH requests. In a cluster a run holds the
    batches of one slot only, and the runs for each primary go to it in one write."""

    def __init__(self, client: Any, keys: Keys, limits: Limits, timeout: float) -> None:
        self._redis = client
        self._keys = keys
        self._limits = limits
        self.lanes: dict[str, Lane] = {}
        self.router = (
            ClusterRouter(client, self.lanes, self._run_on, timeout)
            if isinstance(client, RedisCluster)
            else None
        )
        self._script = script("count.lua")
        self._sha = hashlib.sha1(self._script.encode(), usedforsecurity=False).hexdigest()
        self._pending: dict[tuple[str, date], Batch] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._heads: dict[tuple[str, date, int, str], Batch] = {}
        self._page_keys: dict[tuple[str, str], bytes] = {}
        self.batches = 0  # script runs so far (for tests and benchmarks)

    async def close(self) -> None:
        """Answer what is pending, then close the lanes; later counting fails."""
        self._closed = True
        if self._flusher is not None:
            await asyncio.gather(asyncio.shield(self._flusher), return_exceptions=True)
        for lane in self.lanes.values():
            await lane.connection.disconnect()
        self.lanes.clear()

    def wake(self, server: str) -> None:
        """Let counting use a server again at once: a PING says it answers."""
        lane = self.lanes.get(server)
        if lane is not None:
            lane.resting_until = 0.0

    def count(
        self, mode: Mode, site: Site, windows: Windows, **request: Unpack[Request]
    ) -> asyncio.Future[Counts]:
        """Count a hit (or a kept one: "replay"), refresh a heartbeat, or only read: joins the
        next script run, whose counts the future returned gets (count_into, with a future)."""
        if self._loop is None:  # asked once: on Python 3.11 each asking is a getpid() call
            self._loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Counts] = self._loop.create_future()
        self.count_into(waiter, mode, site, windows, **request)
        return waiter

    def count_into(
        self,
        waiter: Waiter,
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
        address: str = "",
        source: str = "",
    ) -> None:
        """Count a hit (or a kept one: "replay"), refresh a heartbeat, or only read, for
        `waiter`, told its counts (or the error) when the next script run answers. A read
        with a `reason` (one of REASONS) records a hit refused for that reason. A hit's
        `address` (the id of its client's address) is limited per minute. A hit that is a
        new visit adds one to its `source` (a canonical host, "" for direct)."""
        if self._closed:
            raise StoreConnectionError("the store is closed")
        mode_arg: str = mode
        if reason:
            if mode != "read" or reason not in REASONS:
                raise ValueError(f"a refusal is a read with a known reason, not {reason!r}")
            mode_arg = "refuse:" + reason
        # everything packed before the batch takes any of it: a request that fails here
        # leaves no key or argument behind (every hit of the batch would be misread)
        request = packed(mode_arg, visitor, previous, path, view_id or "", now_ms, address, source)
        page_key = self._page_keys.get((site.id, path))
        if page_key is None:
            if len(self._page_keys) >= MAX_CACHED_PAGE_KEYS:
                self._page_keys.clear()
            page_key = self._page_keys[(site.id, path)] = packed(
                self._keys.page_online(site.id, path)
            )
        batch = self._pending.get((site.id, windows.today))
        if batch is None:
            batch = self._pending[(site.id, windows.today)] = self._new_batch(site, windows)
        # the minute of the request, not of the batch: a batch may straddle two minutes
        minute = now_ms // 60_000
        if minute not in batch.rate_keys:
            batch.rate_keys[minute] = packed(self._keys.rate(site.id, minute))
        batch.page_keys.append(page_key)
        batch.minutes.append(minute)
        batch.requests.append(request)
        batch.paths.append(path)
        batch.waiting.append(waiter)
        if self._flusher is None or self._flusher.done():
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            self._flusher = self._loop.create_task(self._flush())

    def _new_batch(self, site: Site, windows: Windows) -> Batch:
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
                limits.month_ttl,
                limits.month_ttl,  # a month's page tallies: the month window and reports
                *windows.day_fields(),
                limits.rate_limit,
                limits.rate_limit_address,
                ID_TTL,
                limits.source_cap,
            ]
            if len(self._heads) >= MAX_CACHED_HEADS:
                self._heads.clear()
            head = self._heads[key] = Batch(
                keys=packed(*keys),
                args=packed(*args),
                counts=(len(keys), len(args)),
                slot=key_slot(keys[0].encode()) if self.router else 0,
            )
        return Batch(keys=head.keys, args=head.args, counts=head.counts, slot=head.slot)

    async def _flush(self) -> None:
        """Send what is pending, one pipeline at a time, until nothing is."""
        runs: list[list[Batch]] = []
        try:
            while self._pending:
                await asyncio.sleep(0)  # let the requests of this loop turn join the batch
                batches, self._pending = list(self._pending.values()), {}
                runs = share_runs(batches)
                try:
                    replies = await self._run(runs)
                except Exception as exc:  # every waiter must hear of it, whatever it is
                    replies = [exc] * len(runs)
                for run, reply in zip(runs, replies, strict=True):
                    answer(run, reply)
        except BaseException:  # cancelled: nobody may be left waiting
            gone = StoreConnectionError("the store was closed before it answered")
            for batch in [b for run in runs for b in run] + list(self._pending.values()):
                fail(batch.waiting, gone)
            self._pending = {}
            raise

    async def _run(self, runs: list[list[Batch]]) -> list[Any]:
        """Run the script once per run, on the server or, in a cluster, on each run's primary."""
        if self.router is not None:
            return await self.router.run(runs)
        lane = self.lanes.get("")
        if lane is None:
            pool = self._redis.connection_pool
            lane = self.lanes[""] = Lane(await pool.get_connection())
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
