"""The OpenAPI document: valid OpenAPI 3.1, one operation per route, and true to real replies."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from openapi_spec_validator import validate
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.http.middleware import PUBLIC_API
from statsvc.http.openapi import document
from statsvc.settings import Settings
from tests.helpers import Client, FakeClock, admin, check_reply, sign_in

METHODS = ("get", "put", "post", "delete", "patch", "options")


def documented() -> set[tuple[str, str]]:
    """Return every (METHOD, path) the document describes."""
    return {
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in METHODS
        if method in item
    }


def test_the_document_is_valid_openapi_3_1() -> None:
    """The document validates as OpenAPI 3.1."""
    assert document()["openapi"].startswith("3.1")
    validate(document())


async def test_every_route_is_documented_and_nothing_else(client: Client) -> None:
    """The operations of the document are exactly the app's routes (a new route without its
    documentation fails here); HEAD, aiohttp's twin of each GET, is left out, and the public
    API's CORS preflights, answered by the edge middleware, are in."""
    routes = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    routes |= {("OPTIONS", path) for path in PUBLIC_API}
    assert documented() == routes


async def test_the_document_is_served(client: Client) -> None:
    """GET /api/v1/openapi.json answers the document itself."""
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    assert await response.json() == document()


def _hit(**fields: str) -> dict[str, str]:
    return {"site": "demo", **fields}


IMPORT = {
    "import_id": "old-counter-2026",
    "total": {"views": 13457, "visits": 13457},
    "days": [{"date": "2026-11-25", "views": 98, "visits": 35}],
}
REPLIES = [
    ("POST", "/api/v1/hit", {"json": _hit(url="https://x.example/a?b=1", id="pageview1")}, 200),
    ("POST", "/api/v1/hit", {"json": _hit(path="/a", id="pageview1")}, 200),
    ("POST", "/api/v1/hit", {"data": b'{"site":"demo","path":"/"}'}, 415),
    ("POST", "/api/v1/hit", {"json": _hit()}, 400),
    ("POST", "/api/v1/hit", {"json": {"site": "nosuch", "path": "/"}}, 404),
    ("POST", "/api/v1/hit", {"json": _hit(path="/", title="x" * 9000)}, 413),
    ("POST", "/api/v1/ping", {"json": _hit(path="/a")}, 200),
    ("GET", "/api/v1/counts", {"params": {"site": "demo"}}, 200),
    ("GET", "/api/v1/counts", {"params": {"site": "demo", "path": "/a"}}, 200),
    ("GET", "/api/v1/counts", {"params": {"site": "Bad!"}}, 400),
    ("GET", "/api/v1/badge.svg", {"params": {"site": "demo", "pad": "99"}}, 400),
    ("GET", "/api/v1/sites", {"headers": admin()}, 200),
    ("GET", "/api/v1/sites", {}, 401),
    ("GET", "/api/v1/sites/{site}", {"headers": admin()}, 200),
    ("GET", "/api/v1/sites/{site}", {"headers": {"Authorization": "Bearer wrong"}}, 401),
    ("PUT", "/api/v1/sites/{site}", {"headers": admin(), "json": {"locale": "en"}}, 200),
    ("PUT", "/api/v1/sites/{site}", {"headers": admin(), "json": {"locale": "fr"}}, 400),
    ("GET", "/api/v1/sites/{site}/stats", {"headers": admin()}, 200),
    ("GET", "/api/v1/sites/{site}/stats", {}, 401),
    ("GET", "/api/v1/sites/{site}/pages", {"headers": admin(), "params": {"window": "week"}}, 200),
    ("GET", "/api/v1/sites/{site}/pages", {"headers": admin(), "params": {"window": "x"}}, 400),
    ("GET", "/api/v1/sites/{site}/series", {"headers": admin()}, 200),
    ("GET", "/api/v1/sites/{site}/series", {"headers": admin(), "params": {"from": "2"}}, 400),
    ("GET", "/api/v1/sites/{site}/audit", {"headers": admin()}, 200),
    ("GET", "/api/v1/sites/{site}/export", {"headers": admin()}, 200),
    ("POST", "/api/v1/sites/{site}/import", {"headers": admin(), "json": IMPORT}, 200),
    ("POST", "/api/v1/sites/{site}/import", {"headers": admin(), "json": {"days": []}}, 400),
    ("GET", "/api/v1/sites/{site}/tokens", {"headers": admin()}, 200),
    ("POST", "/api/v1/sites/{site}/tokens", {"headers": admin()}, 201),
    ("DELETE", "/api/v1/sites/{site}/tokens/{token_id}", {"headers": admin()}, 404),
    ("GET", "/admin", {"allow_redirects": False}, 303),
    ("GET", "/admin/login", {}, 200),
    ("POST", "/admin/login", {"data": b"token=x"}, 403),
    ("POST", "/admin/logout", {"allow_redirects": False}, 303),
    ("GET", "/admin/sites/{site}", {"allow_redirects": False}, 303),
    ("GET", "/admin/sites/{site}/live", {"allow_redirects": False}, 303),
    ("GET", "/admin/sites/{site}/export", {"allow_redirects": False}, 303),
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 200),
    ("GET", "/api/v1/openapi.json", {}, 200),
    ("GET", "/widget.{version}.js", {}, 404),
    ("GET", "/static/{name}", {}, 404),
]


