"""Traffic sources counted (issue 15, item 2): a new visit adds one to its source in the day's
capped set, in the hit's own script run; a day's sources add up to its visits and never hold
more than a bare host; kept hits count theirs when replayed; GET /sources reads them."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statsvc.core.calendar import local_day
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView, parse_body
from statsvc.core.referrer import DIRECT, OTHER_SOURCE, is_source, source_of
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service import auth, backfill
from statsvc.service.buffer import Buffer, Pending
from statsvc.service.counting import StatsService
from statsvc.service.journal import Journal
from statsvc.store import Limits, Store
from tests.helpers import (
    BEACON,
    BROWSER,
    HCM,
    HIT,
    STORE_TIMEOUT,
    FakeClock,
    admin,
    bearer,
    examples,
    forget,
    instant,
    put_site,
    sign_in,
)
from tests.helpers import (
    Client as HttpClient,
)
from tests.servers import Server

ADMIN = auth.Principal("admin", None)
SITE = Site(id="xa", timezone=HCM, domains=("tuson.vn",))
PAGE = "https://tuson.vn/tin-tuc/a"
REFERRERS = (
    None,
    "",
    "https://tuson.vn/",  # the page's own host: internal
    "https://www.tuson.vn/lien-he?x=1",  # internal
    "https://tin.tuson.vn/",  # under the site's domain: internal
    "https://www.google.com.vn/search?q=th%C3%B4ng+tin",
    "https://www.google.com/",
    "https://m.facebook.com/story.php?id=1",
    "https://l.facebook.com/l.php?u=https%3A%2F%2Ftuson.vn%2F&h=AT0",
    "https://chat.zalo.me/",
    "https://coccoc.com/search?query=x",
    "http://User:Pw@Blog.Example.VN:8080/p/q?r=s#t",
    "https://bücher.de/",
    "https://a.vn/",
    "https://b.vn/",
    "https://c.vn/",
    "https://d.vn/",
    "android-app://com.zing.zalo/",
    "garbage",
    "https://[::1]/",
)


def reader(n: int) -> Client:
    return Client(
        ip=f"198.51.100.{n}",
        user_agent=f"{BROWSER} r{n}",
        origin="https://tuson.vn",
        no_tracking=False,
    )


def view(referrer: str | None, view_id: str | None = None) -> PageView:
    """Return a hit of SITE's page with `referrer`, read at the edge as a hit body is."""
    return parse_body(
        json.dumps({"site": SITE.id, "url": PAGE, "referrer": referrer, "id": view_id}).encode()
    )


