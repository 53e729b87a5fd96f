"""Security of issue 6: failed sign-ins limited, no CORS on the admin API, HTML headers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError

from statsvc.app import create_app
from statsvc.core.requester import parse_networks
from statsvc.embedded import EmbeddedStore
from statsvc.settings import Settings
from tests.helpers import ADMIN_TOKEN, Client, FakeClock, admin, form_csrf
from tests.servers import Server

WRONG = {"Authorization": "Bearer not-the-token"}
ADMIN_PATHS = ["/api/v1/sites", "/api/v1/sites/demo", "/api/v1/sites/demo/stats"]


async def test_failed_tokens_are_limited_per_address(client: Client, clock: FakeClock) -> None:
    """After 10 wrong bearer tokens in a minute, even the right one is 429 too_many_attempts
    with Retry-After until the minute is over; right tokens never count as failures."""
    for _ in range(20):
        assert (await client.get("/api/v1/sites", headers=admin())).status == 200
    for _ in range(10):
        assert (await client.get("/api/v1/sites", headers=WRONG)).status == 401
    clock.advance(15)
    for headers in (WRONG, admin()):
        refused = await client.get("/api/v1/sites", headers=headers)
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "45"
        assert (await refused.json())["error"]["code"] == "too_many_attempts"
    clock.advance(45)
    assert (await client.get("/api/v1/sites", headers=admin())).status == 200


async def test_failed_tokens_are_counted_per_client_address(
    client: Client, clock: FakeClock
) -> None:
    """Another address (behind no trusted proxy, X-Forwarded-For changes nothing) is the same
    client: the limit cannot be dodged by a forged header."""
    for n in range(10):
        forged = WRONG | {"X-Forwarded-For": f"198.51.100.{n}"}
        assert (await client.get("/api/v1/sites", headers=forged)).status == 401
    forged = WRONG | {"X-Forwarded-For": "198.51.100.99"}
    assert (await client.get("/api/v1/sites", headers=forged)).status == 429


async def test_failed_sign_ins_are_limited(client: Client, clock: FakeClock) -> None:
    """After 10 wrong tokens in the sign-in form, the form answers 429 as an HTML page with
    Retry-After, even for the right token, until the minute is over."""

    async def sign_in(token: str) -> tuple[int, str, str | None]:
        page = await client.get("/admin/login")
        data = {"csrf": form_csrf(await page.text()), "token": token}
        reply = await client.post("/admin/login", data=data, allow_redirects=False)
        return reply.status, await reply.text(), reply.headers.get("Retry-After")

    for _ in range(10):
        assert (await sign_in("nope"))[0] == 401
    status, html, retry = await sign_in(ADMIN_TOKEN)
    assert (status, retry) == (429, "60")
    assert html.lstrip().startswith("<!") and "đăng nhập sai quá nhiều lần" in html
    clock.advance(60)
    assert (await sign_in(ADMIN_TOKEN))[0] == 303


async def test_failed_tokens_are_limited_across_instances(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Two instances on one store share each address's tally: ten wrong tokens spread over
    both, and the next try on either, right or wrong, is 429 with Retry-After until the
    minute is over (N workers or instances do not allow N times ten)."""
    first = await aiohttp_client(create_app(settings, clock=clock))
    second = await aiohttp_client(create_app(settings, clock=clock))
    for n in range(10):
        instance = (first, second)[n % 2]
        assert (await instance.get("/api/v1/sites", headers=WRONG)).status == 401
    clock.advance(20)
    for instance in (first, second):
        for headers in (WRONG, admin()):
            refused = await instance.get("/api/v1/sites", headers=headers)
            assert refused.status == 429
            assert refused.headers["Retry-After"] == "40"
            assert (await refused.json())["error"]["code"] == "too_many_attempts"
    clock.advance(40)
    for instance in (first, second):
        assert (await instance.get("/api/v1/sites", headers=admin())).status == 200


async def test_the_failed_token_tally_names_no_address_and_expires(
    client: Client, redis: Redis, prefix: str
) -> None:
    """The store keeps one tally per address and minute, named by a salted hash of the
    address (never the address itself), that expires within a minute of its first failure."""
    for _ in range(3):
        assert (await client.get("/api/v1/sites", headers=WRONG)).status == 401
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:signin:*")]
    tallies = [key for key in keys if not key.endswith(b":salt")]
    assert len(tallies) == 1
    assert await redis.hgetall(tallies[0]) == {b"f": b"3", b"j": b"0"}
    assert 0 < await redis.ttl(tallies[0]) <= 60
    assert b"127.0.0.1" not in tallies[0]


