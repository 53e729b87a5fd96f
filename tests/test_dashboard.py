"""The dashboard over HTTP (no browser): sessions, CSRF, headers, scoping and escaping."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.chart import chart, step_for
from statsvc.core.requester import parse_networks
from statsvc.settings import Settings
from tests.helpers import (
    ADMIN_TOKEN,
    Client,
    FakeClock,
    admin,
    form_csrf,
    sign_in,
    site_with_token,
)

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def assert_secured(headers: Mapping[str, str]) -> None:
    """Fail unless a response carries every security header of admin pages."""
    for name, value in HEADERS.items():
        assert headers.get(name) == value, name
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


async def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    """/admin and a site page redirect to the sign-in form without a session."""
    for path in ("/admin", "/admin/sites/demo", "/admin/sites/demo/export"):
        reply = await client.get(path, allow_redirects=False)
        assert reply.status == 303
        assert reply.headers["Location"] == "/admin/login"
        assert_secured(reply.headers)


async def test_the_session_cookie_is_http_only_strict_and_scoped(client: Client) -> None:
    """Signing in sets an HttpOnly, SameSite=Strict cookie for /admin only (not Secure on
    plain http)."""
    page = await client.get("/admin/login")
    reply = await client.post(
        "/admin/login",
        data={"csrf": form_csrf(await page.text()), "token": ADMIN_TOKEN},
        allow_redirects=False,
    )
    assert reply.status == 303
    assert reply.headers["Location"] == "/admin"
    cookie = reply.cookies["statsvc_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/admin"
    assert not cookie["secure"]
    assert len(cookie.value) >= 40


async def test_the_cookie_is_secure_behind_an_https_proxy(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Behind a trusted proxy that says https, the dashboard's cookies are Secure."""
    proxied = replace(settings, trusted_proxies=parse_networks("127.0.0.1"))
    client = await aiohttp_client(create_app(proxied, clock=clock))
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "stats.example.vn"}
    page = await client.get("/admin/login", headers=https)
    login = page.cookies["statsvc_login"]
    assert login["secure"] is True  # so the test client keeps it to itself: send it by hand
    reply = await client.post(
        "/admin/login",
        data={"csrf": form_csrf(await page.text()), "token": ADMIN_TOKEN},
        headers={
            **https,
            "Origin": "https://stats.example.vn",
            "Cookie": f"statsvc_login={login.value}",
        },
        allow_redirects=False,
    )
    assert reply.status == 303
    assert reply.cookies["statsvc_session"]["secure"] is True


async def test_a_wrong_token_opens_no_session(client: Client) -> None:
    """A wrong token shows the form again with 401 and sets no session cookie."""
    page = await client.get("/admin/login")
    reply = await client.post(
        "/admin/login", data={"csrf": form_csrf(await page.text()), "token": "nope"}
    )
    assert reply.status == 401
    assert "Mã truy cập không hợp lệ." in await reply.text()  # the instance's language, vi
    assert "statsvc_session" not in reply.cookies
    assert (await client.get("/admin", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        ("wrong", {}),
        (None, {}),
        ("form", {"Origin": "https://evil.example"}),
        ("form", {"Sec-Fetch-Site": "cross-site"}),
    ],
)
async def test_sign_in_needs_its_form(
    client: Client, csrf: str | None, headers: dict[str, str]
) -> None:
    """A sign-in post without the form's CSRF value, or from another site, is refused."""
    page = await client.get("/admin/login")
    data = {"token": ADMIN_TOKEN}
    if csrf is not None:
        data["csrf"] = form_csrf(await page.text()) if csrf == "form" else csrf
    reply = await client.post("/admin/login", data=data, headers=headers, allow_redirects=False)
    assert reply.status == 403
    assert reply.content_type == "text/html"
    assert_secured(reply.headers)
    assert "statsvc_session" not in reply.cookies


async def test_sign_out_needs_the_session_csrf_token(client: Client) -> None:
    """Signing out without the session's CSRF token is refused and the session stays; with
    it the session ends, here and for any copy of the cookie."""
    csrf = await sign_in(client)
    reply = await client.post("/admin/logout", data={"csrf": "forged"}, allow_redirects=False)
    assert reply.status == 403
    assert (await client.get("/admin", allow_redirects=False)).status == 200
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/admin"))
    reply = await client.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert reply.status == 303
    assert reply.headers["Location"] == "/admin/login"
    assert (await client.get("/admin", allow_redirects=False)).status == 303
    replay = await client.get(
        "/admin",
        headers={"Cookie": f"statsvc_session={stolen['statsvc_session'].value}"},
        allow_redirects=False,
    )
    assert replay.status == 303


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/admin", 200),
        ("/admin/login", 303),
        ("/admin/sites/demo", 200),
        ("/admin/sites/demo?window=week", 200),
        ("/admin/sites/demo?window=decade", 400),
        ("/admin/sites/nosuch", 404),
        ("/admin/sites/Not!A!Site", 400),
        ("/admin/nothing/here", 404),
    ],
)
async def test_every_admin_answer_is_secured_html(client: Client, path: str, status: int) -> None:
    """Admin pages, and their errors, are HTML with CSP, X-Frame-Options DENY, a same-origin
    Referrer-Policy, nosniff and no-store; never JSON, never a 500."""
    await sign_in(client)
    reply = await client.get(path, allow_redirects=False)
    assert reply.status == status
    assert_secured(reply.headers)
    if status != 303:
        assert reply.content_type == "text/html"
        assert "<!doctype html>" in await reply.text()


