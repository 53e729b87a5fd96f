"""An export imported into an empty site with the same settings gives the same figures, page
by page and source by source, whatever hits made them (pages and sources past the cap,
"(other)" among the most viewed, paths that read as escapes); and an exported path reads back
as its page."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from statsvc.core.backfill import export_path
from statsvc.core.errors import BadInput
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView, normalise_path
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service import auth, backfill
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store
from tests.helpers import DAY, STORE_TIMEOUT, FakeClock, examples, forget

# raw paths as hits send them: some name one page, some read as escapes, some carry a query
PATHS = (
    "/",
    "/a",
    "/a/",
    "/b/../a",
    "/a%2541",
    "/100%25",
    "/t%E1%BB%A9c",
    "/p?id=1",
    "/p?id=2&utm=x",
    "/q#top",
    "/c",
    "/d",
)
PEOPLE = tuple(
    Client(ip=f"198.51.100.{n}", user_agent="Mozilla/5.0", origin=None, no_tracking=False)
    for n in range(3)
)
# the referrers' hosts as a hit's body gives them (None: no referrer)
REFERRERS = (None, "google.com.vn", "facebook.com", "a.vn", "b.vn", "c.vn")
ADMIN = auth.Principal("admin", None)
START = datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp()

hits = st.lists(
    st.tuples(
        st.integers(0, len(PATHS) - 1),  # the path
        st.integers(0, len(PEOPLE) - 1),  # who
        st.integers(0, 3),  # days later than the hit before
        st.integers(0, len(REFERRERS) - 1),  # where its reader came from
    ),
    max_size=40,
)


async def round_trip(
    redis_url: str, page_cap: int, query_keys: tuple[str, ...], played: list[Any]
) -> None:
    """Count the hits on one site, export it, import the export into an empty site with the
    same settings, and compare the two sites' exports."""
    prefix = "rt" + secrets.token_hex(6)
    store = Store.from_url(
        redis_url,
        Keys(prefix),
        Limits(page_cap=page_cap, rate_limit=0, source_cap=page_cap),
        timeout=STORE_TIMEOUT,
    )
    clock = FakeClock(START)
    stats = StatsService(store, clock)
    try:
        site = Site(id="src", timezone="Asia/Ho_Chi_Minh", query_keys=query_keys)
        await store.put_site(site)
        await store.put_site(replace(site, id="dst"))
        for path, person, later, referrer in played:
            clock.advance(later * DAY)
            view = PageView("src", PATHS[path], None, None, referrer=REFERRERS[referrer])
            await stats.hit(view, PEOPLE[person])
        exported = await backfill.export_site(stats, "src")
        await backfill.import_counts(stats, "dst", exported, ADMIN)
        rebuilt = await backfill.export_site(stats, "dst")
        for field in ("total", "days", "pages"):
            assert rebuilt[field] == exported[field], field
        assert sum(p["views"] for p in exported["pages"]) == exported["total"]["views"]
    finally:
        await store.close()
        await forget(redis_url, prefix)


@settings(max_examples=examples(100), deadline=None)
@given(
    page_cap=st.integers(1, 4),
    query_keys=st.sampled_from([(), ("id",)]),
    played=hits,
)
# the export lists "(other)" before real pages: it takes none of their places on import
@example(
    page_cap=3,
    query_keys=(),
    played=[(1, 0, 0, 0)] * 5
    + [(10, 0, 0, 1), (11, 0, 0, 2)] * 2
    + [(0, 0, 0, 3), (0, 1, 0, 4), (2, 2, 0, 5)],
)
def test_an_export_imported_into_an_empty_site_gives_the_same_figures(
    redis_url: str, page_cap: int, query_keys: tuple[str, ...], played: list[Any]
) -> None:
    """Random hits (pages and sources past the cap included), exported and imported into an
    empty site with the same settings, give the same total, days (with their sources) and page
    totals, page by page."""
    asyncio.run(round_trip(redis_url, page_cap, query_keys, played))


@settings(max_examples=examples(500), deadline=None)
@given(raw=st.text(st.characters(codec="utf-8"), max_size=40), keyed=st.booleans())
def test_an_exported_path_reads_back_as_its_page(raw: str, keyed: bool) -> None:
    """normalise_path reads the path an export gives a page as that page, whatever the page."""
    query_keys = ("id", "q") if keyed else ()
    try:
        page = normalise_path("/" + raw, query_keys)
    except BadInput:
        return
    assert normalise_path(export_path(page), query_keys) == page
