"""The HTTP API of DESIGN §3, §5 and §6 against the real store: shapes, rules, CORS, keys."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.requester import parse_networks
from statsvc.settings import Settings
from statsvc.store.batcher import ID_TTL
from tests.helpers import (
    ADMIN_TOKEN,
    BEACON,
    COUNTS,
    DAY,
    HCM,
    HIT,
    PING,
    Client,
    FakeClock,
    Json,
    admin,
    blobs,
    dump,
    error_code,
    get_counts,
    on_demo,
    post_hit,
    post_ping,
    put_site,
)

EIGHT_KIB = 8 * 1024  # the largest hit or ping body accepted
ZERO = {"today": 0, "yesterday": 0, "week": 0, "month": 0, "total": 0}
FIGURE_KEYS = set(ZERO)


# -- helpers ---------------------------------------------------------------------------


def on_keyed(**fields: object) -> str:
    """Return a hit body for the `keyed` site, whose query key is `id`, with `fields`."""
    return json.dumps({"site": "keyed", **fields})


async def get_site(client: Client, site: str) -> Json:
    """Return a site's settings from the admin API."""
    response = await client.get(f"/api/v1/sites/{site}", headers=admin())
    assert response.status == 200, await response.text()
    reply: Json = await response.json()
    return reply


async def raw_status(client: Client, request: bytes) -> int:
    """Send `request` byte for byte (headers no client library would encode); return the status."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


@pytest.fixture
async def proxied(aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock) -> Client:
    """A client of an app that trusts X-Forwarded-For from 127.0.0.1, the test client's address."""
    trusting = replace(settings, trusted_proxies=parse_networks("127.0.0.1/32"))
    return await aiohttp_client(create_app(trusting, clock=clock))


# -- reply shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain;charset=UTF-8",
        "text/plain",
        "application/json",
        "application/json; charset=utf-8",
    ],
)
async def test_hit_reply_has_the_documented_shape(
    client: Client, clock: FakeClock, content_type: str
) -> None:
    """A hit sent as text/plain or JSON answers every §3 key, dated in the site's own zone."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh"})
    clock.set(datetime(2026, 11, 26, 20, 0, tzinfo=UTC))  # 03:00 on the 27th in Hanoi
    body = {
        "site": "tuson",
        "url": "https://tuson.example.vn/tin-tuc/a?x=1#top",
        "referrer": "https://www.google.com/",
        "title": "Tin t\u1ee9c",
        "id": "pv-shape-0001",
    }
    response = await client.post(HIT, data=json.dumps(body), headers={"Content-Type": content_type})
    assert response.status == 200
    assert response.content_type == "application/json"
    reply = await response.json()
    one = {"today": 1, "yesterday": 0, "week": 1, "month": 1, "total": 1}
    assert reply == {
        "site": "tuson",
        "path": "/tin-tuc/a",
        "counted": True,
        "date": "2026-11-27",
        "timezone": "Asia/Ho_Chi_Minh",
        "locale": "vi",
        "online": 1,
        "views": one,
        "visits": one,
        "page": {"today": 1, "total": 1, "online": 1},
    }
    assert reply["counted"] is True
    numbers = [
        reply["online"],
        *(n for k in ("views", "visits", "page") for n in reply[k].values()),
    ]
    assert all(type(n) is int for n in numbers)


@pytest.mark.parametrize("endpoint", [HIT, PING])
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "text/html",
        "application/jsonp",
        None,
    ],
)
async def test_other_content_types_are_415(
    client: Client, endpoint: str, content_type: str | None
) -> None:
    """A hit or ping body neither application/json nor text/plain is 415 and counts nothing."""
    data = json.dumps({"site": "demo", "path": "/"}).encode()
    if content_type is None:
        response = await client.post(endpoint, data=data, skip_auto_headers=["Content-Type"])
    else:
        response = await client.post(endpoint, data=data, headers={"Content-Type": content_type})
    assert await error_code(response, 415) == "unsupported_media_type"
    counts = await get_counts(client)
    assert (counts["views"], counts["online"]) == (ZERO, 0)


def padded_body(size: int) -> bytes:
    """Return a valid hit body of exactly `size` bytes."""
    raw = json.dumps({"site": "demo", "path": "/"}).encode()
    return raw + b" " * (size - len(raw))


async def test_body_of_8_kib_is_accepted(client: Client) -> None:
    """A hit body of exactly 8 KiB is read and counted."""
    response = await client.post(HIT, data=padded_body(EIGHT_KIB), headers=BEACON)
    assert response.status == 200
    assert (await response.json())["counted"] is True


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), 1024):
        yield data[start : start + 1024]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_8_kib_is_413(client: Client, chunked: bool) -> None:
    """A hit body one byte over 8 KiB is 413, whether its length is declared or streamed."""
    data = padded_body(EIGHT_KIB + 1)
    response = await client.post(HIT, data=_chunks(data) if chunked else data, headers=BEACON)
    assert await error_code(response, 413) == "body_too_large"
    assert (await get_counts(client))["views"] == ZERO


async def test_counts_without_path_answer_the_site_only(client: Client) -> None:
    """GET counts without a path answers the site's figures: no path, page or counted."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    reply = await get_counts(client)
    assert set(reply) == {"site", "date", "timezone", "locale", "online", "views", "visits"}
    assert (reply["site"], reply["date"], reply["timezone"]) == ("demo", "2026-11-26", HCM)
    assert set(reply["views"]) == set(reply["visits"]) == FIGURE_KEYS
    assert reply["views"]["total"] == 1


