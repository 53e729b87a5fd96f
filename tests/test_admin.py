"""The admin API of DESIGN §5: tokens and their rights, stats, pages, series, audit, refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.settings import Settings
from tests.helpers import (
    ADMIN_TOKEN,
    DAY,
    Client,
    FakeClock,
    admin_request,
    blobs,
    dump,
    error_code,
    new_token,
    ok,
    post_hit,
    put_site,
)

REASONS = ("bot", "prefetch", "rate_limited", "origin", "dnt", "excluded", "duplicate")
NONE_REJECTED = dict.fromkeys(REASONS, 0)
READS = ("stats", "pages", "series", "export", "audit")


# -- tokens and rights ------------------------------------------------------------------


async def test_a_site_token_reads_its_own_site_only(client: Client) -> None:
    """A site's token reads that site's stats, pages, series, export, audit and settings, and
    gets 403 on another site's."""
    await put_site(client, "tuson", {})
    token = await new_token(client, "tuson")
    for read in READS:
        assert (
            await admin_request(client, "GET", f"/api/v1/sites/tuson/{read}", token)
        ).status == 200
        response = await admin_request(client, "GET", f"/api/v1/sites/demo/{read}", token)
        assert await error_code(response, 403) == "forbidden"
    assert (await ok(client, "GET", "/api/v1/sites/tuson", token))["id"] == "tuson"
    assert await error_code(await admin_request(client, "GET", "/api/v1/sites/demo", token), 403)
    assert await ok(client, "GET", "/api/v1/sites", token) == {"sites": ["tuson"]}
    assert await ok(client, "GET", "/api/v1/sites") == {"sites": ["demo", "tuson"]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "", {"name": "x"}),
        ("POST", "/import", {"import_id": "a", "total": {"views": 1, "visits": 1}}),
        ("POST", "/tokens", None),
        ("GET", "/tokens", None),
        ("DELETE", "/tokens/0123456789abcdef", None),
    ],
)
async def test_a_site_token_changes_nothing(
    client: Client, redis: Redis, prefix: str, method: str, path: str, body: Any
) -> None:
    """A site's token may not change settings, import, or make, list or revoke tokens: 403,
    and nothing is written."""
    await put_site(client, "tuson", {})
    token = await new_token(client, "tuson")
    before = await dump(redis, prefix)
    response = await admin_request(client, method, f"/api/v1/sites/tuson{path}", token, body)
    assert await error_code(response, 403) == "forbidden"
    assert await dump(redis, prefix) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/stats"),
        ("GET", "/pages"),
        ("GET", "/series"),
        ("GET", "/audit"),
        ("GET", "/export"),
        ("POST", "/import"),
        ("POST", "/tokens"),
        ("GET", "/tokens"),
        ("DELETE", "/tokens/0123456789abcdef"),
    ],
)
@pytest.mark.parametrize(
    "token",
    [None, "wrong", ADMIN_TOKEN + "x", "svt_demo.0123456789abcdef." + "A" * 43],
    ids=["none", "wrong", "longer", "forged-site-token"],
)
async def test_admin_endpoints_without_a_valid_token_are_401(
    client: Client, method: str, path: str, token: str | None
) -> None:
    """Every admin endpoint answers 401 as a JSON error to a missing or wrong token."""
    response = await admin_request(client, method, f"/api/v1/sites/demo{path}", token, {})
    assert await error_code(response, 401) == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/stats", None),
        ("GET", "/pages", None),
        ("GET", "/series", None),
        ("GET", "/audit", None),
        ("GET", "/export", None),
        ("POST", "/import", {"import_id": "a", "total": {"views": 1, "visits": 1}}),
        ("POST", "/tokens", None),
        ("GET", "/tokens", None),
        ("DELETE", "/tokens/0123456789abcdef", None),
    ],
)
async def test_admin_endpoints_of_an_unknown_site_are_404(
    client: Client, method: str, path: str, body: Any
) -> None:
    """Every per-site admin endpoint answers 404 unknown_site for a site that does not exist."""
    response = await admin_request(client, method, f"/api/v1/sites/nosuch{path}", ADMIN_TOKEN, body)
    assert await error_code(response, 404) == "unknown_site"


async def test_a_bad_site_id_in_the_url_is_400(client: Client) -> None:
    """A site id that cannot be one is 400 invalid_site."""
    response = await admin_request(client, "GET", "/api/v1/sites/Bad.Site/stats")
    assert await error_code(response, 400) == "invalid_site"


