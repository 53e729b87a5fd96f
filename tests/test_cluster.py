"""statsvc on a real 3-primary Redis Cluster: sites spread over shards, batches per shard,
a slot moved under load."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from redis.crc import key_slot

from statsvc.app import create_app
from statsvc.core.keys import Keys
from statsvc.http.appkeys import STATS
from statsvc.service.buffer import Pending
from statsvc.settings import Settings
from statsvc.store import Limits, Store
from statsvc.store.limits import MAX_CONNECTIONS
from tests.cluster import Cluster, running_cluster
from tests.helpers import (
    SITES,
    STORE_TIMEOUT,
    Client,
    FakeClock,
    StoreRequest,
    admin,
    hit_reply,
)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A 3-primary cluster of this module's own, whatever store the rest of the suite uses."""
    with running_cluster(tmp_path_factory.mktemp("own-cluster")) as started:
        yield started


@pytest.fixture
async def nodes(cluster: Cluster) -> AsyncIterator[list[Redis]]:
    """A plain client of each primary, in slot order."""
    clients = [Redis(host="127.0.0.1", port=port) for port in cluster.ports]
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
async def app(
    aiohttp_client: AiohttpClient, cluster: Cluster, settings: Settings, clock: FakeClock
) -> Client:
    """statsvc on the cluster, under this test's prefix."""
    on_cluster = replace(settings, redis_url=cluster.url)
    return await aiohttp_client(create_app(on_cluster, clock=clock))