async def test_counts_with_path_answer_the_page_and_count_nothing(client: Client) -> None:
    """GET counts with a path adds the page; reading counts no view and puts nobody online."""
    for path in (None, "/a", "/b"):
        await get_counts(client, path=path)
    before = await get_counts(client, path="/a")
    assert before == {
        "site": "demo",
        "path": "/a",
        "date": "2026-11-26",
        "timezone": HCM,
        "locale": "vi",
        "online": 0,
        "views": ZERO,
        "visits": ZERO,
        "page": {"today": 0, "total": 0, "online": 0},
    }
    hit = await post_hit(client, {"site": "demo", "path": "/a"})
    for path in (None, "/a", "/b", "/a"):
        await get_counts(client, path=path)
    after = await get_counts(client, path="/a?utm_source=x#top")
    assert after == {key: value for key, value in hit.items() if key != "counted"}


async def test_ping_keeps_a_reader_online_past_the_window(client: Client, clock: FakeClock) -> None:
    """A heartbeat keeps its visitor online after the window since the hit has passed."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    clock.advance(240)
    assert await post_ping(client, {"site": "demo", "path": "/a"}) == {
        "online": 1,
        "page": {"online": 1},
    }
    clock.advance(240)  # 480 s after the hit, 240 s after the heartbeat
    reply = await get_counts(client, path="/a")
    assert (reply["online"], reply["page"]["online"]) == (1, 1)
    assert reply["views"]["total"] == 1  # a heartbeat is no view
    clock.advance(61)  # 301 s after the heartbeat
    reply = await get_counts(client, path="/a")
    assert (reply["online"], reply["page"]["online"]) == (0, 0)


async def test_online_lapses_after_the_window_without_a_ping(
    client: Client, clock: FakeClock
) -> None:
    """Without a heartbeat, a visitor is online for the window (300 s) after its hit, then not."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    clock.advance(299)
    assert (await get_counts(client))["online"] == 1
    clock.advance(2)
    assert (await get_counts(client))["online"] == 0


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("POST", HIT, '{"site": "nosuch", "path": "/"}'),
        ("POST", PING, '{"site": "nosuch", "path": "/"}'),
        ("GET", "/api/v1/counts?site=nosuch", None),
        ("GET", "/api/v1/counts?site=nosuch&path=/", None),
    ],
)
async def test_unknown_site_is_404(client: Client, method: str, url: str, data: str | None) -> None:
    """A valid site id that names no site is 404 unknown_site."""
    response = await client.request(method, url, data=data, headers=BEACON)
    assert await error_code(response, 404) == "unknown_site"


async def test_invalid_json_is_400_in_the_error_shape(client: Client) -> None:
    """A body that is not JSON is 400 invalid_json, as an application/json error object."""
    response = await client.post(HIT, data='{"site": "demo",', headers=BEACON)
    assert await error_code(response, 400) == "invalid_json"


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/nope"), ("GET", "/api/v1/nope"), ("POST", "/api/v1/hit/"), ("GET", "/api/v2/hit")],
)
async def test_unknown_route_is_404_in_the_error_shape(
    client: Client, method: str, url: str
) -> None:
    """A route that does not exist is 404 as a JSON error."""
    response = await client.request(method, url)
    assert await error_code(response, 404) == "not_found"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", HIT),
        ("PUT", PING),
        ("POST", COUNTS),
        ("DELETE", "/api/v1/sites/demo"),
        ("POST", "/healthz"),
    ],
)
async def test_wrong_method_is_405_in_the_error_shape(
    client: Client, method: str, url: str
) -> None:
    """A known route called with a wrong method is 405 as a JSON error, with Allow kept."""
    response = await client.request(method, url, headers=admin())
    assert await error_code(response, 405) == "method_not_allowed"
    assert response.headers["Allow"]


HOSTILE = [
    pytest.param("POST", HIT, on_demo(path="/\ud800"), id="hit-path-lone-surrogate"),
    pytest.param("POST", HIT, on_demo(url="http://x.vn/\udcff"), id="hit-url-lone-surrogate"),
    pytest.param("POST", PING, on_demo(path="/a\ud800"), id="ping-path-lone-surrogate"),
    pytest.param("POST", HIT, on_keyed(path="/a?id=\ud800"), id="hit-kept-query-surrogate"),
    pytest.param("POST", HIT, on_keyed(path="/a?id=%FF"), id="hit-kept-query-not-utf-8"),
    pytest.param("POST", HIT, on_keyed(path="/a?id=%00"), id="hit-kept-query-nul"),
    pytest.param("POST", HIT, b'{"site": "demo", "path": "/\xff"}', id="hit-not-utf-8"),
    pytest.param("POST", HIT, b"[" * 6000, id="hit-deeply-nested"),
    pytest.param("POST", HIT, b"\x00" * 100, id="hit-nul-bytes"),
    pytest.param("POST", HIT, on_demo(path="/%FF"), id="hit-escape-not-utf-8"),
    pytest.param("POST", HIT, on_demo(path="/a%00"), id="hit-escaped-nul"),
    pytest.param("POST", HIT, on_demo(path="/" + "a" * 600), id="hit-path-too-long"),
    pytest.param("POST", HIT, on_demo(site={"$ne": 1}, path="/"), id="hit-site-object"),
    pytest.param("POST", HIT, on_demo(path="/", id=["x"]), id="hit-id-list"),
    pytest.param("GET", COUNTS, None, id="counts-no-site"),
    pytest.param("GET", COUNTS + "?site=%FF", None, id="counts-site-not-utf-8"),
    pytest.param("GET", COUNTS + "?site=demo&path=x", None, id="counts-relative-path"),
    pytest.param("GET", COUNTS + "?site=demo&path=/" + "a" * 3000, None, id="counts-long-path"),
    pytest.param("GET", COUNTS + "?site=demo&path=/a%2500", None, id="counts-escaped-nul"),
    pytest.param(
        "PUT", "/api/v1/sites/s1", json.dumps({"name": "\ud800"}), id="put-name-surrogate"
    ),
    pytest.param("PUT", "/api/v1/sites/s1", b'{"name": "\xff"}', id="put-not-utf-8"),
    pytest.param("PUT", "/api/v1/sites/s1", b"[" * 6000, id="put-deeply-nested"),
    pytest.param("PUT", "/api/v1/sites/s1", b'{"online_window": 1e400}', id="put-infinity"),
    pytest.param("PUT", "/api/v1/sites/s1", b'{"online_window": NaN}', id="put-NaN"),
    pytest.param("PUT", "/api/v1/sites/%7Ba%7D", b"{}", id="put-hash-tag-site"),
]


