"""Import and export (DESIGN §5): once per import id, every window raised, checked before
anything is written, and an export that rebuilds a site's numbers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.backfill import Day, Import, parse_csv
from statsvc.core.errors import BadInput
from statsvc.settings import Settings
from tests.helpers import (
    ADMIN_TOKEN,
    DAY,
    Client,
    FakeClock,
    Json,
    admin_request,
    check_invariants,
    dump,
    error_code,
    figures,
    get_counts,
    ok,
    post_hit,
    put_site,
)

IMPORT = "/api/v1/sites/demo/import"


async def test_an_import_applied_twice_counts_once_in_the_widgets_total(client: Client) -> None:
    """An old counter's total imported twice is counted once, and is what the widget's
    "Tất cả" (views.total and visits.total of /api/v1/counts) shows."""
    await post_hit(client, {"site": "demo", "path": "/"})
    body = {"import_id": "old-counter-2026", "total": {"views": 13457, "visits": 5012}}
    first = await ok(client, "POST", IMPORT, body=body)
    assert first["imported"] is True
    second = await ok(client, "POST", IMPORT, body=body)
    assert second == {
        "imported": False,
        "reason": "already_imported",
        "import_id": "old-counter-2026",
    }
    counts = await get_counts(client)
    assert (counts["views"]["total"], counts["visits"]["total"]) == (13458, 5013)
    assert counts["views"]["today"] == 1
    check_invariants(counts)


async def test_the_same_import_id_with_other_figures_is_409(
    client: Client, redis: Redis, prefix: str
) -> None:
    """Reusing an import id for a different import is 409 import_conflict and changes nothing."""
    await ok(client, "POST", IMPORT, body={"import_id": "a", "total": {"views": 5, "visits": 1}})
    before = await dump(redis, prefix)
    body = {"import_id": "a", "total": {"views": 6, "visits": 1}}
    response = await admin_request(client, "POST", IMPORT, body=body)
    assert await error_code(response, 409) == "import_conflict"
    assert await dump(redis, prefix) == before


async def test_imported_days_raise_every_window_that_holds_them(
    client: Client, clock: FakeClock
) -> None:
    """Each imported day raises its own day, its week, its month and the total, so every
    invariant of DESIGN §2 holds (today is Thursday 26 November)."""
    days = [
        {"date": "2026-11-26", "views": 1, "visits": 1},  # today
        {"date": "2026-11-25", "views": 10, "visits": 4},  # yesterday, this week
        {"date": "2026-11-22", "views": 100, "visits": 30},  # last week's Sunday
        {"date": "2026-10-31", "views": 1000, "visits": 200},  # last month
    ]
    reply = await ok(client, "POST", IMPORT, body={"import_id": "d", "days": days})
    assert (reply["views"], reply["visits"], reply["days"]) == (1111, 235, 4)
    counts = await get_counts(client)
    assert counts["views"] == figures(1, 10, 11, 111, 1111)
    assert counts["visits"] == figures(1, 4, 5, 35, 235)
    check_invariants(counts)
    hit = await post_hit(client, {"site": "demo", "path": "/"})
    assert hit["views"] == figures(2, 10, 12, 112, 1112)
    check_invariants(hit)
    series = await ok(client, "GET", "/api/v1/sites/demo/series?from=2026-10-31&to=2026-11-01")
    assert [(d["views"], d["visits"]) for d in series["days"]] == [(1000, 200), (0, 0)]


@pytest.mark.parametrize(
    ("total", "days", "added"),
    [
        ((500, 100), [], (500, 100)),
        (None, [(3, 2), (4, 1)], (7, 3)),
        ((500, 100), [(3, 2), (4, 1)], (500, 100)),  # the old total includes its days
        ((5, 1), [(3, 2), (4, 1)], (7, 3)),  # never less than its days
    ],
    ids=["total", "days", "total-with-days", "total-below-days"],
)
async def test_the_total_rises_by_the_larger_of_total_and_days(
    client: Client,
    total: tuple[int, int] | None,
    days: list[tuple[int, int]],
    added: tuple[int, int],
) -> None:
    """The total rises by the old counter's total, which includes its days, or by the sum of
    the days if that is larger, for views and for visits."""
    body: Json = {
        "import_id": "t",
        "days": [
            {"date": f"2026-11-{20 + n:02d}", "views": v, "visits": u}
            for n, (v, u) in enumerate(days)
        ],
    }
    if total is not None:
        body["total"] = {"views": total[0], "visits": total[1]}
    await ok(client, "POST", IMPORT, body=body)
    counts = await get_counts(client)
    assert (counts["views"]["total"], counts["visits"]["total"]) == added
    check_invariants(counts)


def document(**fields: Any) -> Json:
    """Return a valid import with `fields` changed (None removes one)."""
    body: Json = {
        "import_id": "bad",
        "total": {"views": 10, "visits": 5},
        "days": [{"date": "2026-11-20", "views": 2, "visits": 1}],
        "pages": [{"path": "/a", "views": 2}],
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def day(**fields: Any) -> Json:
    """Return a day row with `fields` changed."""
    return {"date": "2026-11-20", "views": 2, "visits": 1, **fields}


BAD_IMPORTS = [
    pytest.param([1, 2], "invalid_json", id="not-an-object"),
    pytest.param(document(import_id=None), "invalid_import_id", id="no-id"),
    pytest.param(document(import_id=""), "invalid_import_id", id="empty-id"),
    pytest.param(document(import_id="a b"), "invalid_import_id", id="id-space"),
    pytest.param(document(import_id="x" * 201), "invalid_import_id", id="id-too-long"),
    pytest.param(document(import_id=7), "invalid_import_id", id="id-number"),
    pytest.param(document(extra=1), "invalid_import", id="unknown-field"),
    pytest.param(document(format="other/1"), "invalid_import", id="wrong-format"),
    pytest.param({"import_id": "x"}, "empty_import", id="nothing"),
    pytest.param(document(total={"views": 1}), "invalid_import", id="total-no-visits"),
    pytest.param(document(total={"views": 1, "visits": 2}), "invalid_import", id="total-u>v"),
    pytest.param(document(total={"views": -1, "visits": 0}), "invalid_import", id="negative"),
    pytest.param(document(total={"views": 1.5, "visits": 0}), "invalid_import", id="fraction"),
    pytest.param(document(total={"views": True, "visits": 0}), "invalid_import", id="bool"),
    pytest.param(document(total={"views": "9", "visits": 0}), "invalid_import", id="string"),
    pytest.param(
        document(total={"views": 10**10 + 1, "visits": 0}), "invalid_import", id="too-large"
    ),
    pytest.param(document(days={"date": "2026-11-20"}), "invalid_import", id="days-object"),
    pytest.param(document(days=[day(visits=3)]), "invalid_import", id="day-u>v"),
    pytest.param(document(days=[day(date="2026-11-31")]), "invalid_date", id="day-no-such"),
    pytest.param(document(days=[day(date="20261120")]), "invalid_date", id="day-basic-form"),
    pytest.param(document(days=[day(date=None)]), "invalid_date", id="day-null"),
    pytest.param(document(days=[day(date="2026-11-27")]), "invalid_date", id="day-tomorrow"),
    pytest.param(document(days=[day(), day()]), "invalid_import", id="day-twice"),
    pytest.param(document(days=[day(extra=1)]), "invalid_import", id="day-unknown-field"),
    pytest.param(document(days=[day(rejected={"spam": 1})]), "invalid_import", id="day-reason"),
    pytest.param(document(days=[day(rejected={"bot": -1})]), "invalid_import", id="day-rej-neg"),
    pytest.param(document(pages=[{"path": "a", "views": 1}]), "invalid_path", id="page-relative"),
    pytest.param(
        document(pages=[{"path": "/" + "a" * 512, "views": 1}]), "invalid_path", id="page-long"
    ),
    pytest.param(document(pages=[{"path": "/\x00", "views": 1}]), "invalid_path", id="page-ctrl"),
    pytest.param(
        document(pages=[{"path": "/a", "views": 1}, {"path": "/a", "views": 1}]),
        "invalid_import",
        id="page-twice",
    ),
    pytest.param(
        document(pages=[{"path": "/a", "views": 11}]), "pages_exceed_total", id="page>total"
    ),
    pytest.param(
        {"import_id": "many", "days": [day()] * 100_001}, "too_many_rows", id="too-many-days"
    ),
]


@pytest.mark.parametrize(("body", "code"), BAD_IMPORTS)
async def test_a_bad_import_is_400_and_writes_nothing(
    client: Client, redis: Redis, prefix: str, body: Any, code: str
) -> None:
    """Every field of an import is checked before anything is written: a bad one is 400."""
    before = await dump(redis, prefix)
    response = await admin_request(client, "POST", IMPORT, body=body)
    assert await error_code(response, 400) == code
    assert await dump(redis, prefix) == before


async def test_an_import_body_over_16_mib_is_413(client: Client) -> None:
    """An import body larger than 16 MiB is refused with 413 before it is parsed."""
    body = b'{"import_id": "big", "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}'
    response = await client.post(
        IMPORT, data=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert await error_code(response, 413) == "body_too_large"


async def test_an_import_larger_than_a_plain_request_is_read_whole(client: Client) -> None:
    """An import larger than the 64 KiB other requests may send is accepted (5,000 days)."""
    start = date(2026, 11, 26) - timedelta(days=4999)
    days = [
        {"date": (start + timedelta(days=n)).isoformat(), "views": 2, "visits": 1}
        for n in range(5000)
    ]
    reply = await ok(client, "POST", IMPORT, body={"import_id": "many", "days": days})
    assert (reply["views"], reply["days"], reply["days_total_only"]) == (10000, 401, 4599)
    counts = await get_counts(client)
    assert counts["views"]["total"] == 10000
    check_invariants(counts)


async def test_days_older_than_the_retention_add_to_the_total_only(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A day older than the retention period (400 days) is counted in the total only; kept
    days' month hashes get a lifetime, the total none."""
    body = {
        "import_id": "old-days",
        "days": [
            {"date": "2020-01-01", "views": 50, "visits": 20},
            {"date": "2026-01-15", "views": 5, "visits": 2},
        ],
    }
    reply = await ok(client, "POST", IMPORT, body=body)
    assert (reply["days"], reply["days_total_only"]) == (1, 1)
    assert (await get_counts(client))["views"]["total"] == 55
    assert not await redis.exists(f"{prefix}:{{demo}}:m:2020-01")
    month_ttl = await redis.ttl(f"{prefix}:{{demo}}:m:2026-01")
    assert 0 < month_ttl <= (400 + 31) * DAY
    assert await redis.ttl(f"{prefix}:{{demo}}:total") == -1