async def test_a_token_is_shown_once_and_stored_only_as_a_hash(
    client: Client, redis: Redis, prefix: str
) -> None:
    """The token is in the creation reply only: the list shows ids and dates, and the store
    holds no byte of its secret."""
    token = await new_token(client, "demo")
    token_id, secret = token.split(".")[1:]
    listed = await ok(client, "GET", "/api/v1/sites/demo/tokens")
    assert listed == {
        "site": "demo",
        "tokens": [
            {"token_id": token_id, "created_at": "2026-11-26T10:00:00Z", "created_by": "admin"}
        ],
    }
    stored = b"".join(blobs(await dump(redis, prefix)))
    assert secret.encode() not in stored
    assert token.encode() not in stored
    assert token_id.encode() in stored


async def test_a_revoked_token_is_refused_at_once(client: Client) -> None:
    """DELETE of a token is 204 and its next request is 401; revoking it again is 404."""
    token = await new_token(client, "demo")
    token_id = token.split(".")[1]
    assert (await admin_request(client, "GET", "/api/v1/sites/demo/stats", token)).status == 200
    response = await admin_request(client, "DELETE", f"/api/v1/sites/demo/tokens/{token_id}")
    assert response.status == 204
    response = await admin_request(client, "GET", "/api/v1/sites/demo/stats", token)
    assert await error_code(response, 401) == "unauthorized"
    response = await admin_request(client, "DELETE", f"/api/v1/sites/demo/tokens/{token_id}")
    assert await error_code(response, 404) == "unknown_token"
    assert await ok(client, "GET", "/api/v1/sites/demo/tokens") == {"site": "demo", "tokens": []}


async def test_a_token_of_one_site_does_not_open_another_with_the_same_secret(
    client: Client,
) -> None:
    """A token rewritten to name another site (or another id) is 401: the hash binds all."""
    await put_site(client, "tuson", {})
    token = await new_token(client, "demo")
    _, token_id, secret = token.split(".")
    await new_token(client, "tuson")
    forged = f"svt_tuson.{token_id}.{secret}"
    response = await admin_request(client, "GET", "/api/v1/sites/tuson/stats", forged)
    assert await error_code(response, 401) == "unauthorized"


# -- stats and refused hits -------------------------------------------------------------


async def test_stats_are_the_counts_without_a_page_plus_refusals(
    client: Client, clock: FakeClock
) -> None:
    """/stats answers the §3 counts object without path or page, plus refused hits by window
    and reason."""
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-stats-0001"})
    stats = await ok(client, "GET", "/api/v1/sites/demo/stats")
    counts = await (await client.get("/api/v1/counts", params={"site": "demo"})).json()
    assert {k: v for k, v in stats.items() if k != "rejected"} == counts
    assert "path" not in stats
    assert "page" not in stats
    assert stats["rejected"] == {w: NONE_REJECTED for w in ("today", "yesterday", "week", "month")}


async def test_refused_hits_are_reported_by_reason_and_day(
    client: Client, clock: FakeClock
) -> None:
    """Duplicate, origin and dnt refusals are counted per local day, in stats and series."""
    await put_site(client, "tuson", {"domains": ["tuson.vn"], "respect_dnt": True})
    view = {"site": "tuson", "url": "https://tuson.vn/a", "id": "pv-refused-01"}
    on_site, elsewhere = {"Origin": "https://tuson.vn"}, {"Origin": "https://evil.example"}
    await post_hit(client, view, on_site)
    await post_hit(client, view, on_site)  # duplicate
    await post_hit(client, {"site": "tuson", "url": "https://evil.example/a"}, elsewhere)  # origin
    clock.advance(DAY)
    await post_hit(client, view, on_site)  # still a duplicate the next day
    await post_hit(client, {"site": "tuson", "url": "https://tuson.vn/b"}, {**on_site, "DNT": "1"})
    stats = await ok(client, "GET", "/api/v1/sites/tuson/stats")
    assert stats["rejected"]["today"] == NONE_REJECTED | {"duplicate": 1, "dnt": 1}
    assert stats["rejected"]["yesterday"] == NONE_REJECTED | {"duplicate": 1, "origin": 1}
    assert stats["rejected"]["month"] == NONE_REJECTED | {"duplicate": 2, "origin": 1, "dnt": 1}
    assert stats["views"]["total"] == 1
    series = await ok(client, "GET", "/api/v1/sites/tuson/series?from=2026-11-26&to=2026-11-27")
    assert [d["rejected"] for d in series["days"]] == [
        NONE_REJECTED | {"duplicate": 1, "origin": 1},
        NONE_REJECTED | {"duplicate": 1, "dnt": 1},
    ]


# -- pages -------------------------------------------------------------------------------


async def hits(client: Client, path: str, n: int) -> None:
    """Count `n` views of `path` on the demo site."""
    for _ in range(n):
        await post_hit(client, {"site": "demo", "path": path})