@pytest.mark.parametrize(("method", "url", "data"), HOSTILE)
async def test_hostile_input_is_a_4xx_json_error(
    client: Client, method: str, url: str, data: str | bytes | None
) -> None:
    """No input yields a 5xx: each of these is answered with a 4xx JSON error."""
    await put_site(client, "keyed", {"query_keys": ["id"]})
    response = await client.request(method, url, data=data, headers={**BEACON, **admin()})
    assert 400 <= response.status < 500, await response.text()
    await error_code(response, response.status)


RAW_HEADERS = [
    pytest.param("GET", "/api/v1/sites", b"Authorization: Bearer \xff", 401, id="auth-token"),
    pytest.param("GET", "/api/v1/sites", b"Authorization: \xff\xfe x", 401, id="auth-scheme"),
    pytest.param("POST", HIT, b"User-Agent: \xff\xfe", 200, id="user-agent"),
    pytest.param("POST", HIT, b"Origin: http://\xff.vn", 200, id="origin"),
    pytest.param("POST", HIT, b"Referer: http://x.vn/\xff", 200, id="referer"),
    pytest.param("POST", HIT, b"X-Forwarded-For: \xff", 200, id="x-forwarded-for"),
    pytest.param("POST", HIT, b"DNT: \xff", 200, id="dnt"),
]


@pytest.mark.parametrize(("method", "url", "header", "status"), RAW_HEADERS)
async def test_header_bytes_that_are_not_utf_8_are_no_server_error(
    client: Client, method: str, url: str, header: bytes, status: int
) -> None:
    """A header with bytes that are not UTF-8 is answered as usual, never with a 5xx."""
    body = b'{"site": "demo", "path": "/a"}'
    request = b"\r\n".join(
        [
            f"{method} {url} HTTP/1.1".encode(),
            b"Host: statsvc.test",
            header,
            b"Content-Type: text/plain",
            f"Content-Length: {len(body)}".encode(),
            b"Connection: close",
            b"",
            body,
        ]
    )
    assert await raw_status(client, request) == status


