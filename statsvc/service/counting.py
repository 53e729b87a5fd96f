"""The counting service: ties a page view to its site, visitor and windows, and runs the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from statsvc.core.bots import is_bot
from statsvc.core.calendar import Windows, day_bounds, windows_at
from statsvc.core.errors import UnknownSite
from statsvc.core.pageview import NO_PAGE, PageView, normalise_path
from statsvc.core.reasons import Reason
from statsvc.core.referrer import source_of
from statsvc.core.requester import Client
from statsvc.core.results import Counts, HitResult, Outcome, reply
from statsvc.core.site import Site
from statsvc.core.text import one_line
from statsvc.core.visitor import address_id, visitor_id
from statsvc.service.buffer import Buffer, Pending
from statsvc.service.journal import Journal, flush
from statsvc.service.metrics import Metrics
from statsvc.service.proxies import ProxyWatch
from statsvc.store import (
    REPLAY_HORIZON,
    STORE_FAILURES,
    UNREACHABLE,
    Mode,
    ScriptError,
    Store,
    StoreUnavailable,
    Waiter,
)

Clock = Callable[[], float]
Salts = tuple[bytes, bytes | None]  # a day's salt, and yesterday's just after midnight
T = TypeVar("T")
SITE_CACHE_SECONDS = 5.0  # a settings change reaches every process within this
# A site's cached settings are read again at most this old even when no change was announced
# (the store's sites_version): the bound for a change whose announcement failed, or that an
# older statsvc wrote during a rolling upgrade
SITE_MAX_AGE = 60.0
MAX_CACHED_SALTS = 10_000
MAX_CACHED_ADDRESSES = 10_000  # address ids: a reader's views come from one address
MAX_CACHED_PAGES = 10_000  # with MAX_CACHED_PATH: at most 13 MiB (bench/caches.py)
MAX_CACHED_PATH = 128  # characters of a raw path whose page is remembered; longer: normalised
REPLAY_BATCH = 256  # pending hits sent to the store at a time
RETRY_FIRST, RETRY_MAX = 0.25, 2.0  # seconds between tries of an unreachable store, doubling
SYNC_SECONDS = 1.0  # the journal is flushed to the disk this long after a write, at most
log = logging.getLogger("statsvc")


class StatsService:
    """Counts hits and heartbeats and reads counts, for many sites."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        buffer: Buffer | None = None,
        metrics: Metrics | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.store = store
        self.buffer = buffer if buffer is not None else Buffer()
        self.metrics = metrics or Metrics()
        self.journal = journal  # None: kept hits live in memory only (tools, tests)
        self._drainer: asyncio.Task[None] | None = None
        self._sync: asyncio.TimerHandle | None = None
        self._unwritable = False  # the journal's last write failed (logged once)
        self._clock = clock
        # a site's settings, when they were read, and in which epoch of the store's counter of
        # settings changes: a copy of an earlier epoch is read again (and kept for an outage)
        self._sites: dict[str, tuple[Site, float, int]] = {}
        self._sites_version: bytes | None = None  # the store's counter of changes, as last read
        self._sites_checked = -math.inf  # when it was read
        self._sites_epoch = 0  # raised when it moved
        self._salts: dict[tuple[str, date], bytes] = {}
        self._loading: dict[object, asyncio.Future[Any]] = {}
        self._calendars: dict[tuple[str, str], tuple[Windows, float, float]] = {}
        self._pages: dict[tuple[str, tuple[str, ...]], str] = {}
        self._addresses: dict[tuple[bytes, str, str], str] = {}
        self.proxies = ProxyWatch(clock)  # signs of a proxy not trusted (http reports some)

    async def site(self, site_id: str) -> Site:
        """Return a site's settings from this process's cache or the store. The cache holds
        while the store's counter of changes stays as it was SITE_CACHE_SECONDS ago (one
        read for every site), a copy at most SITE_MAX_AGE old."""
        now = self._clock()
        if now - self._sites_checked >= SITE_CACHE_SECONDS:
            await self._check_sites(now)
        cached = self._sites.get(site_id)
        if cached is not None and self._fresh(cached, now):
            return cached[0]
        epoch = self._sites_epoch  # a read begun in an earlier epoch is neither joined nor kept
        try:
            site: Site | None = await self._once(
                ("site", site_id, epoch), lambda: self.store.get_site(site_id)
            )
        except UNREACHABLE:
            if cached is None:
                raise
            # a known site keeps counting through an outage, its settings asked again a cache
            # time later
            again = now - SITE_MAX_AGE + SITE_CACHE_SECONDS
            self._sites[site_id] = (cached[0], again, self._sites_epoch)
            return cached[0]
        if site is None:
            self._sites.pop(site_id, None)
            raise UnknownSite(site_id)
        if epoch == self._sites_epoch:
            self._sites[site_id] = (site, now, epoch)
        return site

    async def _check_sites(self, now: float) -> None:
        """Read the store's counter of settings changes: when it moved, every copy held is
        read again at its next use (and kept, for an outage meanwhile)."""
        try:
            version = await self._once("sites-version", self.store.sites_version)
        except UNREACHABLE:  # known sites keep counting through an outage
            self._sites_checked = now
            return
        if version != self._sites_version:
            self._sites_version = version
            self._sites_epoch += 1
        self._sites_checked = now

    def _fresh(self, cached: tuple[Site, float, int], now: float) -> bool:
        """Tell whether a held copy of a site's settings may serve at `now` unread."""
        return (
            cached[2] == self._sites_epoch
            and now - cached[1] < SITE_MAX_AGE
            and now - self._sites_checked < SITE_CACHE_SECONDS
        )

    def _site_at_hand(self, site_id: str, now: float) -> Site | None:
        """Return a site's settings if this process holds them fresh, else None."""
        cached = self._sites.get(site_id)
        return cached[0] if cached is not None and self._fresh(cached, now) else None

    async def _once(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        """Run `load`, unless the same load is already under way: then share its result
        (a burst of hits for one site costs one look-up, not one connection each)."""
        pending = self._loading.get(key)
        if pending is None:
            pending = self._loading[key] = asyncio.ensure_future(load())
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        result: T = await asyncio.shield(pending)
        return result

    async def site_ids(self) -> list[str]:
        """Return every site id, sorted."""
        return await self.store.site_ids()

    async def ready(self) -> bool:
        """Tell whether the store answers."""
        return await self.store.ready()

    def now(self) -> float:
        """Return the time of the service's clock."""
        return self._clock()

    async def save_site(self, site: Site, audit: dict[str, Any] | None = None) -> None:
        """Store a site's settings (recording the change in its audit trail, given an entry)
        and refresh this process's copy."""
        if audit is None:
            await self.store.put_site(site)
        else:
            await self.store.save_settings(site, audit)
        self._sites[site.id] = (site, self._clock(), self._sites_epoch)

    async def hit(self, view: PageView, client: Client) -> HitResult:
        """Count one page view unless a rule says not to; return its result with the counts.
        While the store cannot be reached, keep the view to count later: it is queued."""
        site = await self.site(view.site)
        now = self._clock()  # a hit kept for later counts at the instant it came
        reason = _refusal(site, client)
        salts = None
        if not reason:
            try:
                salts = await self._salts_for(site, now)
            except UNREACHABLE:  # no salt, no visitor id yet: kept, made when it is counted
                self.proxies.hit(site.id, client)
                view_id = view.id or new_view_id()
                return self._queue(site, view, client, view_id, now, _source(view, site))
        flight = await _arrival(
            lambda landed: self._take_off(site, view, client, reason, now, salts, landed)
        )
        return flight.land()

    def hit_at_once(
        self, view: PageView, client: Client, landed: Callable[[Flight], object]
    ) -> Flight | None:
        """Start counting one page view as hit() does, without awaiting anything: when all
        it needs is at hand (the site's settings fresh in this process, the day's salts);
        else return None, and hit() is the way. `landed` is called with the flight when its
        counts come (or its error: perhaps before this returns), from the batch's answer."""
        hand = self._at_hand(view, client)
        if hand is None:
            return None
        site, now, reason, salts = hand
        return self._take_off(site, view, client, reason, now, salts, landed)

    def _at_hand(
        self, view: PageView, client: Client
    ) -> tuple[Site, float, Reason | None, Salts | None] | None:
        """Return what a hit or a heartbeat needs to be sent at once, if this process holds it
        all: its site's settings, the time, the reason a rule refuses its hits (if one does)
        and the salts (none for a refused one); else None."""
        now = self._clock()
        site = self._site_at_hand(view.site, now)
        if site is None:
            return None
        reason = _refusal(site, client)
        salts = None
        if not reason:
            salts = self._salts_at_hand(site, now)
            if salts is None:
                return None
        return site, now, reason, salts

    def _take_off(
        self,
        site: Site,
        view: PageView,
        client: Client,
        reason: Reason | None,
        now: float,
        salts: Salts | None,
        landed: Callable[[Flight], object],
    ) -> Flight:
        """Send a page view to the store: counted unless refused for `reason`."""
        windows, _ = self._calendar(site, now)
        if reason:
            flight = Flight(self, site, view, client, "", now, "", reason, windows, landed)
            self._send("read", site, windows, view.path, client, None, now, flight, reason)
            return flight
        self.proxies.hit(site.id, client)
        view_id = view.id or new_view_id()  # a retry or a replay of this hit never counts twice
        source = _source(view, site)
        flight = Flight(self, site, view, client, view_id, now, source, None, windows, landed)
        self._send(
            "hit",
            site,
            windows,
            view.path,
            client,
            view_id,
            now,
            flight,
            source=source,
            salts=salts,
        )
        return flight

    def _queue(
        self, site: Site, view: PageView, client: Client, view_id: str, now: float, source: str
    ) -> HitResult:
        """Keep a hit for later; answer that it is queued, with no figures (none can be read)."""
        windows, _ = self._calendar(site, now)
        path = self._page(view.path, site.query_keys)
        pending = Pending(site.id, path, now, view_id, source=source)
        visitor = self._known_visitor(site.id, windows.today, client)
        if visitor is None:
            pending.client = client  # in memory only: the visitor id is made when salts are read
        else:
            pending.visitor = visitor
        if self.journal is not None and self.buffer.has_room():
            self._write(pending)  # on disk before the reply says queued
        if not self.buffer.add(pending):
            self.metrics.buffer_dropped.inc()
            raise StoreUnavailable("the store cannot be reached and the hit buffer is full")
        self.metrics.hit("queued")
        if len(self.buffer) == 1:
            log.warning("the store cannot be reached: hits are kept until it answers")
        self.start_draining()
        return HitResult(Outcome.QUEUED, site, windows, None, path)

    def _write(self, pending: Pending) -> None:
        """Append a kept hit to the journal (one write(): a crash of the process loses nothing
        written) and have it flushed to the disk within SYNC_SECONDS; refuse the hit if it
        cannot be written."""
        assert self.journal is not None
        try:
            self.journal.keep(pending)
        except OSError as error:
            self.metrics.buffer_dropped.inc()
            if not self._unwritable:
                self._unwritable = True
                log.error("kept hits cannot be written to %s: %s", self.journal.directory, error)
            raise StoreUnavailable(
                "the store cannot be reached and kept hits cannot be written"
            ) from error
        self._unwritable = False
        self._sync_soon()

    def _sync_soon(self) -> None:
        """Flush the journal within SYNC_SECONDS (once for every write meanwhile)."""
        if self._sync is None:
            self._sync = asyncio.get_running_loop().call_later(SYNC_SECONDS, self._flush_journal)

    def _flush_journal(self) -> None:
        """Flush what the journal has written to the disk, in a thread: a slow disk holds up
        no request."""
        self._sync = None
        if self.journal is None:
            return
        try:
            descriptors = self.journal.unflushed()
        except OSError as error:
            self._not_flushed(error)
            return
        if descriptors:
            flushing = asyncio.get_running_loop().run_in_executor(None, flush, descriptors)
            flushing.add_done_callback(self._flushed)

    def _flushed(self, flushing: asyncio.Future[None]) -> None:
        error = None if flushing.cancelled() else flushing.exception()
        if error is not None:
            self._not_flushed(error)

    def _not_flushed(self, error: BaseException) -> None:
        directory = self.journal.directory if self.journal is not None else None
        log.error("kept hits cannot be flushed to %s: %s", directory, error)

    def start_draining(self) -> None:
        """Count the pending hits in the background, as soon as the store answers (and show
        how many there are)."""
        self.metrics.buffer_depth.set(len(self.buffer))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain_until_empty())

    async def _drain_until_empty(self) -> None:
        """Count the pending hits, oldest first, trying the store again and again (waiting
        longer each time it cannot be reached) until none is left."""
        wait = RETRY_FIRST
        while len(self.buffer):
            if await self.drain():
                wait = RETRY_FIRST
            else:
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MAX)
        log.info("the store answers again: every kept hit is counted")

    async def drain(self) -> bool:
        """Send every pending hit to the store, oldest first, REPLAY_BATCH at a time; return
        whether all were taken. A PING of each server on a connection of its own asks first,
        so a frozen store holds up this try alone, not the hits that come meanwhile; hits for
        a server that is down (a cluster shard) stay, the others are counted."""
        if not await self.store.reachable():
            return False
        pending = self.buffer.head(len(self.buffer))
        done: list[Pending] = []
        down = False
        try:
            for start in range(0, len(pending), REPLAY_BATCH):
                batch = pending[start : start + REPLAY_BATCH]
                finished, down_here = await self._replay_batch(batch)
                down = down or down_here
                done += finished
                self._mark_done(finished)  # before the next batch: a crash re-sends this one
        finally:  # even if cancelled: a hit marked done is never sent again
            self.buffer.remove(done)
            self.metrics.buffer_depth.set(len(self.buffer))
        return not down

    async def _replay_batch(self, hits: list[Pending]) -> tuple[list[Pending], bool]:
        """Send a batch of pending hits to the store; return those done (counted, or given
        up) and whether the store could not be reached for some."""
        oldest = self._clock() - REPLAY_HORIZON
        finished = [hit for hit in hits if hit.at < oldest]
        if finished:
            self._give_up(finished)
            self._mark_done(finished)  # at once: given up twice, they would be counted twice
            hits = [hit for hit in hits if hit.at >= oldest]
        results = await asyncio.gather(*(self._replay(hit) for hit in hits), return_exceptions=True)
        down = False
        for hit, result in zip(hits, results, strict=True):
            if result is None:
                finished.append(hit)
            elif isinstance(result, ScriptError) or (
                isinstance(result, Exception) and not isinstance(result, STORE_FAILURES)
            ):
                # the script failed for this hit's batch (or the code did): it always will
                log.error(
                    "a kept hit of %s cannot be counted: %s", hit.site, one_line(repr(result))
                )
                self.metrics.buffer_given_up.inc()
                finished.append(hit)
            else:
                down = True  # kept, in its place, for the next try
        return finished, down

    def _mark_done(self, hits: list[Pending]) -> None:
        """Mark hits done in the journal. If the mark cannot be written the hits are counted
        all the same; a crash would send them again, and the store refuse their ids."""
        if self.journal is None or not hits:
            return
        try:
            self.journal.done(hits)
        except OSError as error:
            log.error("kept hits cannot be marked done in %s: %s", self.journal.directory, error)
        self._sync_soon()

    def _give_up(self, expired: list[Pending]) -> None:
        """Count the kept hits too old to count exactly (past the replay horizon the store
        may have forgotten whether it counted their ids): given up, never counted twice."""
        self.metrics.buffer_expired.inc(len(expired))
        log.error(
            "%d kept hits came more than %d s ago: given up, not counted",
            len(expired),
            REPLAY_HORIZON,
        )

    async def _replay(self, hit: Pending) -> None:
        """Count a pending hit in the windows of the instant it came."""
        try:
            site = await self.site(hit.site)
        except UnknownSite:
            return  # the site was deleted meanwhile: nothing to count it in
        windows = windows_at(hit.at, site.zone, site.week_start)
        if hit.client is not None:
            hit.visitor = await self._visitor(site.id, windows.today, hit.client)
            hit.client = None
        await self.store.count(
            "replay",
            site,
            windows,
            path=hit.path,
            now_ms=int(hit.at * 1000),
            visitor=hit.visitor,
            view_id=hit.view_id,
            source=hit.source,
        )

    async def stop(self, time_left: float) -> None:
        """Stop draining, after one last try of at most `time_left` seconds (the journal is
        the caller's to close)."""
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        if len(self.buffer):
            with contextlib.suppress(TimeoutError, *STORE_FAILURES):
                async with asyncio.timeout(time_left):
                    while len(self.buffer) and await self.drain():
                        pass
        if self._sync is not None:
            self._sync.cancel()
            self._sync = None

    async def ping(self, view: PageView, client: Client) -> dict[str, Any]:
        """Keep a visitor online (unless a rule refuses its hits: then only read); return the
        online figures."""
        site = await self.site(view.site)
        now = self._clock()
        salts = None if _refusal(site, client) else await self._salts_for(site, now)
        beat = await _arrival(lambda landed: self._beat(site, view, client, now, salts, landed))
        return beat.land()

    def ping_at_once(
        self, view: PageView, client: Client, landed: Callable[[Beat], object]
    ) -> Beat | None:
        """Send a heartbeat as ping() does, without awaiting anything, when all it needs is
        at hand (as hit_at_once); else return None, and ping() is the way."""
        hand = self._at_hand(view, client)
        if hand is None:
            return None
        site, now, _, salts = hand
        return self._beat(site, view, client, now, salts, landed)

    def _beat(
        self,
        site: Site,
        view: PageView,
        client: Client,
        now: float,
        salts: Salts | None,
        landed: Callable[[Beat], object],
    ) -> Beat:
        """Send a heartbeat to the store; one without `salts` (refused) only reads."""
        mode: Mode = "read" if salts is None else "ping"
        windows, _ = self._calendar(site, now)
        beat = Beat(self, mode, landed)
        self._send(mode, site, windows, view.path, client, None, now, beat, salts=salts)
        return beat

    async def counts(self, site_id: str, raw_path: str | None) -> dict[str, Any]:
        """Read a site's counts, and a page's when a path is given, counting nothing."""
        site = await self.site(site_id)
        now = self._clock()
        started = time.perf_counter()
        windows, _ = self._calendar(site, now)
        counts: asyncio.Future[Counts] = asyncio.get_running_loop().create_future()
        self._send("read", site, windows, raw_path or "/", None, None, now, counts)
        result = await counts
        self.metrics.store_operations["read"].observe(time.perf_counter() - started)
        return reply(site, windows, result, page=raw_path is not None)

    def _send(
        self,
        mode: Mode,
        site: Site,
        windows: Windows,
        raw_path: str,
        client: Client | None,
        view_id: str | None,
        now: float,
        waiter: Waiter,
        reason: str = "",
        source: str = "",
        salts: Salts | None = None,
    ) -> None:
        """Send one request at `now` (in `windows`) to the store, for `waiter` to be told its
        counts, or the error (at once if the store cannot be asked); a hit's `source` counts
        if it is a new visit; `salts` (today's, and yesterday's within an online window of
        midnight) make the visitor's ids, for any mode but a read."""
        path = self._page(raw_path, site.query_keys)
        visitor = previous = address = ""
        if salts is not None and client is not None:
            visitor = visitor_id(salts[0], site.id, client.ip, client.user_agent)
            if mode == "hit" and self.store.limits.rate_limit_address:
                address = self._address(salts[0], site.id, client.ip)
            if salts[1] is not None:  # the reader may still be online under yesterday's id
                previous = visitor_id(salts[1], site.id, client.ip, client.user_agent)
        try:
            self.store.count_into(
                waiter,
                mode,
                site,
                windows,
                path=path,
                now_ms=int(now * 1000),
                visitor=visitor,
                previous=previous,
                view_id=view_id,
                reason=reason,
                address=address,
                source=source,
            )
        except Exception as exc:  # the store is closed, say: told as an answer is
            waiter.set_exception(exc)

    async def _salts_for(self, site: Site, now: float) -> Salts:
        """Return the salts a request at `now` needs, loaded if not at hand."""
        windows, day_start = self._calendar(site, now)
        today = await self._salt(site.id, windows.today)
        yesterday = None
        if now - site.online_window < day_start:
            yesterday = await self._salt(site.id, windows.yesterday)
        return today, yesterday

    def _salts_at_hand(self, site: Site, now: float) -> Salts | None:
        """Return the salts a request at `now` needs if this process holds them, else None."""
        windows, day_start = self._calendar(site, now)
        today = self._salts.get((site.id, windows.today))
        if today is None:
            return None
        if now - site.online_window >= day_start:
            return today, None
        yesterday = self._salts.get((site.id, windows.yesterday))
        return None if yesterday is None else (today, yesterday)

    def _calendar(self, site: Site, now: float) -> tuple[Windows, float]:
        """Return the windows at `now` in the site's zone and the start of its local day,
        computed once per zone, week start and day."""
        key = (site.timezone, site.week_start)
        cached = self._calendars.get(key)
        if cached is None or not cached[1] <= now < cached[2]:
            windows = windows_at(now, site.zone, site.week_start)
            cached = self._calendars[key] = (windows, *day_bounds(windows.today, site.zone))
        return cached[0], cached[1]

    def _page(self, raw_path: str, query_keys: tuple[str, ...]) -> str:
        """Return the page a raw path stands for, remembering the answers of the busy paths
        (NO_PAGE stands for no page)."""
        if not raw_path:
            return NO_PAGE
        if len(raw_path) > MAX_CACHED_PATH:  # rare (the busy paths are short): not kept
            return normalise_path(raw_path, query_keys)
        key = (raw_path, query_keys)
        page = self._pages.get(key)
        if page is None:
            page = normalise_path(raw_path, query_keys)
            if len(self._pages) >= MAX_CACHED_PAGES:
                self._pages.clear()
            self._pages[key] = page
        return page

    def _address(self, salt: bytes, site_id: str, ip: str) -> str:
        """Return the id of a client address under a salt, remembered (a reader's views of
        a day come from one address, and a school's or an office's readers share one)."""
        key = (salt, site_id, ip)
        address = self._addresses.get(key)
        if address is None:
            address = address_id(salt, site_id, ip)
            if len(self._addresses) >= MAX_CACHED_ADDRESSES:
                self._addresses.clear()
            self._addresses[key] = address
        return address

    def _known_visitor(self, site_id: str, day: date, client: Client) -> str | None:
        """Return the visitor id when the day's salt is already at hand, else None."""
        salt = self._salts.get((site_id, day))
        return None if salt is None else visitor_id(salt, site_id, client.ip, client.user_agent)

    async def _visitor(self, site_id: str, day: date, client: Client) -> str:
        salt = await self._salt(site_id, day)
        return visitor_id(salt, site_id, client.ip, client.user_agent)

    async def _salt(self, site_id: str, day: date) -> bytes:
        """Return a site's salt of a local day, from this process's cache or the store."""
        salt = self._salts.get((site_id, day))
        if salt is None:
            salt = await self._once(("salt", site_id, day), lambda: self.store.salt(site_id, day))
            if len(self._salts) >= MAX_CACHED_SALTS:
                self._salts.clear()
            self._salts[(site_id, day)] = salt
        return salt


