"""Exact replays (issue 12, item 2): a kept hit replayed after its widget's retry was counted
live, across local midnight, is a duplicate; a replay counts at its instant but never puts a
reader back into the online sets; a day's page-view ids live as long as a replay may need them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from redis.asyncio import Redis

from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service.counting import StatsService
from statsvc.store import REPLAY_HORIZON, Limits, Store
from tests.helpers import (
    BROWSER,
    HCM,
    STORE_TIMEOUT,
    FakeClock,
    check_invariants,
    instant,
    plain_client,
)
from tests.servers import Server

READER = Client(ip="203.0.113.7", user_agent=BROWSER, origin=None, no_tracking=False)
SITE = Site(id="xa", timezone=HCM)


@pytest.fixture
async def own_store(server: Server, prefix: str) -> AsyncIterator[Store]:
    """A store on a server of the test's own, which it stops and starts (a stopped server
    refuses at once: no timeout is met)."""
    store = Store.from_url(server.url, Keys(prefix), Limits(page_cap=50), timeout=STORE_TIMEOUT)
    yield store
    await store.close()


async def test_a_kept_hit_replayed_after_its_retry_counted_past_midnight_is_a_duplicate(
    own_store: Store, server: Server, prefix: str
) -> None:
    """A hit kept at 23:59:59 while the store is down, its retry (the same page-view id)
    counted live at 00:00:10 the next local day, then the kept copy replayed: 1 view, 1 visit,
    1 reader online, 1 on the page (the replay is refused as a duplicate)."""
    clock = FakeClock(instant("2026-11-26T23:59:59+07:00"))
    service = StatsService(own_store, clock)
    await service.save_site(SITE)
    view = PageView(site=SITE.id, path="/a", host=None, id="pv-across-midnight")
    server.stop()
    kept = await service.hit(view, READER)
    assert kept.body()["counted"] == "queued"
    await service.stop(time_left=0)  # no background replay before the retry: the test's order
    server.start()
    assert await own_store.reachable()
    clock.set(datetime.fromisoformat("2026-11-27T00:00:10+07:00"))
    live = (await service.hit(view, READER)).body()
    assert live["counted"] is True
    assert await service.drain()
    assert len(service.buffer) == 0
    counts = await service.counts(SITE.id, "/a")
    check_invariants(counts)
    assert counts["views"]["total"] == 1
    assert counts["visits"]["total"] == 1
    assert counts["online"] == 1
    assert counts["page"]["online"] == 1
    # its row of the fault table (tests/test_faults.py prints the others): one page view
    # accepted (sent twice: kept, then retried), one queued, one view in the end
    fault = "a kept hit replayed after its retry counted past local midnight"
    total = counts["views"]["total"]
    print(json.dumps({"fault": fault, "accepted": 1, "queued": 1, "total": total}))
    redis = plain_client(server.url)
    rejected = await redis.hgetall(f"{prefix}:{{{SITE.id}}}:rej:2026-11-26")
    await redis.aclose()
    assert rejected == {b"duplicate": b"1"}  # the replay, on the day it came


async def test_a_replay_counts_at_its_instant_but_marks_no_one_online(store: Store) -> None:
    """A kept hit replayed ("replay") counts its view and visit on its own day, and is a
    duplicate like a hit, but adds no one to the site's or the page's online set."""
    at = instant("2026-11-26T10:00:00+07:00")
    windows = windows_at(at, SITE.zone, "monday")
    await store.put_site(SITE)
    replayed = await store.count(
        "replay", SITE, windows, path="/a", now_ms=int(at * 1000), visitor="v1", view_id="pv-1"
    )
    assert (replayed.counted, replayed.views.total, replayed.visits.total) == (True, 1, 1)
    assert (replayed.online, replayed.page_online) == (0, 0)
    again = await store.count(
        "replay", SITE, windows, path="/a", now_ms=int(at * 1000), visitor="v1", view_id="pv-1"
    )
    assert again.counted is False and again.views.total == 1
    live = await store.count("hit", SITE, windows, path="/a", now_ms=int(at * 1000), visitor="v2")
    assert (live.online, live.page_online) == (1, 1)


async def test_a_days_page_view_ids_outlive_the_replay_horizon(
    store: Store, redis: Redis, prefix: str
) -> None:
    """A day's id set is made at the earliest as its day begins and read by the next day's
    kept hits up to REPLAY_HORIZON after that day ends: it lives two 25-hour days and the
    horizon."""
    at = instant("2026-11-26T00:00:00+07:00")
    windows = windows_at(at, SITE.zone, "monday")
    await store.put_site(SITE)
    await store.count("hit", SITE, windows, path="/", now_ms=int(at * 1000), view_id="pv-2")
    ttl = await redis.ttl(f"{prefix}:{{{SITE.id}}}:ids:2026-11-26")
    assert ttl >= 2 * 25 * 3600 + REPLAY_HORIZON - 60, ttl