# -- CORS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "method"),
    [(HIT, "POST"), (PING, "POST"), (COUNTS, "GET")],
)
async def test_preflight_is_answered_for_any_origin_without_credentials(
    client: Client, url: str, method: str
) -> None:
    """A preflight of the public API is 204, open to every origin, allowing Content-Type."""
    response = await client.options(
        url,
        headers={
            "Origin": "https://tuson.example.vn",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert method in methods
    allowed = response.headers["Access-Control-Allow-Headers"].lower().split(",")
    assert "content-type" in {h.strip() for h in allowed}
    assert "Access-Control-Allow-Credentials" not in response.headers


A_HIT = on_demo(path="/")
PUBLIC_REPLIES = [
    pytest.param("POST", HIT, "text/plain", A_HIT, 200, id="hit"),
    pytest.param("POST", PING, "text/plain", A_HIT, 200, id="ping"),
    pytest.param("GET", COUNTS + "?site=demo", None, None, 200, id="counts"),
    pytest.param("POST", HIT, "text/plain", "{", 400, id="invalid-json"),
    pytest.param(
        "POST", HIT, "text/plain", on_demo(site="nosuch", path="/"), 404, id="unknown-site"
    ),
    pytest.param("POST", HIT, "text/html", A_HIT, 415, id="media-type"),
    pytest.param("POST", HIT, "text/plain", padded_body(EIGHT_KIB + 1), 413, id="too-large"),
    pytest.param("GET", HIT, None, None, 405, id="wrong-method"),
    pytest.param("GET", COUNTS + "?site=A", None, None, 400, id="counts-invalid-site"),
]


@pytest.mark.parametrize(("method", "url", "content_type", "data", "status"), PUBLIC_REPLIES)
async def test_public_replies_are_open_to_every_origin(
    client: Client,
    method: str,
    url: str,
    content_type: str | None,
    data: str | bytes | None,
    status: int,
) -> None:
    """Every reply of the public API, errors included, carries Allow-Origin * and no credentials."""
    headers = {"Origin": "https://tuson.example.vn"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.request(method, url, data=data, headers=headers)
    assert response.status == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(
    ("method", "url", "headers", "status"),
    [
        ("GET", "/api/v1/sites", admin(), 200),
        ("GET", "/api/v1/sites", {}, 401),
        ("GET", "/api/v1/sites/demo", admin(), 200),
        ("PUT", "/api/v1/sites/tuson", admin(), 201),
        ("OPTIONS", "/api/v1/sites/demo", {"Access-Control-Request-Method": "PUT"}, 405),
    ],
)
async def test_admin_replies_carry_no_cors_header(
    client: Client, method: str, url: str, headers: dict[str, str], status: int
) -> None:
    """The admin API is not opened to other origins: no Access-Control header at all."""
    response = await client.request(method, url, headers={"Origin": "https://evil.test", **headers})
    assert response.status == status
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


# -- page-view ids ---------------------------------------------------------------------


async def test_a_page_view_id_counts_once(client: Client) -> None:
    """The same page-view id sent twice counts once; the second reply says duplicate."""
    body = {"site": "demo", "path": "/a", "id": "pv-retry-0001"}
    first = await post_hit(client, body)
    again = await post_hit(client, body)
    assert first["counted"] is True
    assert "reason" not in first
    assert (again["counted"], again["reason"]) == (False, "duplicate")
    for key in ("views", "visits", "page", "online", "path"):
        assert again[key] == first[key]


async def test_concurrent_hits_with_one_id_count_once(client: Client) -> None:
    """Twenty hits with one id sent at once count exactly once."""
    body = {"site": "demo", "path": "/a", "id": "pv-burst-0001"}
    replies = await asyncio.gather(*(post_hit(client, body) for _ in range(20)))
    assert [r["counted"] for r in replies].count(True) == 1
    assert [r.get("reason") for r in replies if not r["counted"]] == ["duplicate"] * 19
    counts = await get_counts(client, path="/a")
    assert (counts["views"]["total"], counts["page"]["total"]) == (1, 1)


async def test_a_duplicate_on_the_next_local_day_is_still_a_duplicate(
    client: Client, clock: FakeClock
) -> None:
    """A page-view id counted just before local midnight is a duplicate just after it."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh"})
    clock.set(datetime(2026, 11, 26, 16, 59, tzinfo=UTC))  # 23:59 in Hanoi
    body = {"site": "tuson", "path": "/a", "id": "pv-midnight-1"}
    first = await post_hit(client, body)
    clock.advance(120)  # 00:01 on the 27th in Hanoi
    again = await post_hit(client, body)
    assert (first["date"], first["counted"]) == ("2026-11-26", True)
    assert (again["date"], again["counted"], again["reason"]) == ("2026-11-27", False, "duplicate")
    assert again["views"] == {"today": 0, "yesterday": 1, "week": 1, "month": 1, "total": 1}
    fresh = await post_hit(client, {**body, "id": "pv-midnight-2"})
    assert fresh["counted"] is True
    assert fresh["views"]["today"] == 1


# -- visits and views ------------------------------------------------------------------


async def test_one_ip_and_user_agent_make_one_visit(client: Client) -> None:
    """Two hits from the same IP and User-Agent are two views and one visit."""
    for path in ("/a", "/b"):
        reply = await post_hit(client, {"site": "demo", "path": path}, {"User-Agent": "UA-1"})
    assert (reply["views"]["today"], reply["visits"]["today"]) == (2, 1)
    assert (reply["views"]["total"], reply["visits"]["total"]) == (2, 1)


async def test_another_user_agent_is_another_visit(client: Client) -> None:
    """A hit from the same IP with another User-Agent is a new visit."""
    await post_hit(client, {"site": "demo", "path": "/a"}, {"User-Agent": "UA-1"})
    reply = await post_hit(client, {"site": "demo", "path": "/a"}, {"User-Agent": "UA-2"})
    assert (reply["views"]["today"], reply["visits"]["today"]) == (2, 2)
    assert reply["online"] == 2


async def test_x_forwarded_for_is_ignored_by_default(client: Client) -> None:
    """Without trusted proxies, X-Forwarded-For does not make a new visitor."""
    for address in ("203.0.113.1", "203.0.113.2"):
        reply = await post_hit(
            client,
            {"site": "demo", "path": "/a"},
            {"User-Agent": "UA-1", "X-Forwarded-For": address},
        )
    assert (reply["views"]["today"], reply["visits"]["today"]) == (2, 1)


async def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(proxied: Client) -> None:
    """Through a trusted proxy, the address it forwards is the client; earlier hops are not."""
    visits = []
    for forwarded in (
        "203.0.113.1",
        "203.0.113.2",
        "198.51.100.9, 203.0.113.1",  # a client-written first hop is not believed
        "203.0.113.2, 127.0.0.1",  # through two trusted proxies
    ):
        reply = await post_hit(
            proxied,
            {"site": "demo", "path": "/a"},
            {"User-Agent": "UA-1", "X-Forwarded-For": forwarded},
        )
        visits.append(reply["visits"]["today"])
    assert visits == [1, 2, 2, 2]
    assert reply["views"]["today"] == 4


# -- growth and site settings ----------------------------------------------------------


async def test_pages_past_the_cap_fold_into_other(
    client: Client, redis: Redis, prefix: str
) -> None:
    """Past 50 pages new paths count as (other), known ones keep counting; the registry stays 51."""
    replies = await asyncio.gather(
        *(post_hit(client, {"site": "demo", "path": f"/p{n}"}) for n in range(50))
    )
    assert {r["path"] for r in replies} == {f"/p{n}" for n in range(50)}
    folded = await post_hit(client, {"site": "demo", "path": "/p50"})
    assert (folded["path"], folded["counted"], folded["page"]["total"]) == ("(other)", True, 1)
    replies = await asyncio.gather(
        *(post_hit(client, {"site": "demo", "path": f"/q{n}"}) for n in range(20))
    )
    assert {r["path"] for r in replies} == {"(other)"}
    known = await post_hit(client, {"site": "demo", "path": "/p0"})
    assert (known["path"], known["page"]["total"]) == ("/p0", 2)
    assert known["views"]["total"] == 72
    pages = f"{prefix}:{{demo}}:pages"
    assert await redis.zcard(pages) == 51
    assert await redis.zscore(pages, "(other)") == 21


async def test_query_keys_make_distinct_pages(client: Client) -> None:
    """A site's query keys make `?id=1` and `?id=2` two pages; other keys are dropped."""
    await put_site(client, "shop", {"query_keys": ["id"]})
    urls = [
        "https://shop.vn/item?id=1&utm_source=fb",
        "https://shop.vn/item?utm_source=x&id=2",
        "https://shop.vn/item?utm_source=fb",
        "https://shop.vn/item?id=1#reviews",
    ]
    replies = [await post_hit(client, {"site": "shop", "url": url}) for url in urls]
    assert [r["path"] for r in replies] == ["/item?id=1", "/item?id=2", "/item", "/item?id=1"]
    assert [r["page"]["total"] for r in replies] == [1, 1, 1, 2]
    counts = await get_counts(client, "shop", "/item?ref=z&id=2")
    assert (counts["path"], counts["page"]["total"]) == ("/item?id=2", 1)
    other = await post_hit(client, {"site": "demo", "url": "https://shop.vn/item?id=1"})
    assert other["path"] == "/item"


@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
async def test_do_not_track_is_respected_when_the_site_asks(
    client: Client, redis: Redis, prefix: str, header: str
) -> None:
    """With respect_dnt, DNT: 1 or Sec-GPC: 1 is not counted (reason dnt) and changes nothing
    but the day's tally of refused hits."""
    await put_site(client, "private", {"respect_dnt": True})
    counted = await post_hit(client, {"site": "private", "path": "/a"})
    before = await dump(redis, prefix)
    headers = {header: "1", "User-Agent": "UA-private"}
    reply = await post_hit(client, {"site": "private", "path": "/b", "id": "pv-dnt-0001"}, headers)
    assert (reply["counted"], reply["reason"]) == (False, "dnt")
    for key in ("views", "visits", "online"):
        assert reply[key] == counted[key]
    ping = await post_ping(client, {"site": "private", "path": "/a"}, headers)
    assert ping["online"] == 1
    after = await dump(redis, prefix)
    assert after.pop(f"{prefix}:{{private}}:rej:2026-11-26".encode()) == {b"dnt": b"1"}
    assert after == before


@pytest.mark.parametrize(
    ("respect_dnt", "headers"),
    [(False, {"DNT": "1"}), (False, {"Sec-GPC": "1"}), (True, {"DNT": "0"}), (True, {})],
)
async def test_do_not_track_is_counted_unless_sent_to_a_site_that_respects_it(
    client: Client, respect_dnt: bool, headers: dict[str, str]
) -> None:
    """DNT is ignored on a site without respect_dnt, and DNT: 0 is no opt-out."""
    await put_site(client, "tuson", {"respect_dnt": respect_dnt})
    reply = await post_hit(client, {"site": "tuson", "path": "/a"}, headers)
    assert reply["counted"] is True


EVIL = "https://evil.test"
DOMAIN_CASES = [
    pytest.param({"Origin": "https://example.vn"}, "/a", True, id="origin-exact"),
    pytest.param({"Origin": "https://www.example.vn"}, "/a", True, id="origin-subdomain"),
    pytest.param({"Origin": "https://EXAMPLE.vn:8443"}, "/a", True, id="origin-case-and-port"),
    pytest.param({"Referer": "https://news.example.vn/x"}, "/a", True, id="referer-subdomain"),
    pytest.param({"Origin": EVIL}, "/a", False, id="origin-other"),
    pytest.param({"Origin": "https://notexample.vn"}, "/a", False, id="origin-suffix"),
    pytest.param({"Origin": "https://example.vn.evil.test"}, "/a", False, id="origin-prefix"),
    pytest.param({"Origin": "null"}, "/a", False, id="origin-null"),
    pytest.param({}, EVIL + "/a", False, id="url-other"),
    pytest.param({"Origin": EVIL}, "https://example.vn/a", False, id="origin-wins-over-url"),
    pytest.param({}, "/a", False, id="no-host-at-all"),
    # the body's url is the sender's word: it never opens the wall
    pytest.param({}, "https://news.example.vn/a", False, id="url-alone"),
    pytest.param({"Origin": "null"}, "https://example.vn/a", False, id="null-origin-with-url"),
    pytest.param(
        {"Origin": "null", "Referer": "https://example.vn/a"}, "/a", False, id="null-origin-wins"
    ),
    pytest.param({"Origin": "https://[::1"}, "https://example.vn/a", False, id="origin-unparsable"),
    pytest.param(
        {"Referer": "http://[x/a"}, "https://example.vn/a", False, id="referer-unparsable"
    ),
    pytest.param({"Referer": "/a"}, "https://example.vn/a", False, id="referer-without-host"),
]


@pytest.mark.parametrize(("headers", "page", "allowed"), DOMAIN_CASES)
async def test_domains_limit_who_counts(
    client: Client,
    redis: Redis,
    prefix: str,
    headers: dict[str, str],
    page: str,
    allowed: bool,
) -> None:
    """With domains set, only pages whose browser-given Origin (else Referer) is on them or
    their subdomains count; others (the body's url alone, Origin: null, a header that is no
    URL) get reason origin, changing nothing but the day's tally of refused hits."""
    await put_site(client, "tuson", {"domains": ["example.vn"]})
    before = await dump(redis, prefix)
    body = (
        {"site": "tuson", "url": page}
        if page.startswith("http")
        else {"site": "tuson", "path": page}
    )
    reply = await post_hit(client, body, headers)
    if allowed:
        assert reply["counted"] is True
        assert reply["views"]["total"] == 1
    else:
        assert (reply["counted"], reply["reason"]) == (False, "origin")
        assert (reply["views"], reply["online"]) == (ZERO, 0)
        after = await dump(redis, prefix)
        assert after.pop(f"{prefix}:{{tuson}}:rej:2026-11-26".encode()) == {b"origin": b"1"}
        assert after == before


# -- admin API -------------------------------------------------------------------------


async def test_put_creates_then_updates_and_get_returns_the_settings(
    client: Client, clock: FakeClock
) -> None:
    """PUT creates a site (201), then changes only what it sends (200); GET returns the result."""
    response = await client.put(
        "/api/v1/sites/tuson",
        json={
            "name": "X\u00e3 T\u00fa S\u01a1n",
            "timezone": "Asia/Ho_Chi_Minh",
            "domains": ["TuSon.Example.VN.", "tuson.example.vn"],
        },
        headers=admin(),
    )
    assert response.status == 201
    created = await response.json()
    assert created == {
        "id": "tuson",
        "name": "X\u00e3 T\u00fa S\u01a1n",
        "domains": ["tuson.example.vn"],
        "timezone": "Asia/Ho_Chi_Minh",
        "week_start": "monday",
        "locale": "vi",
        "online_window": 300,
        "query_keys": [],
        "respect_dnt": False,
        "exclude_ips": [],
    }
    changes = {
        "id": "tuson",
        "week_start": "sunday",
        "locale": "en",
        "online_window": 120,
        "query_keys": ["id", "page"],
        "respect_dnt": True,
        "exclude_ips": ["203.0.113.0/24"],
    }
    response = await client.put("/api/v1/sites/tuson", json=changes, headers=admin())
    assert response.status == 200
    updated = await response.json()
    assert updated == {**created, **changes}
    clock.advance(3600)  # past any cached copy: GET reads what the store holds
    assert await get_site(client, "tuson") == updated


async def test_empty_put_creates_a_site_with_the_service_defaults(client: Client) -> None:
    """A PUT without a body creates a site named for its id, in the service's default zone."""
    response = await client.put("/api/v1/sites/bare", headers=admin())
    assert response.status == 201
    reply = await response.json()
    assert (reply["name"], reply["timezone"], reply["locale"]) == ("bare", HCM, "vi")


async def test_get_sites_lists_every_site(client: Client) -> None:
    """GET /api/v1/sites lists every site id, sorted."""
    for site in ("tuson", "an-binh", "z9"):
        await put_site(client, site, {})
    response = await client.get("/api/v1/sites", headers=admin())
    assert response.status == 200
    assert await response.json() == {"sites": ["an-binh", "demo", "tuson", "z9"]}


async def test_get_an_unknown_site_is_404(client: Client) -> None:
    """GET of a site that does not exist is 404 unknown_site."""
    response = await client.get("/api/v1/sites/nosuch", headers=admin())
    assert await error_code(response, 404) == "unknown_site"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
        {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": ADMIN_TOKEN},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong", "longer", "shorter", "basic", "no-scheme", "empty"],
)
@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/api/v1/sites"), ("GET", "/api/v1/sites/demo"), ("PUT", "/api/v1/sites/tuson")],
)
async def test_admin_api_without_the_token_is_401(
    client: Client, method: str, url: str, headers: dict[str, str]
) -> None:
    """A missing or wrong admin token is 401 as a JSON error, and creates nothing."""
    response = await client.request(method, url, json={"name": "x"}, headers=headers)
    assert await error_code(response, 401) == "unauthorized"
    response = await client.get("/api/v1/sites", headers=admin())
    assert await response.json() == {"sites": ["demo"]}


@pytest.mark.parametrize("token", [None, ""])
@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/api/v1/sites"), ("GET", "/api/v1/sites/demo"), ("PUT", "/api/v1/sites/tuson")],
)
async def test_admin_api_is_closed_without_an_admin_token(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: FakeClock,
    token: str | None,
    method: str,
    url: str,
) -> None:
    """With no admin token configured, every admin request is 401, whatever it bears."""
    closed = await aiohttp_client(create_app(replace(settings, admin_token=token), clock=clock))
    for headers in (admin(), {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}, {}):
        response = await closed.request(method, url, json={}, headers=headers)
        assert await error_code(response, 401) == "unauthorized"