class SourcesModel:
    """The reference: each local day's visitors, and its sources as the cap folds them."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.visitors: dict[date, set[int]] = {}
        self.sources: dict[date, Counter[str]] = {}

    def hit(self, day: date, person: int, referrer: str | None) -> None:
        seen = self.visitors.setdefault(day, set())
        if person in seen:
            return
        seen.add(person)
        parsed = view(referrer)
        source = source_of(parsed.referrer, parsed.host, SITE.domains) or DIRECT
        tally = self.sources.setdefault(day, Counter())
        hosts = [s for s in tally if s not in (DIRECT, OTHER_SOURCE)]
        if source not in tally and source != DIRECT and len(hosts) >= self.cap:
            source = OTHER_SOURCE
        tally[source] += 1


def hits_waiting(waits: list[int]) -> st.SearchStrategy[list[tuple[int, str | None, int]]]:
    """Return hits of random readers and referrers, each `waits` seconds after the last."""
    return st.lists(
        st.tuples(
            st.integers(0, 7),  # the reader
            st.one_of(st.sampled_from(REFERRERS), st.text(max_size=40)),
            st.sampled_from(waits),  # seconds before it
        ),
        max_size=40,
    )


hits = hits_waiting([0, 60, 3600, 6 * 3600])


async def play(
    redis_url: str, cap: int, scenario: list[tuple[int, str | None, int]], together: bool = False
) -> None:
    """Play the hits one at a time (or, `together`, those at one instant in one script run)
    and check each day's sources against the model's."""
    prefix = "src" + secrets.token_hex(6)
    limits = Limits(page_cap=50, rate_limit=0, rate_limit_address=0, source_cap=cap)
    store = Store.from_url(redis_url, Keys(prefix), limits, timeout=STORE_TIMEOUT)
    clock = FakeClock(instant("2026-11-26T20:00:00+07:00"))
    model = SourcesModel(cap)
    try:
        service = StatsService(store, clock)
        await service.save_site(SITE)
        group: list[tuple[int, str | None]] = []
        for n, (person, referrer, wait) in enumerate(scenario):
            if n and (wait or not together):
                await hit_together(service, group)
            clock.advance(wait)
            group.append((person, referrer))
            model.hit(local_day(clock(), SITE.zone), person, referrer)
        await hit_together(service, group)
        days = sorted(model.visitors) or [local_day(clock(), SITE.zone)]
        figures = await store.day_figures(SITE.id, days)
        for day, (_, visits) in zip(days, figures, strict=True):
            stored = dict(await store.top_sources(SITE.id, [day]))
            assert all(is_source(member) for member in stored), stored
            assert sum(stored.values()) == visits
            assert len(stored.keys() - {DIRECT, OTHER_SOURCE}) <= cap
            assert stored == dict(model.sources.get(day, {}))
        summed = Counter[str]()
        for day in days:
            summed.update(model.sources.get(day, {}))
        top = await store.top_sources(SITE.id, days, limit=3)
        assert top == sorted(summed.items(), key=lambda pair: (-pair[1], pair[0]))[:3]
    finally:
        await store.close()
        await forget(redis_url, prefix)


async def hit_together(service: StatsService, group: list[tuple[int, str | None]]) -> None:
    """Send the hits of `group` at once (one script run), each counted; empty the group."""
    results = await asyncio.gather(*(service.hit(view(r), reader(p)) for p, r in group))
    assert all(result.body()["counted"] is True for result in results)
    group.clear()


@settings(max_examples=examples(150), deadline=None)
@given(cap=st.integers(1, 4), scenario=hits)
def test_a_days_sources_are_bare_hosts_capped_and_add_up_to_its_visits(
    redis_url: str, cap: int, scenario: list[tuple[int, str | None, int]]
) -> None:
    """After random hits with random referrers over several local days, each day's sources
    equal the model's: only bare hosts, (direct) and (other); at most `cap` hosts; summing to
    the day's visits; and the top of several days is their sum, most visits first."""
    asyncio.run(play(redis_url, cap, scenario))


@settings(max_examples=examples(150), deadline=None)
@given(cap=st.integers(1, 4), scenario=hits_waiting([0, 0, 0, 0, 60, 6 * 3600]))
def test_sources_of_hits_in_one_run_are_as_one_by_one(
    redis_url: str, cap: int, scenario: list[tuple[int, str | None, int]]
) -> None:
    """Hits that arrive together (one script run, their sources tallied in it and written
    once a source) leave each day's sources exactly as the model's one by one."""
    asyncio.run(play(redis_url, cap, scenario, together=True))


async def test_new_hosts_past_the_cap_in_one_batch_fold_as_one_by_one(
    redis_url: str, prefix: str, redis: object, clock: FakeClock
) -> None:
    """Six new hosts in one script run, past a cap of 2, fold into (other) as one by one
    would; the day's hosts are counted once in the run (one ZCARD more than a run of as many
    direct visits, whose online counts are ZCARDs too), not per new host."""
    limits = Limits(page_cap=50, rate_limit=0, rate_limit_address=0, source_cap=2)
    capped = Store.from_url(redis_url, Keys(prefix), limits, timeout=STORE_TIMEOUT)
    cluster = os.environ.get("STATSVC_TEST_CLUSTER") == "1"

    async def zcards() -> int:
        stats = await redis.info("commandstats")  # type: ignore[attr-defined]
        return int(stats.get("cmdstat_zcard", {"calls": 0})["calls"])

    async def visits(referrers: list[str | None], first: int) -> int:
        """Send one new visit per referrer in one script run; return its ZCARDs."""
        before = 0 if cluster else await zcards()
        runs = capped.batches
        await asyncio.gather(
            *(service.hit(view(r), reader(first + i)) for i, r in enumerate(referrers))
        )
        assert capped.batches == runs + 1
        return 0 if cluster else await zcards() - before

    try:
        service = StatsService(capped, clock)
        await service.save_site(SITE)
        await service.hit(view("https://a.vn/"), reader(0))  # the site's settings cached
        direct = await visits([None] * 6, 100)
        referrers: list[str | None] = ["https://b.vn/", "https://c.vn/", "https://d.vn/"]
        referrers += ["https://a.vn/", "https://chat.zalo.me/", None]
        counted = await visits(referrers, 1)
        today = local_day(clock(), SITE.zone)
        assert dict(await capped.top_sources(SITE.id, [today])) == {
            "a.vn": 2,
            "b.vn": 1,
            OTHER_SOURCE: 3,
            DIRECT: 7,
        }
        if not cluster:
            assert counted == direct + 1
    finally:
        await capped.close()