class Landing:
    """A request sent to the store, told its counts or its error as a future is (the store's
    Waiter), when it calls `landed` with itself, at once; land() then gives its result."""

    __slots__ = ("counts", "error", "landed", "service", "started")

    def __init__(self, service: StatsService, landed: Callable[[Any], object]) -> None:
        self.service, self.landed = service, landed
        self.counts: Counts | None = None
        self.error: BaseException | None = None
        self.started = time.perf_counter()

    def done(self) -> bool:
        return self.counts is not None or self.error is not None

    def set_result(self, result: Counts, /) -> None:
        self.counts = result
        self._arrive()

    def set_exception(self, exception: BaseException, /) -> None:
        self.error = exception
        self._arrive()

    def _arrive(self) -> None:
        try:
            self.landed(self)
        except Exception:  # never the other requests of its batch, which are told after it
            log.exception("a request's answer failed")


class Beat(Landing):
    """A heartbeat sent to the store (or, refused, a read of the online figures)."""

    __slots__ = ("mode",)

    def __init__(self, service: StatsService, mode: Mode, landed: Callable[[Beat], object]) -> None:
        super().__init__(service, landed)
        self.mode = mode

    def land(self) -> dict[str, Any]:
        """Return the online figures once they came (or raise the error)."""
        counts = self.counts
        if counts is None:
            raise self.error or RuntimeError("a heartbeat landed without its counts")
        self.service.metrics.store_operations[self.mode].observe(time.perf_counter() - self.started)
        return {"online": counts.online, "page": {"online": counts.page_online}}