INVALID_SETTINGS = [
    pytest.param(b'{"timezone": "Mars/Olympus_Mons"}', "invalid_setting", id="timezone-unknown"),
    pytest.param(b'{"timezone": "../../etc/passwd"}', "invalid_setting", id="timezone-path"),
    pytest.param(b'{"timezone": "GMT+7"}', "invalid_setting", id="timezone-offset"),
    pytest.param(b'{"timezone": 7}', "invalid_setting", id="timezone-number"),
    pytest.param(b'{"week_start": "tuesday"}', "invalid_setting", id="week-start-tuesday"),
    pytest.param(b'{"week_start": "Monday"}', "invalid_setting", id="week-start-capital"),
    pytest.param(b'{"locale": "fr"}', "invalid_setting", id="locale-fr"),
    pytest.param(b'{"online_window": 5}', "invalid_setting", id="online-window-5"),
    pytest.param(b'{"online_window": 100000}', "invalid_setting", id="online-window-100000"),
    pytest.param(b'{"online_window": "300"}', "invalid_setting", id="online-window-string"),
    pytest.param(b'{"online_window": true}', "invalid_setting", id="online-window-true"),
    pytest.param(b'{"online_window": 300.5}', "invalid_setting", id="online-window-float"),
    pytest.param(b'{"online_window": null}', "invalid_setting", id="online-window-null"),
    pytest.param(b'{"domains": "example.vn"}', "invalid_setting", id="domains-not-a-list"),
    pytest.param(b'{"domains": ["bad host"]}', "invalid_setting", id="domains-space"),
    pytest.param(b'{"domains": ["https://example.vn"]}', "invalid_setting", id="domains-url"),
    pytest.param(b'{"domains": ["*.example.vn"]}', "invalid_setting", id="domains-wildcard"),
    pytest.param(b'{"domains": ["-x.vn"]}', "invalid_setting", id="domains-leading-dash"),
    pytest.param(b'{"domains": ["x..vn"]}', "invalid_setting", id="domains-empty-label"),
    pytest.param(b'{"domains": ["ex_ample.vn"]}', "invalid_setting", id="domains-underscore"),
    pytest.param(b'{"domains": [5]}', "invalid_setting", id="domains-number"),
    pytest.param(b'{"query_keys": "id"}', "invalid_setting", id="query-keys-not-a-list"),
    pytest.param(b'{"query_keys": ["a b"]}', "invalid_setting", id="query-keys-space"),
    pytest.param(b'{"respect_dnt": "yes"}', "invalid_setting", id="respect-dnt-string"),
    pytest.param(b'{"respect_dnt": 1}', "invalid_setting", id="respect-dnt-number"),
    pytest.param(b'{"colour": "red"}', "invalid_setting", id="unknown-setting"),
    pytest.param(b'{"name": "' + b"n" * 201 + b'"}', "invalid_setting", id="name-too-long"),
    pytest.param(b'{"name": "a\\nb"}', "invalid_setting", id="name-control-character"),
    pytest.param(b'{"name": null}', "invalid_setting", id="name-null"),
    pytest.param(b'{"id": "other"}', "invalid_setting", id="id-mismatch"),
    pytest.param(b'{"name": "New", "locale": "fr"}', "invalid_setting", id="one-bad-of-two"),
    pytest.param(b"[]", "invalid_json", id="body-array"),
    pytest.param(b'"tuson"', "invalid_json", id="body-string"),
    pytest.param(b"null", "invalid_json", id="body-null"),
    pytest.param(b"{name: 1}", "invalid_json", id="body-not-json"),
    pytest.param(b"\xff", "invalid_json", id="body-not-utf-8"),
]