async def test_only_a_new_visit_counts_its_source(store: Store, clock: FakeClock) -> None:
    """A reader's second view of the day, even from another external page, adds no source."""
    service = StatsService(store, clock)
    await service.save_site(SITE)
    await service.hit(view("https://www.google.com.vn/"), reader(1))
    await service.hit(view("https://facebook.com/"), reader(1))
    await service.hit(view(None), reader(2))
    await service.hit(view("https://tuson.vn/"), reader(3))
    today = local_day(clock(), SITE.zone)
    assert await store.top_sources(SITE.id, [today]) == [(DIRECT, 2), ("google.com", 1)]


async def test_a_days_sources_live_as_long_as_its_visits(
    store: Store, redis: object, clock: FakeClock
) -> None:
    """The day's set of sources gets the month hash's lifetime (the retention and a month)."""
    service = StatsService(store, clock)
    await service.save_site(SITE)
    await service.hit(view("https://bing.com/"), reader(1))
    key = store._keys.sources_day(SITE.id, local_day(clock(), SITE.zone))
    ttl = await redis.ttl(key)  # type: ignore[attr-defined]
    assert (
        (store.limits.retention_days + 30) * 86400
        < ttl
        <= (store.limits.retention_days + 31) * 86400
    )


@pytest.fixture
async def own_store(server: Server, prefix: str) -> AsyncIterator[Store]:
    """A store on a server of the test's own, which it stops and starts."""
    store = Store.from_url(server.url, Keys(prefix), Limits(page_cap=50), timeout=STORE_TIMEOUT)
    yield store
    await store.close()


async def test_a_kept_hit_counts_its_source_when_replayed(own_store: Store, server: Server) -> None:
    """A hit kept while the store is down counts its source when it is replayed."""
    clock = FakeClock(instant("2026-11-26T10:00:00+07:00"))
    service = StatsService(own_store, clock)
    await service.save_site(SITE)
    server.stop()
    kept = await service.hit(view("https://chat.zalo.me/x", "pv-kept-zalo"), reader(1))
    assert kept.body()["counted"] == "queued"
    await service.stop(time_left=0)
    server.start()
    assert await own_store.reachable()
    assert await service.drain()
    today = local_day(clock(), SITE.zone)
    assert await own_store.top_sources(SITE.id, [today]) == [("zalo.me", 1)]