def sites_per_shard(cluster: Cluster, per_shard: int) -> list[list[str]]:
    """Return site ids whose slots fall on each primary in turn (slots were shared in order)."""
    share = 16384 // len(cluster.ports)
    found: list[list[str]] = [[] for _ in cluster.ports]
    while min(len(ids) for ids in found) < per_shard:
        site = "c" + secrets.token_hex(4)
        shard = min(key_slot(site.encode()) // share, len(cluster.ports) - 1)
        if len(found[shard]) < per_shard:
            found[shard].append(site)
    return found


async def command(node: Redis, *args: str | int) -> Any:
    """Send one command of the cluster's own to one node."""
    return await node.execute_command(*args)  # type: ignore[no-untyped-call]


async def keys_of(node: Redis, pattern: str) -> list[bytes]:
    return [key async for key in node.scan_iter(match=pattern, count=1000)]


async def test_sites_spread_over_every_primary_and_count_exactly(
    app: Client, cluster: Cluster, nodes: list[Redis], prefix: str
) -> None:
    """Sites on all three shards, hit concurrently, each count exactly; every key of a site
    sits on its own shard, in its one slot; /readyz asks every primary."""
    assert (await app.get("/readyz")).status == 200
    shards = sites_per_shard(cluster, 2)
    sites = [site for shard in shards for site in shard]
    for site in sites:
        assert (await app.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201
    replies = await asyncio.gather(
        *(
            hit_reply(app, site, f"/p{n % 3}", f"view-{site}-{n:04d}")
            for site in sites
            for n in range(20)
        )
    )
    assert all(r["status"] == 200 and r["counted"] for r in replies)
    for site in sites:
        counts = await (await app.get("/api/v1/counts", params={"site": site})).json()
        assert counts["views"]["total"] == 20
        assert counts["visits"]["today"] == 1
    for shard, node in zip(shards, nodes, strict=True):
        for site in shard:
            keys = await keys_of(node, f"{prefix}:{{{site}}}:*")
            assert len(keys) > 5
            assert {key_slot(key) for key in keys} == {key_slot(site.encode())}
        others = [s for s in sites if s not in shard]
        for site in others:
            assert await keys_of(node, f"{prefix}:{{{site}}}:*") == []


async def test_many_admin_requests_at_once_wait_for_a_connection(
    app: Client, cluster: Cluster
) -> None:
    """More admin requests at once than a process has connections to a node (each a look-up
    of one site's settings on one shard, its figures, its sources' pipeline) all answer: they wait
    for a free connection as on a single server, where redis-py's cluster client refused
    the excess at once (MaxConnectionsError: 503)."""
    site = sites_per_shard(cluster, 1)[0][0]
    assert (await app.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201
    many = 4 * MAX_CONNECTIONS
    replies = await asyncio.gather(
        *(app.get(f"/api/v1/sites/{site}", headers=admin()) for _ in range(many)),
        *(app.get(f"/api/v1/sites/{site}/stats", headers=admin()) for _ in range(many)),
        *(app.get(f"/api/v1/sites/{site}/sources", headers=admin()) for _ in range(many)),
    )
    assert [reply.status for reply in replies] == [200] * (3 * many)


async def test_a_batch_runs_once_per_slot_on_its_primary(cluster: Cluster, prefix: str) -> None:
    """Hits of three sites on three shards in one loop turn take three script runs, one per
    primary, and each reply is its own hit's."""
    store = Store.from_url(
        cluster.url, Keys(prefix), Limits(page_cap=50, rate_limit=0), timeout=STORE_TIMEOUT
    )
    try:
        requests = [StoreRequest("hit", n % 3, 0, n, n, 0) for n in range(30)]
        replies = await asyncio.gather(*(r.send(store) for r in requests))
        slots = {key_slot(site.id.encode()) for site in SITES}
        assert store.batches == len(slots)
        assert [r.views.total for r in replies] == [n // 3 + 1 for n in range(30)]
    finally:
        await store.close()


async def test_settings_and_salts_are_found_through_any_node(
    app: Client,
    cluster: Cluster,
    settings: Settings,
    clock: FakeClock,
    aiohttp_client: AiohttpClient,
) -> None:
    """A statsvc that knows only one node (not the site's) finds the site, its settings and
    its salt, and counts the same visitor once."""
    shards = sites_per_shard(cluster, 1)
    site = shards[1][0]
    put = await app.put(f"/api/v1/sites/{site}", json={"locale": "en"}, headers=admin())
    assert put.status == 201
    assert (await hit_reply(app, site, "/", "first-view-1"))["counted"]
    only_first = f"redis+cluster://127.0.0.1:{cluster.ports[0]}"
    other = await aiohttp_client(create_app(replace(settings, redis_url=only_first), clock=clock))
    reply = await hit_reply(other, site, "/", "second-view")
    assert reply["counted"] and reply["locale"] == "en"
    assert reply["views"] == {"today": 2, "yesterday": 0, "week": 2, "month": 2, "total": 2}
    assert reply["visits"]["today"] == 1  # the same salt, so the same visitor


async def test_moving_a_slot_under_load_loses_and_doubles_no_hit(
    app: Client, cluster: Cluster, nodes: list[Redis]
) -> None:
    """While a site's slot migrates key by key to another primary (MIGRATE), hits keep
    coming: every one is answered and counted exactly once, on the new primary at the end."""
    site = sites_per_shard(cluster, 1)[0][0]
    assert (await app.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201
    source, target = nodes[0], nodes[1]
    started, moved = asyncio.Event(), asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def load() -> None:
        rounds = 0
        while not moved.is_set() or rounds < 3:
            batch = [
                hit_reply(app, site, f"/p{n % 5}", f"view-{len(sent) + n:06d}") for n in range(10)
            ]
            sent.extend(await asyncio.gather(*batch))
            if len(sent) >= 30:  # some keys exist before the move begins
                started.set()
            rounds = rounds + 1 if moved.is_set() else 0

    async def migrate() -> None:
        await started.wait()
        slot = key_slot(site.encode())
        source_id = (await command(source, "CLUSTER", "MYID")).decode()
        target_id = (await command(target, "CLUSTER", "MYID")).decode()
        await command(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        await command(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        while keys := await command(source, "CLUSTER", "GETKEYSINSLOT", slot, 2):
            port = cluster.ports[1]
            await command(source, "MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", *keys)
            await asyncio.sleep(0)  # the hits of this loop turn go first
        for node in nodes:
            await command(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        moved.set()

    await asyncio.gather(load(), migrate())
    assert [r["status"] for r in sent] == [200] * len(sent)
    assert all(r["counted"] for r in sent)
    counts = await (await app.get("/api/v1/counts", params={"site": site})).json()
    assert counts["views"]["total"] == len(sent)
    assert await command(source, "CLUSTER", "COUNTKEYSINSLOT", key_slot(site.encode())) == 0


async def test_a_primary_down_stops_only_its_own_sites(
    tmp_path: Path, aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """With one primary killed, sites on the other shards go on counting, and a hit of a
    site on the dead shard is kept to count later (queued, not lost, not hung)."""
    with running_cluster(tmp_path / "cluster") as doomed:
        on_cluster = replace(settings, redis_url=doomed.url)
        app = await aiohttp_client(create_app(on_cluster, clock=clock))
        shards = sites_per_shard(doomed, 1)
        sites = [shard[0] for shard in shards]
        for site in sites:
            assert (await app.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201
            assert (await hit_reply(app, site, "/", "before-the-crash"))["counted"]
        doomed.kill(2)
        for site in sites[:2]:
            reply = await hit_reply(app, site, "/", "after-the-crash")
            assert reply["status"] == 200 and reply["views"]["total"] == 2
        reply = await hit_reply(app, sites[2], "/", "after-the-crash")
        assert (reply["status"], reply["counted"]) == (200, "queued")
        reply = await hit_reply(app, sites[0], "/", "while-one-is-kept")
        assert reply["counted"] is True and reply["views"]["total"] == 3
        service = app.app[STATS]
        service.buffer.add(Pending(sites[1], "/", clock(), "kept-for-a-live-shard"))
        assert not await service.drain()  # the dead shard's hit stays ...
        assert len(service.buffer) == 1
        counts = await (await app.get("/api/v1/counts", params={"site": sites[1]})).json()
        assert counts["views"]["total"] == 3  # ... and the live shard's is counted


async def test_a_slot_that_does_not_settle_keeps_its_hits_and_holds_up_no_other_site(
    app: Client, cluster: Cluster, nodes: list[Redis]
) -> None:
    """While a site's slot is half moved (MIGRATING, keys not moved), its hits are refused
    TRYAGAIN by the cluster: they are kept (queued) after a short window, another site's hit
    in the same moment is counted, and the kept hits are counted once the slot settles."""
    shards = sites_per_shard(cluster, 1)
    stuck, other = shards[0][0], shards[1][0]
    for site in (stuck, other):
        assert (await app.put(f"/api/v1/sites/{site}", json={}, headers=admin())).status == 201
        assert (await hit_reply(app, site, "/", "settled-first"))["counted"] is True
    slot = key_slot(stuck.encode())
    source, target = nodes[0], nodes[1]
    source_id = (await command(source, "CLUSTER", "MYID")).decode()
    target_id = (await command(target, "CLUSTER", "MYID")).decode()
    await command(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    await command(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    replies = await asyncio.gather(
        hit_reply(app, stuck, "/new-page", "while-stuck"), hit_reply(app, other, "/", "meanwhile")
    )
    assert replies[0]["counted"] == "queued"
    assert replies[1]["counted"] is True
    await command(source, "CLUSTER", "SETSLOT", slot, "STABLE")
    await command(target, "CLUSTER", "SETSLOT", slot, "STABLE")
    assert await app.app[STATS].drain()
    counts = await (await app.get("/api/v1/counts", params={"site": stuck})).json()
    assert counts["views"]["total"] == 2