async def test_a_site_token_sees_only_its_site(client: Client) -> None:
    """A site token's session lists and opens its own site only."""
    token = await site_with_token(client, "tuson", {"name": "Tuson"})
    await sign_in(client, token)
    listing = await (await client.get("/admin")).text()
    assert 'href="/admin/sites/tuson"' in listing
    assert 'href="/admin/sites/demo"' not in listing
    for path in ("/admin/sites/tuson", "/admin/sites/tuson/live", "/admin/sites/tuson/export"):
        assert (await client.get(path)).status == 200
    for path in ("/admin/sites/demo", "/admin/sites/demo/live", "/admin/sites/demo/export"):
        assert (await client.get(path)).status == 403


async def test_revoking_a_token_ends_its_sessions(client: Client) -> None:
    """A session opened with a site token ends when the token is revoked."""
    token = await site_with_token(client, "tuson", {"name": "Tuson"})
    await sign_in(client, token)
    token_id = token.split(".")[1]
    reply = await client.delete(f"/api/v1/sites/tuson/tokens/{token_id}", headers=admin())
    assert reply.status == 204
    assert (await client.get("/admin/sites/tuson", allow_redirects=False)).status == 303


async def test_changing_the_admin_token_ends_admin_sessions(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """An admin session stops working once the service runs with another admin token."""
    first = await aiohttp_client(create_app(settings, clock=clock))
    await sign_in(first)
    cookie = first.session.cookie_jar.filter_cookies(first.make_url("/admin"))
    rotated = replace(settings, admin_token="a-new-admin-token")
    second = await aiohttp_client(create_app(rotated, clock=clock))
    reply = await second.get(
        "/admin",
        headers={"Cookie": f"statsvc_session={cookie['statsvc_session'].value}"},
        allow_redirects=False,
    )
    assert reply.status == 303


async def test_a_session_keeps_nothing_to_test_guesses_of_the_admin_token(
    client: Client, redis: Redis, prefix: str
) -> None:
    """An admin session's record (and so the store's AOF) holds neither the admin token nor
    its SHA-256 (raw, hex or base64) nor the session's cookie: a copy of the store cannot
    test guesses of the token, nor sign in with what it finds."""
    await sign_in(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/admin"))
    session_id = cookie["statsvc_session"].value.encode()
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    sessions = [key for key in keys if key.startswith(f"{prefix}:session:".encode())]
    assert len(sessions) == 1
    stored = sessions[0] + (await redis.get(sessions[0]) or b"")
    digest = hashlib.sha256(ADMIN_TOKEN.encode()).digest()
    for secret in (
        ADMIN_TOKEN.encode(),
        digest,
        digest.hex().encode(),
        digest.hex().upper().encode(),
        base64.b64encode(digest).rstrip(b"="),
        base64.urlsafe_b64encode(digest).rstrip(b"="),
        session_id,
    ):
        assert secret not in stored
    assert b'"site": null' in stored  # it is an admin session, and says so
    assert not [key for key in keys if session_id in key]


async def test_an_admin_session_holds_on_another_instance_with_the_same_token(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """An admin session opened on one instance holds on another that runs with the same admin
    token (each checks the session's proof itself)."""
    first = await aiohttp_client(create_app(settings, clock=clock))
    await sign_in(first)
    cookie = first.session.cookie_jar.filter_cookies(first.make_url("/admin"))
    second = await aiohttp_client(create_app(settings, clock=clock))
    reply = await second.get(
        "/admin",
        headers={"Cookie": f"statsvc_session={cookie['statsvc_session'].value}"},
        allow_redirects=False,
    )
    assert reply.status == 200


async def test_the_site_page_shows_every_part(client: Client) -> None:
    """The site page has the numbers, the chart, top pages, refused hits, audit trail,
    embed snippet and export link."""
    await client.put("/api/v1/sites/demo", json={"name": "Xã Tú Sơn"}, headers=admin())
    for path in ("/a", "/a", "/b"):
        await client.post("/api/v1/hit", json={"site": "demo", "path": path})
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/a", "id": "again-0001"})
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/a", "id": "again-0001"})
    await sign_in(client)
    html = await (await client.get("/admin/sites/demo")).text()
    assert "Xã Tú Sơn" in html
    assert 'data-field="views.today">4<' in html
    assert 'data-field="online">1<' in html
    assert "<svg" in html
    assert "26/11/2026: 4 lượt xem, 1 lượt truy cập" in html
    assert '<td class="path">/a</td><td class="n">3</td>' in html
    assert '<th scope="row" data-reason="duplicate">Gửi trùng lặp</th><td class="n">1</td>' in html
    assert "<td>Sửa cài đặt trang web: tên “Xã Tú Sơn”</td>" in html
    assert "data-site=&#34;demo&#34;" in html
    assert 'href="/admin/sites/demo/export"' in html
    assert '<script src="/static/dashboard.js" defer></script>' in html


async def test_the_window_selects_the_top_pages(client: Client, clock: FakeClock) -> None:
    """Top pages follow the window: yesterday's page is in the week, not in today."""
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/yesterday"})
    clock.advance(86400)
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/today"})
    await sign_in(client)
    today = await (await client.get("/admin/sites/demo")).text()
    week = await (await client.get("/admin/sites/demo?window=week")).text()
    assert "/today" in today and "/yesterday" not in today
    assert "/today" in week and "/yesterday" in week
    assert '<a href="?window=week" aria-current="page">' in week


async def test_pages_and_names_are_escaped(client: Client) -> None:
    """A site name and a page path holding markup are shown as text, never run."""
    await client.put(
        "/api/v1/sites/demo", json={"name": "<script>alert(1)</script>"}, headers=admin()
    )
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/<img src=x onerror=alert(2)>"})
    await sign_in(client)
    for path in ("/admin", "/admin/sites/demo"):
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    html = await (await client.get("/admin/sites/demo")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "/&lt;img src=x onerror=alert(2)&gt;" in html


async def test_live_figures_are_json(client: Client) -> None:
    """The live endpoint answers online and today's figures for the site page's script."""
    await sign_in(client)
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/"})
    reply = await client.get("/admin/sites/demo/live")
    assert reply.status == 200
    body = await reply.json()
    assert body["online"] == 1
    assert body["views"]["today"] == 1
    assert_secured(reply.headers)


async def test_export_downloads_a_file(client: Client) -> None:
    """The export button downloads the export document as an attachment."""
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/"})
    await sign_in(client)
    reply = await client.get("/admin/sites/demo/export")
    assert reply.status == 200
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="statsvc-demo-2026-11-26.json"'
    )
    document = await reply.json()
    assert document["total"] == {"views": 1, "visits": 1}


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (1, 1), (4, 1), (5, 2), (8, 2), (9, 5), (20, 5), (21, 10)]
)
def test_the_chart_grid_has_round_steps(largest: int, step: int) -> None:
    """The grid step is 1, 2 or 5 times a power of ten, four steps covering the largest day."""
    assert step_for(largest) == step


def test_the_chart_bars_scale_to_the_grid() -> None:
    """A day with the grid's top value fills the plot; an empty day has no height."""
    drawn = chart(
        [
            {"date": "2026-11-25", "views": 0, "visits": 0},
            {"date": "2026-11-26", "views": 8, "visits": 2},
        ]
    )
    empty, full = drawn.bars
    assert empty.views_height == 0
    assert full.views_y == drawn.grid[-1][0]
    assert full.visits_height == pytest.approx(full.views_height / 4, abs=0.1)
    assert drawn.dates[-1][1] == date(2026, 11, 26)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("multipart/form-data", 415), ("application/json", 415), ("text/plain", 415)],
)
async def test_a_form_post_of_another_type_is_refused(
    client: Client, content_type: str, status: int
) -> None:
    """A sign-in post that is not URL-encoded (a multipart body without its boundary, say)
    is refused with an HTML page, never a 500."""
    reply = await client.post(
        "/admin/login", data=b"csrf=&token=", headers={"Content-Type": content_type}
    )
    assert reply.status == status
    assert reply.content_type == "text/html"


async def test_a_wrong_method_is_an_html_page_naming_the_right_ones(client: Client) -> None:
    """PUT on a dashboard page answers an HTML 405 that keeps its Allow header."""
    reply = await client.put("/admin/sites/demo")
    assert reply.status == 405
    assert reply.content_type == "text/html"
    assert "GET" in reply.headers["Allow"]
    assert_secured(reply.headers)