async def test_a_hit_after_an_import_of_today_still_gives_the_day_keys_a_lifetime(
    client: Client, redis: Redis, prefix: str
) -> None:
    """When an import wrote today's figures first, the day's first hit still makes today's
    visitor set and page tallies expire."""
    body = {"import_id": "today", "days": [{"date": "2026-11-26", "views": 3, "visits": 2}]}
    await ok(client, "POST", IMPORT, body=body)
    hit = await post_hit(client, {"site": "demo", "path": "/"})
    assert hit["views"]["today"] == 4
    for key in ("visitors:2026-11-26", "pd:2026-11-26", "pm:2026-11", "m:2026-11"):
        assert await redis.ttl(f"{prefix}:{{demo}}:{key}") > 0, key


async def test_imported_pages_join_the_page_totals_and_fold_past_the_cap(
    client: Client,
) -> None:
    """Imported page totals add to /pages?window=total; past the page cap (50 here) new
    paths fold into (other)."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    pages = [{"path": f"/p{n:02d}", "views": 1} for n in range(55)] + [{"path": "/a", "views": 9}]
    body = {"import_id": "pages", "total": {"views": 100, "visits": 50}, "pages": pages}
    await ok(client, "POST", IMPORT, body=body)
    top = await ok(client, "GET", "/api/v1/sites/demo/pages?window=total&limit=1000")
    listed = {p["path"]: p["views"] for p in top["pages"]}
    assert listed["/a"] == 10
    assert listed["(other)"] == 6  # /p49 .. /p54: the site had /a, then 49 more fit
    assert len(listed) == 51
    counts = await get_counts(client, path="/a")
    assert counts["page"]["total"] == 10
    check_invariants(counts)


async def test_an_export_rebuilds_the_same_stats_in_an_empty_site(
    client: Client, clock: FakeClock
) -> None:
    """Export, then settings and import into an empty site, give the same stats, series and
    page totals; importing the export again changes nothing."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh", "domains": ["tuson.vn"]})
    clock.set(datetime(2026, 10, 30, 3, tzinfo=UTC))
    for n in range(40):
        for path in ("/", "/tin-tuc", f"/bai-{n % 3}"):
            view = {"site": "tuson", "url": f"https://tuson.vn{path}"}
            await post_hit(
                client, view, {"User-Agent": f"UA {n % 4}", "Origin": "https://tuson.vn"}
            )
        await post_hit(client, {"site": "tuson", "url": "https://x.example/"})  # origin
        clock.advance(DAY * 0.9)
    old = {"import_id": "old-box", "total": {"views": 13457, "visits": 5000}}
    await ok(client, "POST", "/api/v1/sites/tuson/import", body=old)
    exported = await ok(client, "GET", "/api/v1/sites/tuson/export")
    assert exported["format"] == "statsvc-export/1"
    assert exported["site"]["domains"] == ["tuson.vn"]
    assert exported["total"]["views"] == 13457 + 120

    settings = {k: v for k, v in exported["site"].items() if k != "id"}
    await put_site(client, "copy", settings)
    await ok(client, "POST", "/api/v1/sites/copy/import", body=exported)
    again = await ok(client, "POST", "/api/v1/sites/copy/import", body=exported)
    assert again["imported"] is False
    clock.advance(3600)  # nobody online on either site

    async def numbers(site: str) -> list[Json]:
        stats = await ok(client, "GET", f"/api/v1/sites/{site}/stats")
        series = await ok(client, "GET", f"/api/v1/sites/{site}/series?from=2026-10-01")
        pages = await ok(client, "GET", f"/api/v1/sites/{site}/pages?window=total&limit=1000")
        stats.pop("site")
        return [stats, series, pages]

    original, rebuilt = await numbers("tuson"), await numbers("copy")
    assert rebuilt == original
    assert original[0]["rejected"]["month"]["origin"] > 0
    copy_export = await ok(client, "GET", "/api/v1/sites/copy/export")
    for field in ("total", "days", "pages"):
        assert copy_export[field] == exported[field]


