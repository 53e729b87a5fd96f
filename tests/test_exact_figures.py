"""Figures the counting script keeps exact (issue 12, items 5 and 6): a page registered with 0
views is a known page, and totals past 2^53 are never read through a Lua double."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from statsvc.core.calendar import windows_at
from statsvc.core.site import Site
from statsvc.store import Store
from tests.helpers import Client, check_invariants, get_counts, ok, post_hit

CAP = 50  # the test settings' and the store fixture's page cap
BIG = 2**53 + 1  # the first whole number a double cannot hold


def imported_pages(zero: str, others: int) -> dict[str, object]:
    """Return an import of `others` pages of 1 view each and the page `zero` with 0 views."""
    pages = [{"path": f"/p{n:02d}", "views": 1} for n in range(others)]
    return {
        "import_id": "pages-with-a-zero",
        "total": {"views": others, "visits": others},
        "pages": [*pages, {"path": zero, "views": 0}],
    }


async def test_a_page_imported_with_0_views_at_the_cap_counts_its_first_hit(
    client: Client, redis: Redis, prefix: str
) -> None:
    """With the registry at the cap, one of its pages imported with 0 views, that page's
    first hit counts on it (not on "(other)") and it stays registered."""
    await ok(client, "POST", "/api/v1/sites/demo/import", body=imported_pages("/zero", CAP - 1))
    pages = f"{prefix}:{{demo}}:pages"
    assert await redis.zcard(pages) == CAP
    reply = await post_hit(client, {"site": "demo", "path": "/zero"})
    assert (reply["counted"], reply["path"]) == (True, "/zero")
    assert (reply["page"]["today"], reply["page"]["total"]) == (1, 1)
    assert await redis.zscore(pages, "/zero") == 1
    assert await redis.zscore(pages, "(other)") is None
    assert await redis.zcard(pages) == CAP
    check_invariants(reply)


async def test_a_page_with_0_views_does_not_take_a_free_slot_from_a_new_path(
    store: Store, redis: Redis, prefix: str
) -> None:
    """Below the cap (one slot free), a page registered with 0 views and a new path counted in
    the same script run: each counts on its own page, and the new path takes the free slot."""
    site = Site(id="zero", timezone="UTC")
    await store.put_site(site)
    pages = f"{prefix}:{{zero}}:pages"
    await redis.zadd(pages, {f"/p{n:02d}": 1 for n in range(CAP - 2)} | {"/zero": 0})
    now = 1_795_323_600.0
    windows = windows_at(now, site.zone, "monday")
    replies = await asyncio.gather(
        *(
            store.count("hit", site, windows, path=path, now_ms=int(now * 1000), visitor="v")
            for path in ("/zero", "/new")
        )
    )
    assert [(r.counted, r.path, r.page_total) for r in replies] == [
        (True, "/zero", 1),
        (True, "/new", 1),
    ]
    assert await redis.zcard(pages) == CAP
    assert store.batches == 1  # one script run: the two were counted together


async def test_other_takes_no_place_of_the_cap_from_live_hits(
    client: Client, redis: Redis, prefix: str
) -> None:
    """An import that brings "(other)" and one page fewer than the cap leaves one place free:
    the next new path counts on its own page, the one after folds into "(other)"."""
    pages = [{"path": f"/p{n:02d}", "views": 1} for n in range(CAP - 1)]
    body = {
        "import_id": "other-and-pages",
        "total": {"views": CAP + 9, "visits": CAP + 9},
        "pages": [{"path": "(other)", "views": 10}, *pages],
    }
    await ok(client, "POST", "/api/v1/sites/demo/import", body=body)
    registry = f"{prefix}:{{demo}}:pages"
    assert await redis.zcard(registry) == CAP  # one page fewer than the cap, and "(other)"
    first = await post_hit(client, {"site": "demo", "path": "/last-place"})
    assert (first["path"], first["page"]["total"]) == ("/last-place", 1)
    second = await post_hit(client, {"site": "demo", "path": "/one-too-many"})
    assert (second["path"], second["page"]["total"]) == ("(other)", 11)
    assert await redis.zcard(registry) == CAP + 1


async def test_totals_past_2_53_are_read_and_counted_exactly(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A site whose total, month and day hold 2^53 + 1 views reads them back exactly, and a
    hit makes them 2^53 + 2 (a double would say 2^53, then 2^53 + 2 only by luck of rounding)."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    base = f"{prefix}:{{demo}}:"
    await redis.hset(base + "total", mapping={"v": BIG, "u": BIG})
    await redis.hset(base + "m:2026-11", mapping={"v": BIG, "u": BIG, "26v": BIG, "26u": BIG})
    counts = await get_counts(client, "demo", "/a")
    check_invariants(counts)
    for kind in ("views", "visits"):
        figures = counts[kind]
        assert [figures[w] for w in ("today", "week", "month", "total")] == [BIG] * 4, counts
    reply = await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-big-total"})
    assert reply["counted"] is True
    assert [reply["views"][w] for w in ("today", "week", "month", "total")] == [BIG + 1] * 4
    assert reply["visits"]["total"] == BIG  # the same reader: no new visit
    assert int(await redis.hget(base + "total", "v") or 0) == BIG + 1
    assert (await get_counts(client))["views"]["total"] == BIG + 1