def test_a_kept_hits_source_is_written_and_read_back(tmp_path: Path) -> None:
    """The journal keeps a kept hit's source (a host: nothing of its reader) for the next
    process; a hit with none writes none."""
    journal = Journal(tmp_path)
    journal.keep(Pending("xa", "/a", 1000.0, "pv-with-src", visitor="v", source="google.com"))
    journal.keep(Pending("xa", "/a", 1001.0, "pv-no-source", visitor="v"))
    journal.close()
    lines = [
        json.loads(line)
        for path in tmp_path.glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert [line.get("source") for line in lines] == ["google.com", None]
    buffer = Buffer()
    Journal(tmp_path).take_over(buffer)
    assert [hit.source for hit in buffer.head(2)] == ["google.com", ""]


# -- GET /api/v1/sites/{site}/sources --------------------------------------------------


async def hit_from(client: HttpClient, n: int, referrer: str | None) -> None:
    body = {"site": "demo", "url": "https://tuson.vn/a", "referrer": referrer}
    headers = {**BEACON, "User-Agent": f"{BROWSER} r{n}", "Origin": "https://tuson.vn"}
    response = await client.post(HIT, data=json.dumps(body), headers=headers)
    assert response.status == 200, await response.text()


async def test_sources_answers_a_windows_sources_most_visits_first(
    client: HttpClient, clock: FakeClock
) -> None:
    """/sources answers the window's sources by visits, most first, named; yesterday's visits
    are in the week but not today; limit cuts the list."""
    await put_site(client, "demo", {"domains": ["tuson.vn"]})
    await hit_from(client, 1, "https://www.google.com.vn/search?q=a")
    clock.advance(86400)
    for n, referrer in enumerate(
        [
            "https://google.com/",
            "https://m.facebook.com/",
            None,
            "https://tuson.vn/b",
            "https://coccoc.com/",
        ]
    ):
        await hit_from(client, n + 10, referrer)
    response = await client.get("/api/v1/sites/demo/sources", headers=admin())
    assert response.status == 200
    today = await response.json()
    assert today["window"] == "today" and today["date"] == local_day(clock(), SITE.zone).isoformat()
    assert today["sources"] == [
        {"source": DIRECT, "name": DIRECT, "visits": 2},
        {"source": "coccoc.com", "name": "Cốc Cốc", "visits": 1},
        {"source": "facebook.com", "name": "Facebook", "visits": 1},
        {"source": "google.com", "name": "Google", "visits": 1},
    ]
    for window in ("week", "month", "total"):
        response = await client.get(
            f"/api/v1/sites/demo/sources?window={window}&limit=2", headers=admin()
        )
        assert (await response.json())["sources"] == [
            {"source": DIRECT, "name": DIRECT, "visits": 2},
            {"source": "google.com", "name": "Google", "visits": 2},
        ], window
    response = await client.get("/api/v1/sites/demo/sources?window=yesterday", headers=admin())
    assert (await response.json())["sources"] == [
        {"source": "google.com", "name": "Google", "visits": 1}
    ]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("window=decade", 400, "invalid_window"),
        ("window=", 400, "invalid_window"),
        ("limit=0", 400, "invalid_limit"),
        ("limit=1001", 400, "invalid_limit"),
        ("limit=-1", 400, "invalid_limit"),
        ("limit=ten", 400, "invalid_limit"),
    ],
)
async def test_sources_refuses_bad_input(
    client: HttpClient, query: str, status: int, code: str
) -> None:
    """A window or limit not offered is a 400 JSON error naming it."""
    response = await client.get(f"/api/v1/sites/demo/sources?{query}", headers=admin())
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


async def test_sources_asks_a_token_of_the_site(client: HttpClient) -> None:
    """No token is 401, another site's token 403, an unknown site 404; the site's token reads."""
    await put_site(client, "other", {})
    response = await client.post("/api/v1/sites/other/tokens", headers=admin())
    other_token = (await response.json())["token"]
    response = await client.post("/api/v1/sites/demo/tokens", headers=admin())
    demo_token = (await response.json())["token"]
    assert (await client.get("/api/v1/sites/demo/sources")).status == 401
    assert (
        await client.get("/api/v1/sites/demo/sources", headers=bearer(other_token))
    ).status == 403
    assert (await client.get("/api/v1/sites/nowhere/sources", headers=admin())).status == 404
    response = await client.get("/api/v1/sites/demo/sources", headers=bearer(demo_token))
    assert response.status == 200
    assert (await response.json())["sources"] == []