async def test_imported_pages_never_pass_the_total(
    client: Client, redis: Redis, prefix: str
) -> None:
    """Pages alone may be imported while each page's total stays within the site's total views;
    one that would pass it refuses the whole import, writing nothing."""
    for path in ("/a", "/a"):
        await post_hit(client, {"site": "demo", "path": path})
    fits = {"import_id": "p1", "pages": [{"path": "/b", "views": 2}]}
    assert (await ok(client, "POST", IMPORT, body=fits))["imported"] is True
    before = await dump(redis, prefix)
    too_many = {
        "import_id": "p2",
        "pages": [{"path": "/c", "views": 1}, {"path": "/a", "views": 1}],
    }
    response = await admin_request(client, "POST", IMPORT, body=too_many)
    assert await error_code(response, 400) == "pages_exceed_total"
    assert await dump(redis, prefix) == before
    check_invariants(await get_counts(client, path="/b"))


async def test_other_takes_no_place_below_the_page_cap(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """An export lists pages most viewed first, so "(other)" may come before real pages: with
    a page cap of 3, [/a 10, (other) 8, /b 5, /c 3] imports as those four pages, "(other)"
    taking none of the three places."""
    client = await aiohttp_client(create_app(replace(settings, page_cap=3), clock=clock))
    pages = [("/a", 10), ("(other)", 8), ("/b", 5), ("/c", 3)]
    body = {
        "import_id": "capped",
        "total": {"views": 26, "visits": 9},
        "pages": [{"path": path, "views": n} for path, n in pages],
    }
    await ok(client, "POST", IMPORT, body=body)
    top = await ok(client, "GET", "/api/v1/sites/demo/pages?window=total&limit=10")
    assert [(p["path"], p["views"]) for p in top["pages"]] == [
        ("/a", 10),
        ("(other)", 8),
        ("/b", 5),
        ("/c", 3),
    ]


async def test_new_pages_past_the_cap_fold_the_least_viewed(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """When an import brings more new pages than the places left below the cap, the most
    viewed take them, whatever the order they are listed in; the rest fold into "(other)"."""
    client = await aiohttp_client(create_app(replace(settings, page_cap=2), clock=clock))
    pages = [("/few", 1), ("/many", 7), ("/some", 4)]
    body = {
        "import_id": "order",
        "total": {"views": 12, "visits": 1},
        "pages": [{"path": path, "views": n} for path, n in pages],
    }
    await ok(client, "POST", IMPORT, body=body)
    top = await ok(client, "GET", "/api/v1/sites/demo/pages?window=total&limit=10")
    assert [(p["path"], p["views"]) for p in top["pages"]] == [
        ("/many", 7),
        ("/some", 4),
        ("(other)", 1),
    ]


async def test_a_page_imported_with_no_views_is_registered(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """A page imported with 0 views is written into the page registry with score 0, like any
    imported page, and takes its place below the cap; one with 0 views that folds past the cap
    adds nothing, not even an "(other)" of 0."""
    client = await aiohttp_client(create_app(replace(settings, page_cap=2), clock=clock))
    pages = [("/a", 1), ("/b", 0), ("/c", 0)]
    body = {
        "import_id": "zero",
        "total": {"views": 1, "visits": 1},
        "pages": [{"path": path, "views": n} for path, n in pages],
    }
    await ok(client, "POST", IMPORT, body=body)
    registry = f"{prefix}:{{demo}}:pages"
    assert await redis.zrange(registry, 0, -1, withscores=True) == [(b"/b", 0), (b"/a", 1)]


@pytest.mark.parametrize(
    ("raw", "query_keys", "page"),
    [
        ("/a/../../b?x=1#f", [], "/b"),
        ("/a/../../b?x=1#f", ["x"], "/b?x=1"),
        ("/tin-tuc//bai-1/./", [], "/tin-tuc/bai-1/"),
        ("/t%E1%BB%A9c", [], "/tức"),
        ("/a%2541", [], "/a%41"),
        ("/p?utm_source=x&id=7", ["id"], "/p?id=7"),
    ],
    ids=["dots-query-fragment", "kept-query", "slashes-dot", "escapes", "escaped-percent", "utm"],
)
async def test_imported_paths_count_on_the_page_a_hit_counts_on(
    client: Client, raw: str, query_keys: list[str], page: str
) -> None:
    """An imported path is normalised exactly as a hit's (percent-escapes, //, dot segments,
    fragment, query kept only for the site's query keys): it adds to the page a hit with that
    path counts on."""
    await put_site(client, "demo", {"query_keys": query_keys})
    body = {
        "import_id": "norm",
        "total": {"views": 5, "visits": 1},
        "pages": [{"path": raw, "views": 5}],
    }
    await ok(client, "POST", IMPORT, body=body)
    hit = await post_hit(client, {"site": "demo", "path": raw})
    assert hit["path"] == page
    assert hit["page"]["total"] == 6
    top = await ok(client, "GET", "/api/v1/sites/demo/pages?window=total&limit=10")
    assert [(p["path"], p["views"]) for p in top["pages"]] == [(page, 6)]


async def test_imported_paths_that_name_one_page_add_up(client: Client) -> None:
    """Two imported paths that normalise to the same page add up on that page."""
    body = {
        "import_id": "same-page",
        "total": {"views": 10, "visits": 1},
        "pages": [{"path": "/b", "views": 3}, {"path": "/a/../b#top", "views": 4}],
    }
    reply = await ok(client, "POST", IMPORT, body=body)
    assert reply["pages"] == 1
    top = await ok(client, "GET", "/api/v1/sites/demo/pages?window=total&limit=10")
    assert [(p["path"], p["views"]) for p in top["pages"]] == [("/b", 7)]


@pytest.mark.parametrize(
    "path",
    [
        "/a%0Ab",  # a control character once decoded
        "/a%1B[31m",  # an ANSI escape once decoded
        "/caf%E9",  # an escape that is not UTF-8
        "/" + "%C3%A9" * 300,  # 601 bytes once decoded: past the 512-byte page
        "/" + "a" * 2048,  # longer than any URL a hit may send
    ],
    ids=["newline", "ansi", "latin-1", "long-page", "long-url"],
)
async def test_a_path_a_hit_may_not_send_is_400_naming_it(
    client: Client, redis: Redis, prefix: str, path: str
) -> None:
    """A path a hit would refuse is refused on import: 400 invalid_path, the message naming
    the path, and nothing written."""
    before = await dump(redis, prefix)
    body = {
        "import_id": "bad-path",
        "total": {"views": 5, "visits": 1},
        "pages": [
            {"path": "/fine", "views": 1},
            {"path": path, "views": 1},
        ],
    }
    response = await admin_request(client, "POST", IMPORT, body=body)
    assert await error_code(response, 400) == "invalid_path"
    message = (await response.json())["error"]["message"]
    assert repr(path[:80]) in message
    assert await dump(redis, prefix) == before


async def test_an_export_of_a_page_with_a_percent_rebuilds_that_page(client: Client) -> None:
    """A page may hold a "%" that reads as an escape (a hit on /a%2541 counts on /a%41): its
    export gives a path that imports back onto the same page, not onto /aA."""
    for path in ("/a%2541", "/a%2541", "/100%25"):
        await post_hit(client, {"site": "demo", "path": path})
    exported = await ok(client, "GET", "/api/v1/sites/demo/export")
    await put_site(client, "copy", {})
    await ok(client, "POST", "/api/v1/sites/copy/import", body=exported)
    top = await ok(client, "GET", "/api/v1/sites/copy/pages?window=total&limit=10")
    assert [(p["path"], p["views"]) for p in top["pages"]] == [("/a%41", 2), ("/100%", 1)]


MAX_FIGURE = 2**53 - 1


@pytest.mark.parametrize(
    ("key", "field", "body"),
    [
        ("total", "v", {"total": {"views": 2, "visits": 0}}),
        ("total", "u", {"total": {"views": 2, "visits": 2}}),
        ("m:2026-11", "v", {"days": [{"date": "2026-11-20", "views": 2, "visits": 0}]}),
        ("m:2026-11", "20u", {"days": [{"date": "2026-11-20", "views": 2, "visits": 2}]}),
        (
            "rej:2026-11-20",
            "bot",
            {"days": [{"date": "2026-11-20", "views": 0, "visits": 0, "rejected": {"bot": 2}}]},
        ),
    ],
    ids=["total-views", "total-visits", "month-views", "day-visits", "refused-by-reason"],
)
async def test_an_import_that_would_pass_2_53_is_409_and_writes_nothing(
    client: Client, redis: Redis, prefix: str, key: str, field: str, body: Json
) -> None:
    """An import that would take any stored figure past 2^53 - 1 (where a double, Lua's or a
    JSON reader's, loses units) is 409 too_large and writes nothing; up to 2^53 - 1 exactly is
    imported."""
    stored = f"{prefix}:{{demo}}:{key}"
    await redis.hset(stored, field, MAX_FIGURE - 1)
    before = await dump(redis, prefix)
    response = await admin_request(client, "POST", IMPORT, body={"import_id": "big", **body})
    assert await error_code(response, 409) == "too_large"
    assert await dump(redis, prefix) == before

    await redis.hset(stored, field, MAX_FIGURE - 2)  # 2 more is 2^53 - 1 exactly: it fits
    await ok(client, "POST", IMPORT, body={"import_id": "fits", **body})
    assert await redis.hget(stored, field) == str(MAX_FIGURE).encode()


async def test_a_stored_figure_past_2_53_is_compared_exactly(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A stored total already past 2^53 (2^53 + 1 reads as 2^53 as a double) is never read as
    a double: adding to it is refused; an import that adds nothing to it is not."""
    total = f"{prefix}:{{demo}}:total"
    await redis.hset(total, mapping={"v": 2**53 + 1, "u": 5})
    too_large = {"import_id": "more", "total": {"views": 1, "visits": 1}}
    response = await admin_request(client, "POST", IMPORT, body=too_large)
    assert await error_code(response, 409) == "too_large"
    days = {"import_id": "none", "total": {"views": 0, "visits": 0}}
    await ok(client, "POST", IMPORT, body=days)
    assert await redis.hget(total, "v") == str(2**53 + 1).encode()


async def test_a_page_that_would_pass_2_53_is_409_and_writes_nothing(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A page total that would pass 2^53 - 1 is refused like any other figure."""
    await redis.hset(f"{prefix}:{{demo}}:total", "v", MAX_FIGURE - 10)
    await redis.zadd(f"{prefix}:{{demo}}:pages", {"/a": MAX_FIGURE - 10})
    before = await dump(redis, prefix)
    body = {"import_id": "page", "pages": [{"path": "/a", "views": 11}]}
    response = await admin_request(client, "POST", IMPORT, body=body)
    assert await error_code(response, 409) == "too_large"
    assert await dump(redis, prefix) == before


@pytest.mark.parametrize(
    "row",
    [
        "2026-11-20,\u0661\u0662\u0663,1",  # Arabic-Indic 123
        "2026-11-20,\uff11\uff12\uff13,1",  # fullwidth 123
        "2026-11-20,3,\u00b2",  # superscript two
        "2026-11-20,1_000,1",
    ],
    ids=["arabic-indic", "fullwidth", "superscript", "underscore"],
)
def test_a_csv_figure_is_ascii_digits_only(row: str) -> None:
    """A CSV figure of other digits than ASCII 0-9 (which int() and str.isdigit take) is
    refused with the line it is on."""
    with pytest.raises(BadInput, match="line 2") as refused:
        parse_csv(f"date,views,visits\n{row}\n")
    assert refused.value.code == "invalid_csv"


def test_the_digest_is_the_one_stored_imports_were_given() -> None:
    """An import's digest is the SHA-256 of the JSON of its figures as it always was, so an
    import applied before is recognised as the same import again."""
    days = tuple(
        Day(date(2020, 1, 1) + timedelta(days=n), n + 2, 1, {"bot": n} if n % 3 else {})
        for n in range(2500)
    )
    imported = Import("x", (9, 4), days[::-1], (("/b", 1), ("/a", 2)))
    body = {
        "total": imported.total,
        "days": [
            (d.day.isoformat(), d.views, d.visits, sorted(d.rejected.items()))
            for d in sorted(imported.days, key=lambda d: d.day)
        ],
        "pages": sorted(imported.pages),
    }
    expected = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    assert imported.digest() == expected
    assert (
        Import("y", None).digest()
        == hashlib.sha256(
            json.dumps({"total": None, "days": [], "pages": []}, sort_keys=True).encode()
        ).hexdigest()
    )
