"""GET /metrics: hits by result, request and store latency, in Prometheus text format."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.settings import Settings
from tests.helpers import Client, FakeClock, admin, call, metric, wait_until
from tests.servers import Service


async def scrape(client: Client) -> str:
    """Read /metrics and check its content type."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return await response.text()


async def test_hits_are_counted_by_result(client: Client) -> None:
    """A counted hit and a replayed one show as result="counted" and result="duplicate"."""
    body = {"site": "demo", "url": "http://x/a", "id": "view-0001"}
    for _ in range(2):
        assert (await client.post("/api/v1/hit", json=body)).status == 200
    assert (await client.post("/api/v1/hit", json={"site": "demo", "path": "/b"})).status == 200
    text = await scrape(client)
    assert metric(text, "statsvc_hits_total", result="counted") == 2
    assert metric(text, "statsvc_hits_total", result="duplicate") == 1


async def test_a_refused_hit_names_its_reason(client: Client) -> None:
    """A hit refused for Do-Not-Track counts under result="dnt", not as counted."""
    await client.put("/api/v1/sites/quiet", json={"respect_dnt": True}, headers=admin())
    response = await client.post(
        "/api/v1/hit", json={"site": "quiet", "path": "/"}, headers={"DNT": "1"}
    )
    assert (await response.json())["reason"] == "dnt"
    text = await scrape(client)
    assert metric(text, "statsvc_hits_total", result="dnt") == 1
    assert metric(text, "statsvc_hits_total", result="counted") == 0


async def test_request_latency_is_labelled_by_route_pattern(client: Client) -> None:
    """Requests are timed under their route's pattern and status; a stray path is never a
    label value of its own."""
    await client.get("/api/v1/sites/demo", headers=admin())
    await client.get("/wp-login.php")
    await client.request("PROPFIND", "/api/v1/hit")
    text = await scrape(client)
    name = "statsvc_request_duration_seconds_count"
    assert metric(text, name, route="/api/v1/sites/{site}", method="GET", status="200") == 1
    assert metric(text, name, route="(unmatched)", method="GET", status="404") == 1
    assert metric(text, name, route="(unmatched)", method="other", status="405") == 1
    assert "wp-login" not in text
    assert "PROPFIND" not in text


async def test_store_latency_is_observed_per_operation(client: Client) -> None:
    """Each counting request's wait for the store is observed under its operation."""
    await client.post("/api/v1/hit", json={"site": "demo", "path": "/"})
    await client.get("/api/v1/counts", params={"site": "demo"})
    await client.get("/api/v1/counts", params={"site": "demo"})
    text = await scrape(client)
    name = "statsvc_store_duration_seconds_count"
    assert metric(text, name, operation="hit") == 1
    assert metric(text, name, operation="read") == 2
    assert metric(text, "statsvc_store_duration_seconds_sum", operation="read") > 0


async def test_metrics_are_not_open_to_other_origins(client: Client) -> None:
    """/metrics sends no CORS header: a page on another origin cannot read it."""
    response = await client.get("/metrics", headers={"Origin": "https://evil.example"})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_metrics_token_closes_the_page(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """With a metrics token set, /metrics answers 401 without it (or with the admin token)
    and the metrics with it."""
    app = create_app(replace(settings, metrics_token="scrape-me"), clock=clock)
    client = await aiohttp_client(app)
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers=admin())).status == 401
    response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status == 200
    assert "statsvc_hits_total" in await response.text()


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Service]:
    """`statsvc serve --workers 2` on the embedded store (stopped at the end)."""
    # no rate limit: the one visitor's 40 views run on the wall clock, maybe over two minutes
    service = Service(tmp_path / "data", "--workers", "2", env={"STATSVC_RATE_LIMIT": "0"})
    service.start()  # ready as soon as one worker answers: wait for the other one too

    def served() -> dict[str, float]:
        return service.per_worker("statsvc_request_duration_seconds")

    def both_answered() -> bool:
        if len(served()) == 2 and all(served().values()):
            return True
        call(service.url, "GET", "/healthz")  # on a new connection: either worker
        return False

    wait_until(
        both_answered, 60, lambda: f"the second worker never answered: {served()}", interval=0.01
    )
    yield service
    service.stop()


def test_every_workers_hits_are_in_each_scrape(two_workers: Service) -> None:
    """With two workers, a scrape answered by either one adds up the hits both counted."""
    for n in range(40):  # each on a new connection: the kernel spreads them over the workers
        two_workers.hit(f"/p{n}")
    hits = two_workers.per_worker("statsvc_hits")
    assert len(hits) == 2
    assert all(hits.values())  # each worker counted some of them
    for _ in range(4):
        url = f"http://127.0.0.1:{two_workers.port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            text = reply.read().decode()
        assert metric(text, "statsvc_hits_total", result="counted") == 40
