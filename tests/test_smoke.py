"""The public API answers a hit with the DESIGN §3 shape."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request


async def test_hit_on_demo_site_is_counted(client: TestClient[Request, Application]) -> None:
    """A hit on the demo site is counted and puts its visitor online."""
    response = await client.post(
        "/api/v1/hit",
        data='{"site":"demo","url":"http://x/a"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status == 200
    body = await response.json()
    assert body["counted"] is True
    assert body["online"] == 1
    assert body["page"] == {"today": 1, "total": 1, "online": 1}
