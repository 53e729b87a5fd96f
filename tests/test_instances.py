"""Many statsvc instances on one store: exact sums, one online figure, settings that spread."""

from __future__ import annotations

import json
import secrets
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.service.counting import SITE_CACHE_SECONDS
from statsvc.settings import Settings
from tests.conftest import FakeClock, admin
from tests.test_serve import TOKEN, Service, call

HITS_PER_INSTANCE = 200
READERS = 40  # distinct visitors (User-Agents) among the hits


def send_hit(port: int, site: str, n: int) -> int:
    """Send hit n as reader n % READERS; return the status."""
    body = json.dumps({"site": site, "path": f"/p{n % 7}", "id": f"view-{port}-{n:05d}"})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/hit",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": f"visitor-{n % READERS}"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(reply.status)


def test_two_instances_of_two_workers_count_exactly_the_sum(tmp_path: Path, redis_url: str) -> None:
    """Two `statsvc serve --workers 2` on one store, hit concurrently: the total is exactly
    the sum of both, the visitors are counted once whichever instance saw them, and both
    instances report the same online figure."""
    env = {"STATSVC_REDIS_URL": redis_url}
    first = Service(tmp_path / "a", "--workers", "2", env=env)
    second = Service(tmp_path / "b", "--workers", "2", env=env)
    first.start()
    second.start()
    try:
        site = "m" + secrets.token_hex(4)
        assert call(first.port, "PUT", f"/api/v1/sites/{site}", {}, TOKEN)[0] == 201
        jobs = [(port, n) for n in range(HITS_PER_INSTANCE) for port in (first.port, second.port)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda job: send_hit(job[0], site, job[1]), jobs))
        assert statuses == [200] * len(jobs)
        replies = [
            call(svc.port, "GET", f"/api/v1/counts?site={site}")[1] for svc in (first, second)
        ]
        for counts in replies:
            assert counts["views"]["total"] == 2 * HITS_PER_INSTANCE
            assert counts["visits"]["total"] == READERS
            assert counts["online"] == READERS
    finally:
        first.stop()
        second.stop()


async def test_a_settings_change_reaches_another_instance_within_the_cache_bound(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """A change made through one instance is seen by another as soon as its cached copy is
    SITE_CACHE_SECONDS old (5 s), never later."""
    one: TestClient[Request, Application] = await aiohttp_client(create_app(settings, clock))
    other: TestClient[Request, Application] = await aiohttp_client(create_app(settings, clock))
    site = "s" + secrets.token_hex(4)
    assert (await one.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201

    async def locale_seen_by_other() -> str:
        reply = await other.get("/api/v1/counts", params={"site": site})
        return str((await reply.json())["locale"])

    assert await locale_seen_by_other() == "vi"
    changed = await one.put(f"/api/v1/sites/{site}", json={"locale": "en"}, headers=admin())
    assert (await changed.json())["locale"] == "en"
    clock.advance(SITE_CACHE_SECONDS - 0.001)
    assert await locale_seen_by_other() == "vi"  # still within the bound
    clock.advance(0.001)
    assert await locale_seen_by_other() == "en"