async def test_failed_tokens_are_counted_per_ipv6_block(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """An IPv6 client is counted with its /64: ten wrong tokens from ten of its addresses
    use up the block's tries, while another block's are untouched."""
    proxied = replace(settings, trusted_proxies=parse_networks("127.0.0.1/32,::1/128"))
    client = await aiohttp_client(create_app(proxied, clock=clock))

    def sent_from(address: str) -> dict[str, str]:
        return WRONG | {"X-Forwarded-For": address}

    for n in range(10):
        reply = await client.get("/api/v1/sites", headers=sent_from(f"2001:db8:0:1::{n + 1:x}"))
        assert reply.status == 401
    refused = await client.get("/api/v1/sites", headers=sent_from("2001:db8:0:1:ffff::9"))
    assert refused.status == 429
    other = await client.get("/api/v1/sites", headers=sent_from("2001:db8:0:2::1"))
    assert other.status == 401


async def test_with_the_store_down_no_token_is_judged(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock, server: Server
) -> None:
    """The store unreachable, a token is neither judged nor refused for want of the tally:
    every try is 503 store_unavailable (the limit fails closed), never 401 or a 500."""
    down = replace(settings, redis_url=server.url, demo_site=False)
    client = await aiohttp_client(create_app(down, clock=clock))
    server.stop()
    for headers in (WRONG, admin()):
        reply = await client.get("/api/v1/sites", headers=headers)
        assert reply.status == 503
        assert (await reply.json())["error"]["code"] == "store_unavailable"


@pytest.mark.parametrize("path", ADMIN_PATHS)
async def test_the_admin_api_sends_no_cors_headers(client: Client, path: str) -> None:
    """Admin endpoints, their preflights and their errors allow no other origin."""
    origin = {"Origin": "https://evil.example"}
    answers = [
        await client.get(path, headers=origin | admin()),
        await client.get(path, headers=origin),
        await client.options(
            path,
            headers=origin
            | {
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        ),
    ]
    assert [a.status for a in answers][:2] == [200, 401]
    for answer in answers:
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("path", ["/", "/admin/login", "/admin/sites/nope", "/admin/nope"])
async def test_html_pages_carry_security_headers(client: Client, path: str) -> None:
    """The landing page, dashboard pages and their error pages send a CSP that allows no
    framing, inline script or plug-in, nosniff, a Referrer-Policy and X-Frame-Options."""
    if path.startswith("/admin/sites"):
        page = await client.get("/admin/login")
        data = {"csrf": form_csrf(await page.text()), "token": ADMIN_TOKEN}
        await client.post("/admin/login", data=data, allow_redirects=False)
    response = await client.get(path, allow_redirects=False)
    assert response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    assert response.headers["X-Frame-Options"] == "DENY"


HIT = {"site": "demo", "path": "/"}
ADMIN_HEADERS = admin()
PREFLIGHT = {"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"}
EVERY_KIND_OF_REPLY = [
    pytest.param("GET", "/", {}, None, 200, id="landing"),
    pytest.param("GET", "/widget.js", {}, None, 200, id="widget"),
    pytest.param("GET", "/static/dashboard.css", {}, None, 200, id="static"),
    pytest.param("GET", "/api/v1/badge.svg?site=demo", {}, None, 200, id="badge"),
    pytest.param("GET", "/healthz", {}, None, 200, id="healthz"),
    pytest.param("GET", "/readyz", {}, None, 200, id="readyz"),
    pytest.param("GET", "/metrics", {}, None, 200, id="metrics"),
    pytest.param("GET", "/api/v1/openapi.json", {}, None, 200, id="openapi"),
    pytest.param("POST", "/api/v1/hit", {}, HIT, 200, id="hit"),
    pytest.param("POST", "/api/v1/hit", {}, {"site": "nosuch"}, 400, id="hit-bad-input"),
    pytest.param("OPTIONS", "/api/v1/hit", PREFLIGHT, None, 204, id="hit-preflight"),
    pytest.param("GET", "/api/v1/counts?site=demo", {}, None, 200, id="counts"),
    pytest.param("GET", "/api/v1/sites", ADMIN_HEADERS, None, 200, id="admin-api"),
    pytest.param("GET", "/api/v1/sites/demo/export", ADMIN_HEADERS, None, 200, id="export"),
    pytest.param("GET", "/api/v1/sites", {}, None, 401, id="admin-api-401"),
    pytest.param("GET", "/api/v1/sites/nosuch", ADMIN_HEADERS, None, 404, id="admin-api-404"),
    pytest.param("OPTIONS", "/api/v1/sites", PREFLIGHT, None, 405, id="admin-preflight"),
    pytest.param("GET", "/admin", {}, None, 303, id="dashboard-redirect"),
    pytest.param("GET", "/admin/login", {}, None, 200, id="dashboard"),
    pytest.param("GET", "/no/such/route", {}, None, 404, id="unknown-route"),
    pytest.param("GET", "/admin/no/such/page", {}, None, 404, id="unknown-page"),
    pytest.param("DELETE", "/api/v1/hit", {}, None, 405, id="method-not-allowed"),
    pytest.param("PUT", "/healthz", {}, None, 405, id="method-not-allowed-2"),
    pytest.param("POST", "/api/v1/hit", {}, b"x" * (8 * 1024 + 1), 413, id="body-too-large"),
    pytest.param("POST", "/admin/login", {}, b"x" * (64 * 1024 + 1), 413, id="form-too-large"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), EVERY_KIND_OF_REPLY)
async def test_every_reply_says_nosniff(
    client: Client, method: str, path: str, headers: dict[str, str], body: object, status: int
) -> None:
    """Every reply, of every route and kind (JSON, errors, the admin API, the dashboard, the
    widget's files, the badge, metrics, preflights, unknown routes, 405, 413), carries
    X-Content-Type-Options: nosniff."""
    raw = isinstance(body, bytes)
    reply = await client.request(
        method,
        path,
        headers=headers,
        data=body if raw else None,
        json=None if raw else body,
        allow_redirects=False,
    )
    assert reply.status == status
    assert reply.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("long_path", [False, True], ids=["unix-socket", "loopback-tcp"])
async def test_the_embedded_store_listens_locally_only(tmp_path: Path, long_path: bool) -> None:
    """The embedded Valkey listens on a Unix socket with no TCP port, or, when the data
    directory is too deep for a socket path, on loopback TCP only, where a client without
    the password may only PING."""
    data_dir = tmp_path / ("d" * 120 if long_path else "d")
    embedded = EmbeddedStore(data_dir)
    url = embedded.start()
    try:
        store = Redis.from_url(url)
        try:
            config = await store.config_get("port")
            binds = str((await store.config_get("bind"))["bind"]).split()
            if not long_path:
                assert url.startswith("unix://") and config["port"] == "0"
                return
            assert url.startswith("redis://statsvc:") and "@127.0.0.1:" in url
            assert binds and {b.lstrip("-") for b in binds} <= {"127.0.0.1", "::1"}
            parts = urlsplit(url)
            stranger = Redis(host=parts.hostname or "", port=parts.port or 0)
            try:
                assert await stranger.ping()  # all one may do without the password
                with pytest.raises(NoPermissionError):
                    await stranger.get("sv:sites")
            finally:
                await stranger.aclose()
        finally:
            await store.aclose()
    finally:
        embedded.stop()


SCRIPT, IMG = "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'
HOSTILE_PATHS = ["/" + SCRIPT, "/a" + IMG]


async def test_markup_in_paths_titles_and_names_is_text_in_every_output(client: Client) -> None:
    """Paths, titles and a site name holding <script> and an onerror image come back as data
    in JSON, and escaped in the badge SVG, the dashboard and the landing page."""
    named = await client.put("/api/v1/sites/demo", json={"name": SCRIPT + IMG}, headers=admin())
    assert named.status == 200
    for path in HOSTILE_PATHS:
        url = "https://portal.example/" + quote(path[1:], safe="")  # as browsers send it
        reply = await client.post("/api/v1/hit", json={"site": "demo", "url": url, "title": IMG})
        assert reply.content_type == "application/json"
        assert (await reply.json())["path"] == path
    counts = await client.get("/api/v1/counts", params={"site": "demo", "path": HOSTILE_PATHS[0]})
    assert (await counts.json())["page"]["total"] == 1
    pages = await client.get("/api/v1/sites/demo/pages", headers=admin())
    assert {p["path"] for p in (await pages.json())["pages"]} == set(HOSTILE_PATHS)
    badge = await client.get(
        "/api/v1/badge.svg", params={"site": "demo", "path": HOSTILE_PATHS[1], "title": SCRIPT}
    )
    svg = await badge.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    page = await client.get("/admin/login")
    data = {"csrf": form_csrf(await page.text()), "token": ADMIN_TOKEN}
    await client.post("/admin/login", data=data, allow_redirects=False)
    outputs = [svg]
    for url in ("/", "/admin", "/admin/sites/demo"):
        response = await client.get(url)
        assert response.status == 200
        outputs.append(await response.text())
    for html in outputs:
        assert SCRIPT not in html and "<img src=x" not in html
    dashboard = outputs[-1]
    assert "/&lt;script&gt;alert(1)&lt;/script&gt;" in dashboard
    assert "&lt;img src=x onerror=alert(1)&gt;" in dashboard