async def test_top_sources_sums_any_days(store: Store, clock: FakeClock) -> None:
    """store.top_sources sums the days given (repeated days once), days without data add
    nothing, and no days give nothing."""
    service = StatsService(store, clock)
    await service.save_site(SITE)
    first = local_day(clock(), SITE.zone)
    await service.hit(view("https://bing.com/"), reader(1))
    clock.advance(86400)
    await service.hit(view("https://bing.com/"), reader(1))
    await service.hit(view("https://duckduckgo.com/"), reader(2))
    days = [first - timedelta(days=40), first, first + timedelta(days=1), first]
    assert await store.top_sources(SITE.id, days) == [("bing.com", 2), ("duckduckgo.com", 1)]
    assert await store.top_sources(SITE.id, days, limit=1) == [("bing.com", 2)]
    assert await store.top_sources(SITE.id, []) == []


async def test_the_site_page_shows_the_top_sources_named(client: HttpClient) -> None:
    """The site page lists the window's sources beside the top pages, with their names, in
    Vietnamese by default ((direct) is "Truy cập trực tiếp") and in English when switched."""
    await put_site(client, "demo", {"domains": ["tuson.vn"]})
    await hit_from(client, 1, "https://www.google.com.vn/search?q=a")
    await hit_from(client, 2, "https://www.google.com/")
    await hit_from(client, 3, None)
    await hit_from(client, 4, "https://xn--bcher-kva.de/")
    await sign_in(client)
    html = await (await client.get("/admin/sites/demo")).text()
    assert "Nguồn truy cập" in html
    google = '<td class="source" data-source="google.com">Google <small>google.com</small></td>'
    assert google + '<td class="n">2</td>' in html
    direct = '<td class="source" data-source="(direct)">Truy cập trực tiếp</td>'
    assert direct + '<td class="n">1</td>' in html
    assert "bücher.de <small>xn--bcher-kva.de</small>" in html
    english = await (await client.get("/admin/sites/demo?lang=en&window=week")).text()
    assert "Traffic sources" in english
    assert '<td class="source" data-source="(direct)">Direct</td>' in english


@pytest.mark.parametrize(
    "sources",
    [
        {"google.com/search": 1},
        {"google.com:443": 1},
        {"Google.com": 1},
        {"": 1},
        {"google.com": -1},
        {"google.com": "1"},
        {"google.com": 2, "(direct)": 2},
        ["google.com"],
    ],
)
async def test_an_import_refuses_sources_that_are_not_bare_hosts_within_the_visits(
    client: HttpClient, sources: object
) -> None:
    """A day's sources must be bare hosts, (direct) or (other), with whole numbers adding up
    to no more than its visits: else 400, and nothing is written."""
    body = {
        "import_id": "src-bad",
        "days": [{"date": "2026-11-20", "views": 5, "visits": 3, "sources": sources}],
    }
    response = await client.post("/api/v1/sites/demo/import", json=body, headers=admin())
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["code"] == "invalid_import"
    response = await client.get(
        "/api/v1/sites/demo/series?from=2026-11-20&to=2026-11-20", headers=admin()
    )
    assert (await response.json())["days"][0]["visits"] == 0


async def test_an_imports_sources_fold_as_a_hits_would(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    """Imported hosts fold into their service's host (google.com.vn → google.com) and, past
    the day's cap of hosts, into (other); the day's sources then read back from the store."""
    limits = Limits(page_cap=50, rate_limit=0, rate_limit_address=0, source_cap=2)
    capped = Store.from_url(redis_url, Keys(prefix), limits, timeout=STORE_TIMEOUT)
    try:
        service = StatsService(capped, clock)
        await service.save_site(SITE)
        await service.hit(view("https://bing.com/"), reader(1))
        today = local_day(clock(), SITE.zone)
        day = {
            "date": today.isoformat(),
            "views": 9,
            "visits": 8,
            "sources": {"google.com.vn": 2, "google.com": 1, "a.vn": 2, "(direct)": 3},
        }
        document = {"import_id": "src-fold", "days": [day]}
        reply = await backfill.import_counts(service, SITE.id, document, ADMIN)
        assert reply["imported"] is True
        got = await capped.top_sources(SITE.id, [today])
        assert got == [("(direct)", 3), ("google.com", 3), ("(other)", 2), ("bing.com", 1)]
    finally:
        await capped.close()