@pytest.mark.parametrize(("data", "code"), INVALID_SETTINGS)
async def test_invalid_settings_are_400_and_change_nothing(
    client: Client, clock: FakeClock, data: bytes, code: str
) -> None:
    """Settings that cannot be accepted are 400 and leave the site (or its absence) as it was."""
    before = await put_site(client, "s1", {"name": "Old", "domains": ["example.vn"]})
    for site in ("s1", "fresh"):
        response = await client.put(f"/api/v1/sites/{site}", data=data, headers=admin())
        assert await error_code(response, 400) == code
    clock.advance(3600)  # past any cached copy
    assert await get_site(client, "s1") == before
    response = await client.get("/api/v1/sites", headers=admin())
    assert await response.json() == {"sites": ["demo", "s1"]}


@pytest.mark.parametrize("site", ["A", "-x", "_x", "a.b", "a:b", "a" * 64, "a%20b", "%FF"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_invalid_site_id_in_the_url_is_400(client: Client, method: str, site: str) -> None:
    """An admin URL whose site id is not valid is 400 invalid_site."""
    response = await client.request(method, f"/api/v1/sites/{site}", json={}, headers=admin())
    assert await error_code(response, 400) == "invalid_site"


# -- what the store keeps --------------------------------------------------------------


async def test_a_month_page_tally_of_an_older_version_gets_the_new_lifetime(
    client: Client, redis: Redis, prefix: str, clock: FakeClock
) -> None:
    """A month's page tally is made when its first day is rolled into it (by the next day's
    first view) with the month hash's lifetime; one made with the older 62-day lifetime gets
    the month hash's at the next day's first view."""
    key = f"{prefix}:{{demo}}:pm:2026-11"
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-pm-0001"})
    assert await redis.ttl(key) == -2  # the day is pending: its views are in its day's tally
    clock.advance(DAY)
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-pm-0002"})
    assert 431 * DAY - 60 <= await redis.ttl(key) <= 431 * DAY
    await redis.expire(key, 62 * DAY)  # as the version before kept it
    clock.advance(DAY)
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-pm-0003"})
    assert 430 * DAY <= await redis.ttl(key) <= 431 * DAY


async def test_keys_expire_when_no_window_needs_them(
    client: Client, redis: Redis, prefix: str, clock: FakeClock
) -> None:
    """After a hit, a month's days and page tallies live past the retention, the salt ~2 days,
    daily page tallies a week once rolled into their month's (as long as the month's until
    then), online ~the window; totals forever, and the sign-in tallies' salt (made at
    start)."""
    base = f"{prefix}:{{demo}}:"
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-ttl-0000"})
    clock.advance(DAY)  # the next day's first view rolls the day into the month's tally
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-ttl-0001"})
    lifetimes = {  # key: (shortest, longest) TTL in seconds
        "m:2026-11": (400 * DAY, 431 * DAY),  # its last day must still be there 400 days on
        "salt:2026-11-27": (2 * DAY - 60, 2 * DAY),
        "visitors:2026-11-27": (DAY, 3 * DAY),
        # read again as yesterday's ids tomorrow, and by kept hits up to the replay horizon
        "ids:2026-11-27": (ID_TTL - 60, ID_TTL),
        # pending: its views are not in its month's tally yet
        "pd:2026-11-27": (431 * DAY - 60, 431 * DAY),
        # rolled into its month's: the week's and yesterday's windows read it
        "pd:2026-11-26": (8 * DAY - 60, 8 * DAY),
        "pm:2026-11": (431 * DAY - 60, 431 * DAY),  # the month's window and period reports
    }
    for suffix, (shortest, longest) in lifetimes.items():
        assert shortest <= await redis.ttl(base + suffix) <= longest, suffix
    for suffix in ("online", "pon:/a"):
        assert 290_000 <= await redis.pttl(base + suffix) <= 300_000, suffix
    forever = {
        key async for key in redis.scan_iter(match=f"{prefix}:*") if await redis.ttl(key) == -1
    }
    assert forever == {
        f"{prefix}:sites".encode(),
        f"{prefix}:sites:version".encode(),  # one counter of settings changes
        f"{base}site".encode(),
        f"{base}total".encode(),
        f"{base}pages".encode(),
        f"{prefix}:signin:salt".encode(),
    }


async def test_no_raw_ip_is_stored(proxied: Client, redis: Redis, prefix: str) -> None:
    """No key name or value holds the client's IP address, as text or as bytes."""
    address = "203.0.113.77"
    for forwarded in (address, "203.0.113.78"):
        reply = await post_hit(
            proxied,
            {"site": "demo", "url": "https://x.vn/a", "id": "pv-" + forwarded.replace(".", "-")},
            {"X-Forwarded-For": forwarded, "User-Agent": "UA-1", "Origin": "https://x.vn"},
        )
        await post_ping(proxied, {"site": "demo", "path": "/a"}, {"X-Forwarded-For": forwarded})
    assert reply["visits"]["today"] == 2  # the forwarded address was the one counted
    stored = list(blobs(await dump(redis, prefix)))
    assert len(stored) > 10
    packed = ipaddress.ip_address(address).packed
    assert not [blob for blob in stored if address.encode() in blob or packed in blob]


async def test_healthz_answers_while_alive(client: Client) -> None:
    """GET /healthz is 200 with status ok."""
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_readyz_answers_ready_with_a_live_store(client: Client) -> None:
    """GET /readyz is 200 while the store answers (no sign of a misconfigured proxy yet)."""
    response = await client.get("/readyz")
    assert response.status == 200
    reply = await response.json()
    assert reply == {"status": "ready", "store": "up", "buffered": 0, "warnings": []}


async def test_reader_across_local_midnight_is_online_once(
    client: Client, clock: FakeClock
) -> None:
    """The same reader just after local midnight is a new visit but not a second reader online."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh"})
    clock.set(datetime.fromisoformat("2026-11-29T23:59:59+07:00"))
    await post_hit(client, {"site": "tuson", "path": "/a"})
    clock.advance(1)
    reply = await post_hit(client, {"site": "tuson", "path": "/a"})
    assert (reply["online"], reply["page"]["online"]) == (1, 1)
    assert (reply["visits"]["today"], reply["visits"]["yesterday"]) == (1, 1)
    ping = await post_ping(client, {"site": "tuson", "path": "/a"})
    assert ping == {"online": 1, "page": {"online": 1}}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "null"}, id="null-origin"),
        pytest.param({}, id="no-origin"),
        pytest.param({"Origin": EVIL, "Referer": "https://example.vn/a"}, id="other-origin"),
    ],
)
async def test_a_ping_from_outside_a_walled_site_keeps_nobody_online(
    client: Client, redis: Redis, prefix: str, clock: FakeClock, headers: dict[str, str]
) -> None:
    """A heartbeat to a site with domains, whose browser-given origin is not among them (the
    body's url is), is answered with the online figures and marks nobody online, even a
    reader counted today; the same heartbeat from the site's own page does."""
    await put_site(client, "tuson", {"domains": ["example.vn"]})
    allowed_hit = {"Origin": "https://example.vn"}
    assert (await post_hit(client, {"site": "tuson", "path": "/a"}, allowed_hit))["counted"]
    clock.advance(301)  # out of the online window
    before = await dump(redis, prefix)
    ping = await post_ping(client, {"site": "tuson", "url": "https://example.vn/a"}, headers)
    assert ping == {"online": 0, "page": {"online": 0}}
    assert await dump(redis, prefix) == before
    allowed = await post_ping(
        client, {"site": "tuson", "url": "https://example.vn/a"}, {"Origin": "https://example.vn"}
    )
    assert allowed["online"] == 1


async def test_reading_a_folded_page_reads_other(client: Client, settings: Settings) -> None:
    """Past the page cap, counts for a path that was folded answer the "(other)" page."""
    for n in range(settings.page_cap + 1):
        await post_hit(client, {"site": "demo", "path": f"/p{n}"})
    reply = await get_counts(client, path=f"/p{settings.page_cap}")
    assert reply["path"] == "(other)"
    assert reply["page"]["total"] == 1


async def test_forwarded_for_is_read_from_the_proxy_end(proxied: Client) -> None:
    """Forty client-written hops cannot push the real address out: the last hops are read,
    across every X-Forwarded-For line a proxy adds."""
    fake = ", ".join(f"10.9.{n}.1" for n in range(40))
    first = await post_hit(
        proxied, {"site": "demo", "path": "/a"}, {"X-Forwarded-For": f"{fake}, 198.51.100.7"}
    )
    response = await proxied.post(
        HIT,
        data=json.dumps({"site": "demo", "path": "/a"}),
        headers=[
            ("Content-Type", "text/plain"),
            ("X-Forwarded-For", "10.0.0.66"),
            ("X-Forwarded-For", "198.51.100.7"),
        ],
    )
    second = await response.json()
    assert first["visits"]["today"] == 1
    assert second["visits"]["today"] == 1  # the same client: 198.51.100.7 both times


async def test_a_body_that_is_not_what_its_encoding_says_is_400(client: Client) -> None:
    """Content-Encoding: gzip over a plain body is a 400 JSON error, not a 500."""
    for endpoint in (HIT, PING):
        response = await client.post(
            endpoint,
            data=on_demo(path="/a"),
            headers={**BEACON, "Content-Encoding": "gzip", "Connection": "close"},
        )
        assert await error_code(response, 400) == "invalid_body"
    assert (await get_counts(client))["views"]["total"] == 0


async def test_a_burst_of_hits_is_counted_whole(client: Client) -> None:
    """1,500 hits at once, more than the connection pool holds, are all answered 200 and all
    counted: they wait for a connection or share a script run, never fail."""
    replies = await asyncio.gather(
        *(post_hit(client, {"site": "demo", "path": f"/b{n % 40}"}) for n in range(1500))
    )
    assert sorted(r["views"]["total"] for r in replies) == list(range(1, 1501))


async def test_every_daily_key_expires_whatever_comes_first(
    client: Client, redis: Redis, prefix: str
) -> None:
    """A day whose first view has no page-view id still gets an expiring id set later."""
    await post_hit(client, {"site": "demo", "path": "/a"})
    await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-later-0001"})
    base = f"{prefix}:{{demo}}:"
    assert 2 * DAY <= await redis.ttl(base + "ids:2026-11-26") <= ID_TTL
    for suffix in ("m:2026-11", "pd:2026-11-26", "visitors:2026-11-26"):
        assert await redis.ttl(base + suffix) > 0, suffix
    assert not await redis.exists(base + "pm:2026-11")  # made when the day is rolled into it
