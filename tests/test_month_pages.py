"""A month's page tallies: a day's page views go to its day's tally, and to its month's once
the day is rolled into it (by the next day's first script run); a month's pages are its tally
plus its days still pending (count.lua, month_pages.lua), exactly once each."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.results import Counts
from statsvc.core.site import Site
from statsvc.store import Limits, Store
from statsvc.store.batcher import Mode
from statsvc.store.resp import as_bytes
from tests.helpers import STORE_TIMEOUT

SITE = Site(id="mp", timezone="Asia/Ho_Chi_Minh")
HANOI = ZoneInfo(SITE.timezone)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    opened = Store.from_url(
        redis_url, Keys("mp" + secrets.token_hex(6)), Limits(rate_limit=0), timeout=STORE_TIMEOUT
    )
    await opened.put_site(SITE)
    yield opened
    await opened.close()


async def view(store: Store, day: str, path: str, mode: Mode = "hit") -> Counts:
    """Count a view of `path` at noon of `day` in Hanoi (a kept one with mode "replay")."""
    now = datetime.fromisoformat(f"{day}T12:00:00+07:00").timestamp()
    return await store.count(
        mode,
        SITE,
        windows_at(now, HANOI, "monday"),
        path=path,
        now_ms=int(now * 1000),
        visitor="v" + secrets.token_hex(4),
    )


async def month(store: Store, name: str, *, days: tuple[str, ...] = ()) -> dict[str, int]:
    """Return the page views of the month `name` (and of `days`, summed), as reports read them."""
    when = [date.fromisoformat(day) for day in days]
    return dict(await store.page_views(SITE.id, days=when, months=[name], limit=100))


async def tally(redis: Redis, store: Store, name: str) -> dict[str, int]:
    """Return the month's own page tally as stored (the days rolled into it)."""
    key = store._keys.pages_month(SITE.id, name)
    pairs: Any = await redis.zrange(key, 0, -1, withscores=True)
    return {as_bytes(path).decode(): int(views) for path, views in pairs}


async def test_a_day_is_rolled_into_its_month_once(store: Store, redis: Redis) -> None:
    """A day's views are in its day's tally only, then the next day's first run adds them to
    the month's tally once (the later runs do not again); the month reads the same throughout."""
    for path in ("/a", "/a", "/b"):
        await view(store, "2026-11-26", path)
    assert await tally(redis, store, "2026-11") == {}
    assert await month(store, "2026-11") == {"/a": 2, "/b": 1}
    await view(store, "2026-11-27", "/a")
    assert await tally(redis, store, "2026-11") == {"/a": 2, "/b": 1}
    await view(store, "2026-11-27", "/b")
    assert await tally(redis, store, "2026-11") == {"/a": 2, "/b": 1}
    assert await month(store, "2026-11") == {"/a": 3, "/b": 2}
    rolled = store._keys.pages_day(SITE.id, date(2026, 11, 26))
    assert 0 < await redis.ttl(rolled) <= 8 * 86400  # now read by the week's windows only


async def test_a_replay_after_its_day_was_rolled_counts_in_the_month(
    store: Store, redis: Redis
) -> None:
    """A kept hit of a day already rolled into its month counts into both tallies: the month
    holds it once, before and after the next day is rolled."""
    await view(store, "2026-11-26", "/a")
    await view(store, "2026-11-27", "/b")  # rolls the 26th
    await view(store, "2026-11-26", "/c", mode="replay")
    assert await tally(redis, store, "2026-11") == {"/a": 1, "/c": 1}
    assert await month(store, "2026-11") == {"/a": 1, "/b": 1, "/c": 1}
    await view(store, "2026-11-28", "/a")  # rolls the 27th
    assert await month(store, "2026-11") == {"/a": 2, "/b": 1, "/c": 1}


async def test_a_day_before_a_quiet_day_stays_pending_and_counts(
    store: Store, redis: Redis
) -> None:
    """A day followed by a day without views is never rolled: the month adds its day's tally,
    which lives as long as the month's."""
    await view(store, "2026-11-25", "/a")
    await view(store, "2026-11-27", "/b")
    await view(store, "2026-11-28", "/b")  # rolls the 27th, not the 25th
    assert await tally(redis, store, "2026-11") == {"/b": 1}
    assert await month(store, "2026-11") == {"/a": 1, "/b": 2}
    assert await month(store, "2026-11", days=("2026-12-01",)) == {"/a": 1, "/b": 2}
    pending = store._keys.pages_day(SITE.id, date(2026, 11, 25))
    assert await redis.ttl(pending) > 400 * 86400


async def test_a_months_last_day_is_rolled_into_its_own_month(store: Store, redis: Redis) -> None:
    """The first day of a month rolls the last day of the month before into that month's tally."""
    await view(store, "2026-11-30", "/a")
    await view(store, "2026-12-01", "/b")
    assert await tally(redis, store, "2026-11") == {"/a": 1}
    assert await tally(redis, store, "2026-12") == {}
    assert await month(store, "2026-11") == {"/a": 1}
    assert await month(store, "2026-12") == {"/b": 1}
    assert await month(store, "2026-11", days=("2026-12-01",)) == {"/a": 1, "/b": 1}


async def test_a_month_tally_an_older_version_wrote_per_view_is_not_counted_twice(
    store: Store, redis: Redis
) -> None:
    """A day whose views an older version wrote to both tallies (no pending mark) is counted as
    rolled: its later views go to both, the month reads each view once."""
    keys = store._keys
    await redis.hset(keys.month(SITE.id, "2026-11"), mapping={"26v": 2, "26u": 1, "v": 2, "u": 1})
    await redis.zincrby(keys.pages_day(SITE.id, date(2026, 11, 26)), 2, "/a")
    await redis.zincrby(keys.pages_month(SITE.id, "2026-11"), 2, "/a")
    await view(store, "2026-11-26", "/a")
    assert await month(store, "2026-11") == {"/a": 3}
    await view(store, "2026-11-27", "/b")
    await view(store, "2026-11-28", "/b")
    assert await tally(redis, store, "2026-11") == {"/a": 3, "/b": 1}
    assert await month(store, "2026-11") == {"/a": 3, "/b": 2}
