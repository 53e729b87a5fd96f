"""Many statsvc instances on one store: exact sums, one online figure, settings that spread."""

from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.keys import Keys
from statsvc.service.counting import SITE_CACHE_SECONDS, SITE_MAX_AGE
from statsvc.settings import Settings
from tests.helpers import FakeClock, admin, call
from tests.servers import TOKEN, Service

HITS_PER_INSTANCE = 200
READERS = 40  # distinct visitors (User-Agents) among the hits


def send_hit(service: Service, site: str, n: int) -> int:
    """Send hit n as reader n % READERS; return the status."""
    body = {"site": site, "path": f"/p{n % 7}", "id": f"view-{service.port}-{n:05d}"}
    return call(service.url, "POST", "/api/v1/hit", body, user_agent=f"visitor-{n % READERS}")[0]


def test_two_instances_of_two_workers_count_exactly_the_sum(tmp_path: Path, redis_url: str) -> None:
    """Two `statsvc serve --workers 2` on one store, hit concurrently: the total is exactly
    the sum of both, the visitors are counted once whichever instance saw them, and both
    instances report the same online figure."""
    # the 40 readers share the loopback address and send 400 views within a minute
    env = {"STATSVC_REDIS_URL": redis_url, "STATSVC_RATE_LIMIT_ADDRESS": "0"}
    first = Service(tmp_path / "a", "--workers", "2", env=env)
    second = Service(tmp_path / "b", "--workers", "2", env=env)
    first.start()
    second.start()
    try:
        site = "m" + secrets.token_hex(4)
        assert call(first.url, "PUT", f"/api/v1/sites/{site}", {}, TOKEN)[0] == 201
        jobs = [(svc, n) for n in range(HITS_PER_INSTANCE) for svc in (first, second)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda job: send_hit(job[0], site, job[1]), jobs))
        assert statuses == [200] * len(jobs)
        replies = [
            call(svc.url, "GET", f"/api/v1/counts?site={site}")[1] for svc in (first, second)
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


async def test_cached_settings_cost_one_read_for_every_site_while_none_changes(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock, redis: Redis
) -> None:
    """While no change is announced, an instance keeps its sites' settings up to
    SITE_MAX_AGE (it reads only the store's counter of changes each SITE_CACHE_SECONDS):
    settings written past statsvc (by a version that announced no change) are seen once
    the copy is that old, and a change announced for one site makes every copy read again."""
    one: TestClient[Request, Application] = await aiohttp_client(create_app(settings, clock))
    other: TestClient[Request, Application] = await aiohttp_client(create_app(settings, clock))
    first, second = "s" + secrets.token_hex(4), "t" + secrets.token_hex(4)
    for site in (first, second):
        assert (await one.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201

    async def locale_seen_by_other(site: str) -> str:
        reply = await other.get("/api/v1/counts", params={"site": site})
        return str((await reply.json())["locale"])

    assert await locale_seen_by_other(first) == "vi"
    keys = Keys(settings.key_prefix)
    stored = await redis.get(keys.site(first))
    assert stored is not None
    raw = json.loads(stored)
    await redis.set(keys.site(first), json.dumps({**raw, "locale": "en"}))  # announced nowhere
    clock.advance(SITE_CACHE_SECONDS)
    assert await locale_seen_by_other(first) == "vi"  # the counter says nothing changed
    clock.advance(SITE_MAX_AGE - SITE_CACHE_SECONDS - 0.001)
    assert await locale_seen_by_other(first) == "vi"
    clock.advance(0.001)
    assert await locale_seen_by_other(first) == "en"  # read again: a copy SITE_MAX_AGE old

    await redis.set(keys.site(first), json.dumps({**raw, "locale": "vi"}))  # announced nowhere
    changed = await one.put(f"/api/v1/sites/{second}", json={"locale": "en"}, headers=admin())
    assert changed.status == 200
    clock.advance(SITE_CACHE_SECONDS)
    assert await locale_seen_by_other(second) == "en"
    assert await locale_seen_by_other(first) == "vi"  # every copy was read again