async def test_top_pages_of_every_window_most_viewed_first(
    client: Client, clock: FakeClock
) -> None:
    """/pages lists a window's pages most viewed first (ties by path), for today, yesterday,
    the week (its days summed), the month and all time, cut at `limit`."""
    clock.set(datetime(2026, 11, 29, 10, tzinfo=UTC))  # a Sunday: the week before
    await hits(client, "/old", 5)
    clock.advance(DAY)  # Monday
    await hits(client, "/a", 1)
    await hits(client, "/b", 3)
    clock.advance(DAY)  # Tuesday, 1 December
    await hits(client, "/a", 3)
    await hits(client, "/c", 1)

    async def top(window: str, limit: int = 10) -> list[tuple[str, int]]:
        reply = await ok(client, "GET", f"/api/v1/sites/demo/pages?window={window}&limit={limit}")
        assert (reply["window"], reply["date"]) == (window, "2026-12-01")
        return [(p["path"], p["views"]) for p in reply["pages"]]

    assert await top("today") == [("/a", 3), ("/c", 1)]
    assert await top("yesterday") == [("/b", 3), ("/a", 1)]
    assert await top("week") == [("/a", 4), ("/b", 3), ("/c", 1)]
    assert await top("month") == [("/a", 3), ("/c", 1)]
    assert await top("total") == [("/old", 5), ("/a", 4), ("/b", 3), ("/c", 1)]
    assert await top("total", 2) == [("/old", 5), ("/a", 4)]
    assert await top("week", 1) == [("/a", 4)]


async def test_top_pages_default_to_today(client: Client) -> None:
    """/pages without parameters is today's top 10."""
    await hits(client, "/x", 1)
    reply = await ok(client, "GET", "/api/v1/sites/demo/pages")
    assert reply == {"window": "today", "date": "2026-11-26", "pages": [{"path": "/x", "views": 1}]}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("window=year", "invalid_window"),
        ("window=", "invalid_window"),
        ("limit=0", "invalid_limit"),
        ("limit=1001", "invalid_limit"),
        ("limit=-1", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("limit=99999999999999999999", "invalid_limit"),
    ],
)
async def test_top_pages_reject_bad_parameters(client: Client, query: str, code: str) -> None:
    """An unknown window or a limit outside 1..1000 is 400."""
    response = await admin_request(client, "GET", f"/api/v1/sites/demo/pages?{query}")
    assert await error_code(response, 400) == code


# -- series ------------------------------------------------------------------------------


async def test_series_gives_every_day_of_the_range(client: Client, clock: FakeClock) -> None:
    """/series answers views and visits of each local day from `from` to `to`, zeros included,
    across a month's end."""
    clock.set(datetime(2026, 11, 30, 10, tzinfo=UTC))
    await hits(client, "/a", 2)
    clock.advance(2 * DAY)
    await hits(client, "/a", 1)
    reply = await ok(client, "GET", "/api/v1/sites/demo/series?from=2026-11-29&to=2026-12-03")
    assert (reply["from"], reply["to"]) == ("2026-11-29", "2026-12-03")
    rows = [(d["date"], d["views"], d["visits"]) for d in reply["days"]]
    assert rows == [
        ("2026-11-29", 0, 0),
        ("2026-11-30", 2, 1),
        ("2026-12-01", 0, 0),
        ("2026-12-02", 1, 1),
        ("2026-12-03", 0, 0),
    ]


async def test_series_defaults_to_the_last_30_days(client: Client) -> None:
    """/series without dates ends today in the site's zone and spans 30 days."""
    reply = await ok(client, "GET", "/api/v1/sites/demo/series")
    assert (reply["from"], reply["to"], len(reply["days"])) == ("2026-10-28", "2026-11-26", 30)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-11-27&to=2026-11-26", "invalid_range"),
        ("from=2025-10-22&to=2026-11-26", "invalid_range"),  # 401 days
        ("from=2026-02-30&to=2026-03-01", "invalid_date"),
        ("from=26-11-01&to=2026-11-26", "invalid_date"),
        ("from=2026-W48-1&to=2026-11-26", "invalid_date"),
        ("to=tomorrow", "invalid_date"),
        ("to=0001-01-05", "invalid_date"),  # the 30 days before it are before year 1
        ("from=9999-12-31&to=9999-12-31", "invalid_date"),
    ],
)
async def test_series_bounds(client: Client, query: str, code: str) -> None:
    """A reversed range, more than 400 days or a date not YYYY-MM-DD is 400."""
    response = await admin_request(client, "GET", f"/api/v1/sites/demo/series?{query}")
    assert await error_code(response, 400) == code


async def test_series_of_400_days_is_accepted(client: Client) -> None:
    """A series of exactly 400 days is answered."""
    reply = await ok(client, "GET", "/api/v1/sites/demo/series?from=2025-10-23&to=2026-11-26")
    assert len(reply["days"]) == 400