@pytest.mark.parametrize(("method", "path", "options", "status"), REPLIES)
async def test_replies_match_the_document(
    client: Client, method: str, path: str, options: dict[str, Any], status: int
) -> None:
    """A representative request of each operation gets a documented status and a body
    that fits the documented schema."""
    url = path.format(site="demo", version="0" * 16, name="nosuch.css", token_id="0" * 16)
    if "data" in options:
        options = {**options, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    response = await client.request(method, url, **options)
    assert response.status == status, await response.text()
    is_json = response.content_type == "application/json"
    check_reply(method, path, status, await response.json() if is_json else None)


async def test_a_new_site_reply_matches_the_document(client: Client) -> None:
    """PUT of a new site answers 201 with all its settings, as documented."""
    response = await client.put("/api/v1/sites/tuson", json={"name": "Tú Sơn"}, headers=admin())
    assert response.status == 201
    check_reply("PUT", "/api/v1/sites/{site}", 201, await response.json())


async def test_site_token_replies_match_the_document(client: Client) -> None:
    """A site token reads its site, is refused other sites (403), and its revocation is 204."""
    response = await client.post("/api/v1/sites/demo/tokens", headers=admin())
    token = await response.json()
    site_token = {"Authorization": f"Bearer {token['token']}"}
    response = await client.put("/api/v1/sites/demo", json={}, headers=site_token)
    assert response.status == 403
    check_reply("PUT", "/api/v1/sites/{site}", 403, await response.json())
    response = await client.get("/api/v1/sites/demo/stats", headers=site_token)
    check_reply("GET", "/api/v1/sites/{site}/stats", 200, await response.json())
    response = await client.delete(
        f"/api/v1/sites/demo/tokens/{token['token_id']}", headers=admin()
    )
    assert response.status == 204
    check_reply("DELETE", "/api/v1/sites/{site}/tokens/{token_id}", 204)


async def test_dashboard_json_matches_the_document(client: Client) -> None:
    """The dashboard's live figures and its export download are as documented."""
    await sign_in(client)
    for path in ("/admin/sites/{site}/live", "/admin/sites/{site}/export"):
        response = await client.get(path.format(site="demo"))
        assert response.status == 200
        check_reply("GET", path, 200, await response.json())


async def test_a_refused_hit_matches_the_document(client: Client) -> None:
    """A hit refused for its origin answers counted false with a documented reason."""
    await client.put("/api/v1/sites/tuson", json={"domains": ["tuson.vn"]}, headers=admin())
    response = await client.post("/api/v1/hit", json={"site": "tuson", "url": "http://x.vn/"})
    body = await response.json()
    assert body["reason"] == "origin"
    check_reply("POST", "/api/v1/hit", 200, body)


async def test_the_store_being_down_is_documented(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """/readyz with no store answers the documented 503 error."""
    down = replace(settings, redis_url="redis://127.0.0.1:1/0", demo_site=False)
    client = await aiohttp_client(create_app(down, clock=clock))
    response = await client.get("/readyz")
    assert response.status == 503
    check_reply("GET", "/readyz", 503, await response.json())
