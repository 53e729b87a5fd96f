"""The hit and heartbeat routes do their edge work themselves (issue 13): what the edge
middleware does for every other route, pinned on these two."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.core.requester import parse_networks
from statsvc.settings import Settings
from tests.helpers import BEACON, HIT, PING, Client, FakeClock, metric, on_demo

PUBLIC = pytest.mark.parametrize("endpoint", [HIT, PING])


def assert_public_json(headers: Mapping[str, str]) -> None:
    """Assert a reply is JSON, open to every origin without credentials, and nosniff."""
    assert headers.get("Content-Type", "").startswith("application/json")
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert headers.get("X-Content-Type-Options") == "nosniff"


@PUBLIC
async def test_a_reply_is_open_to_every_origin_and_nosniff(client: Client, endpoint: str) -> None:
    """A hit's or heartbeat's 200 reply is JSON, open to every origin, nosniff."""
    response = await client.post(endpoint, data=on_demo(path="/a"), headers=BEACON)
    assert response.status == 200
    assert_public_json(response.headers)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (on_demo(path="a"), BEACON, 400, "invalid_path"),
        (on_demo(path="/", site="nowhere"), BEACON, 404, "unknown_site"),
        (on_demo(path="/"), {"Content-Type": "image/png"}, 415, "unsupported_media_type"),
        ("{" + " " * 9000 + "}", BEACON, 413, "body_too_large"),
        ("not json", BEACON, 400, "invalid_json"),
    ],
    ids=["bad-path", "unknown-site", "media-type", "too-large", "not-json"],
)
@PUBLIC
async def test_an_error_has_the_json_shape_and_the_public_headers(
    client: Client, endpoint: str, body: str, headers: dict[str, str], status: int, code: str
) -> None:
    """A refused hit or heartbeat answers {"error": {code, message}} with its status, open to
    every origin (the widget reads it) and nosniff."""
    response = await client.post(endpoint, data=body, headers=headers)
    assert response.status == status
    error = (await response.json())["error"]
    assert error["code"] == code
    assert error["message"]
    assert_public_json(response.headers)


async def test_a_declared_length_past_the_limit_is_refused_unread(client: Client) -> None:
    """A hit declaring a body over 8 KiB is 413 from its headers alone."""
    response = await client.post(
        HIT, data=b"x", headers={**BEACON, "Content-Length": "8193"}, skip_auto_headers=()
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "body_too_large"


@PUBLIC
async def test_a_preflight_is_answered(client: Client, endpoint: str) -> None:
    """A preflight of a hit or heartbeat is 204 with the CORS headers, counting nothing."""
    response = await client.options(
        endpoint,
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_hits_are_timed_under_their_route(client: Client) -> None:
    """A hit's request, answered or refused, is timed under /api/v1/hit, POST and its status."""
    await client.post(HIT, data=on_demo(path="/a"), headers=BEACON)
    await client.post(HIT, data=on_demo(path="a"), headers=BEACON)
    await client.post(PING, data=on_demo(path="/a"), headers=BEACON)
    text = (await (await client.get("/metrics")).read()).decode()
    name = "statsvc_request_duration_seconds_count"
    assert metric(text, name, route=HIT, method="POST", status="200") == 1
    assert metric(text, name, route=HIT, method="POST", status="400") == 1
    assert metric(text, name, route=PING, method="POST", status="200") == 1


async def test_a_trusted_proxys_forwarded_address_is_the_visitor(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Behind a trusted proxy, two hits with one User-Agent and two forwarded addresses are
    two visitors; the same forwarded address again is the same visitor."""
    trusting = replace(settings, trusted_proxies=parse_networks("127.0.0.1/32"))
    client = await aiohttp_client(create_app(trusting, clock=clock))
    visits = []
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
        headers = {**BEACON, "X-Forwarded-For": address, "User-Agent": "UA"}
        response = await client.post(HIT, data=on_demo(path="/a"), headers=headers)
        visits.append((await response.json())["visits"]["today"])
    assert visits == [1, 2, 2]


async def test_a_hit_writes_its_access_log_line(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hit writes one access log line, with its request line and status."""
    caplog.set_level(logging.INFO, "aiohttp.access")
    client = await aiohttp_client(
        create_app(settings, clock=clock),
        server_kwargs={"access_log": logging.getLogger("aiohttp.access")},
    )
    await client.post(HIT, data=on_demo(path="/a"), headers=BEACON)
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1
    assert '"POST /api/v1/hit HTTP/1.1" 200' in lines[0]
