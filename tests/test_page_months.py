"""A month's page tallies: its days' summed; a month whose own tallies an older statsvc began
is read, and counted into, from those to its end (an upgrade in the middle of a month)."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from statsvc.core.keys import Keys
from tests.helpers import DAY, Client, FakeClock, ok, post_hit


async def top_of_month(client: Client) -> list[tuple[str, int]]:
    reply = await ok(client, "GET", "/api/v1/sites/demo/pages?window=month&limit=10")
    return [(p["path"], p["views"]) for p in reply["pages"]]


async def test_a_month_counted_now_is_its_days_summed(
    client: Client, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """Views of a month are not written to month tallies: the month's pages are its days'
    summed, the days before this one included, those of last month not."""
    clock.set(datetime(2026, 11, 30, 10, tzinfo=UTC))
    await post_hit(client, {"site": "demo", "path": "/november"})
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    await post_hit(client, {"site": "demo", "path": "/a"})
    clock.advance(DAY)
    await post_hit(client, {"site": "demo", "path": "/a"})
    await post_hit(client, {"site": "demo", "path": "/b"})
    assert await top_of_month(client) == [("/a", 2), ("/b", 1)]
    assert not await redis.exists(Keys(prefix).pages_month("demo", "2026-12"))


async def test_a_month_with_its_own_tallies_keeps_them_to_its_end(
    client: Client, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """After an upgrade in the middle of a month, that month's tallies (written by the older
    statsvc, whose early days' tallies are gone) still hold the month, and count on."""
    month = Keys(prefix).pages_month("demo", "2026-12")
    await redis.zadd(month, {"/a": 40, "/old": 7})  # as an older statsvc left it on the 20th
    await redis.expire(month, 62 * 86400)
    clock.set(datetime(2026, 12, 20, 10, tzinfo=UTC))
    await post_hit(client, {"site": "demo", "path": "/a"})
    await post_hit(client, {"site": "demo", "path": "/new"})
    assert await top_of_month(client) == [("/a", 41), ("/old", 7), ("/new", 1)]
    assert 0 < await redis.ttl(month) <= 62 * 86400