# -- audit -------------------------------------------------------------------------------


async def test_every_adjustment_is_in_the_audit_trail(client: Client, clock: FakeClock) -> None:
    """Settings changes, imports, token creation and revocation are recorded, newest first,
    with who and when; `limit` cuts the list."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh"})
    clock.advance(60)
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    clock.advance(60)
    body = {"import_id": "old-1", "total": {"views": 10, "visits": 5}}
    await ok(client, "POST", "/api/v1/sites/tuson/import", body=body)
    await ok(client, "POST", "/api/v1/sites/tuson/import", body=body)  # no change: no entry
    clock.advance(60)
    token_id = (await new_token(client, "tuson")).split(".")[1]
    clock.advance(60)
    assert (
        await admin_request(client, "DELETE", f"/api/v1/sites/tuson/tokens/{token_id}")
    ).status == 204
    reply = await ok(client, "GET", "/api/v1/sites/tuson/audit")
    assert reply["site"] == "tuson"
    entries = reply["entries"]
    assert [(e["at"], e["by"], e["action"]) for e in entries] == [
        ("2026-11-26T10:04:00Z", "admin", "token_revoke"),
        ("2026-11-26T10:03:00Z", "admin", "token_create"),
        ("2026-11-26T10:02:00Z", "admin", "import"),
        ("2026-11-26T10:01:00Z", "admin", "settings"),
        ("2026-11-26T10:00:00Z", "admin", "settings"),
    ]
    assert entries[0]["detail"] == entries[1]["detail"] == {"token_id": token_id}
    assert entries[2]["detail"] == {
        "import_id": "old-1",
        "views": 10,
        "visits": 5,
        "days": 0,
        "days_total_only": 0,
        "pages": 0,
    }
    assert entries[3]["detail"] == {"created": False, "name": "Tú Sơn"}
    assert entries[4]["detail"] == {"created": True, "timezone": "Asia/Ho_Chi_Minh"}
    limited = await ok(client, "GET", "/api/v1/sites/tuson/audit?limit=2")
    assert limited["entries"] == entries[:2]
    for query in ("limit=0", "limit=1001", "limit=x"):
        response = await admin_request(client, "GET", f"/api/v1/sites/tuson/audit?{query}")
        assert await error_code(response, 400) == "invalid_limit"


async def test_a_refused_settings_change_is_not_audited(client: Client) -> None:
    """An invalid settings change is 400 and leaves no audit entry."""
    response = await admin_request(client, "PUT", "/api/v1/sites/demo", body={"locale": "fr"})
    assert await error_code(response, 400) == "invalid_setting"
    assert (await ok(client, "GET", "/api/v1/sites/demo/audit"))["entries"] == []


async def test_the_audit_trail_is_capped(client: Client) -> None:
    """The audit trail keeps the latest 1,000 entries."""
    for n in range(1005):
        body = {"import_id": f"cap-{n}", "total": {"views": 1, "visits": 1}}
        await ok(client, "POST", "/api/v1/sites/demo/import", body=body)
    entries = (await ok(client, "GET", "/api/v1/sites/demo/audit?limit=1000"))["entries"]
    assert len(entries) == 1000
    assert entries[0]["detail"]["import_id"] == "cap-1004"
    assert entries[-1]["detail"]["import_id"] == "cap-5"


async def test_site_tokens_work_while_the_admin_token_is_unset(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock, client: Client
) -> None:
    """With no admin token configured, a site's read-only token still reads its site, and a
    401 says the admin API is closed."""
    token = await new_token(client, "demo")
    closed = await aiohttp_client(create_app(replace(settings, admin_token=None), clock=clock))
    assert (await admin_request(closed, "GET", "/api/v1/sites/demo/stats", token)).status == 200
    response = await admin_request(closed, "GET", "/api/v1/sites/demo/stats", "anything")
    assert await error_code(response, 401) == "unauthorized"
    assert "STATSVC_ADMIN_TOKEN" in (await response.json())["error"]["message"]


@pytest.mark.parametrize("window", ["today", "month", "total", "week"])
async def test_top_pages_cut_ties_by_path(client: Client, window: str) -> None:
    """Pages with equal views are listed by path, also where `limit` cuts them."""
    for path in ("/z", "/y", "/x", "/w", "/b", "/b"):
        await post_hit(client, {"site": "demo", "path": path})
    reply = await ok(client, "GET", f"/api/v1/sites/demo/pages?window={window}&limit=3")
    assert [(p["path"], p["views"]) for p in reply["pages"]] == [("/b", 2), ("/w", 1), ("/x", 1)]