class Flight(Landing):
    """A hit sent to the store."""

    __slots__ = (
        "client", "now", "reason", "site", "source", "view", "view_id", "windows",
    )  # fmt: skip

    def __init__(
        self,
        service: StatsService,
        site: Site,
        view: PageView,
        client: Client,
        view_id: str,
        now: float,
        source: str,
        reason: Reason | None,
        windows: Windows,
        landed: Callable[[Flight], object],
    ) -> None:
        super().__init__(service, landed)
        self.site, self.view, self.client = site, view, client
        self.view_id, self.now, self.source, self.reason = view_id, now, source, reason
        self.windows = windows

    def land(self) -> HitResult:
        """Return the hit's result once its counts came: queued if the store could not be
        reached (it may have been counted, or not: its id settles it later); a refused hit
        is never kept (the error is raised)."""
        service, counts = self.service, self.counts
        if counts is None:
            if not isinstance(self.error, UNREACHABLE) or self.reason:
                raise self.error or RuntimeError("a hit landed without its counts")
            return service._queue(
                self.site, self.view, self.client, self.view_id, self.now, self.source
            )
        mode = "read" if self.reason else "hit"
        service.metrics.store_operations[mode].observe(time.perf_counter() - self.started)
        if self.reason:
            service.metrics.hit(self.reason)
            return HitResult(
                Outcome.REFUSED, self.site, self.windows, counts, counts.path, self.reason
            )
        service.metrics.hit(counts.refused)
        outcome = Outcome.COUNTED if counts.counted else Outcome.REFUSED
        return HitResult(outcome, self.site, self.windows, counts, counts.path, counts.refused)


L = TypeVar("L", bound=Landing)


async def _arrival(take_off: Callable[[Callable[[L], object]], L]) -> L:
    """Send a request with `take_off` (given what to call when it lands) and await its
    landing; return it, landed."""
    arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake(_: L) -> None:
        if not arrived.done():  # (it is if this was cancelled meanwhile)
            arrived.set_result(None)

    landing = take_off(wake)
    await arrived
    return landing


def new_view_id() -> str:
    """Return a random page-view id for a hit that came without one."""
    return "s" + secrets.token_urlsafe(12)


def _source(view: PageView, site: Site) -> str:
    """Return the source a view's referrer counts under ("" for none: direct)."""
    return "" if view.referrer is None else source_of(view.referrer, view.host, site.domains)


def _refusal(site: Site, client: Client) -> Reason | None:
    """Return why a view of this site from this client must not be counted, or None."""
    if is_bot(client.user_agent):
        return Reason.BOT
    if client.prefetch:
        return Reason.PREFETCH
    if site.exclude_ips and client.ip in site.excluded:  # no exclusions: one truth test
        return Reason.EXCLUDED
    if site.respect_dnt and client.no_tracking:
        return Reason.DNT
    if site.domains:
        # only the browser's word: the Origin, else the Referer; never the body's url, which
        # the sender writes (Origin: null, a sandboxed or file page, has no host: refused)
        host = client.origin_host
        if host is None or not any(host == d or host.endswith("." + d) for d in site.domains):
            return Reason.ORIGIN
    return None
