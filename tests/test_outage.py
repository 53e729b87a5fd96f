"""Store outages: hits are kept in order within a bound, written to the journal in the data
directory before their reply, counted once when the store is back (or at the next start, after
a stop or a crash), given up past the replay horizon."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.http.appkeys import STATS
from statsvc.service.buffer import Pending
from statsvc.settings import Settings
from statsvc.store import REPLAY_HORIZON
from tests.helpers import Client, FakeClock, Json, admin, check_reply, hit_reply, metric
from tests.servers import Server

SITE = "xa-tu-son"


@pytest.fixture
def own_settings(server: Server, settings: Settings) -> Settings:
    """The test settings on that store (a stopped server refuses at once: the tests meet no
    timeout)."""
    return replace(settings, redis_url=server.url, demo_site=False)


@pytest.fixture
async def app(aiohttp_client: AiohttpClient, own_settings: Settings, clock: FakeClock) -> Client:
    """statsvc on that store, with a site."""
    client = await aiohttp_client(create_app(own_settings, clock=clock))
    tz = {"timezone": "Asia/Ho_Chi_Minh"}
    assert (await client.put(f"/api/v1/sites/{SITE}", json=tz, headers=admin())).status == 201
    return client


async def hit(app: Client, view_id: str, path: str = "/a", agent: str = "visitor") -> Json:
    """Send a hit of SITE by `agent`; return its reply with the status under "status"."""
    return await hit_reply(app, SITE, path, view_id, user_agent=agent)


async def counts(app: Client) -> dict[str, Any]:
    reply = await app.get("/api/v1/counts", params={"site": SITE})
    assert reply.status == 200
    data: dict[str, Any] = await reply.json()
    return data


async def drain(app: Client) -> None:
    """Let the service count what it kept (as its background task would, without waiting)."""
    service = app.app[STATS]
    assert await service.drain()
    while len(service.buffer):
        assert await service.drain()


async def test_hits_during_an_outage_are_queued_then_counted_once(
    app: Client, server: Server, clock: FakeClock
) -> None:
    """While the store is down a hit is answered 200 "queued" with no figures; when it is
    back every kept hit is counted once, in the day it came, and the store's state is ready."""
    assert (await hit(app, "before-outage"))["counted"] is True
    server.stop()
    queued = [await hit(app, f"during-outage-{n}", agent=f"visitor-{n % 2}") for n in range(5)]
    for reply in queued:
        assert reply["status"] == 200
        assert reply["counted"] == "queued"
        assert reply["views"] is None and reply["online"] is None and reply["page"] is None
        assert reply["path"] == "/a"
        check_reply("POST", "/api/v1/hit", 200, {k: v for k, v in reply.items() if k != "status"})
    assert (await app.get("/readyz")).status == 503
    clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # the next local day in Hồ Chí Minh
    server.start()
    await drain(app)
    figures = await counts(app)
    assert figures["views"]["yesterday"] == 6  # counted on the day they came
    assert figures["views"]["total"] == 6
    assert figures["visits"]["yesterday"] == 3  # the outage's two readers, and the first one
    ready = await app.get("/readyz")
    assert ready.status == 200 and (await ready.json())["buffered"] == 0


async def test_a_hit_counted_before_its_reply_was_lost_is_not_counted_again(
    app: Client, server: Server, clock: FakeClock
) -> None:
    """A kept hit whose page-view id the store already counted (the reply was lost, not the
    write) is not counted again when it is replayed; neither is a client's retry of it."""
    assert (await hit(app, "written-once"))["counted"] is True
    service = app.app[STATS]
    service.buffer.add(Pending(SITE, "/a", clock(), "written-once"))
    await drain(app)
    assert (await counts(app))["views"]["total"] == 1
    again = await hit(app, "written-once")
    assert (again["counted"], again["reason"]) == (False, "duplicate")


async def test_past_the_bound_a_hit_is_refused_and_counted_dropped(
    aiohttp_client: AiohttpClient, own_settings: Settings, server: Server, clock: FakeClock
) -> None:
    """With the buffer full a hit gets 503 store_unavailable, and the drop is counted; the
    kept ones are all counted later."""
    app = await aiohttp_client(create_app(replace(own_settings, buffer_limit=3), clock=clock))
    assert (await app.put(f"/api/v1/sites/{SITE}", json={}, headers=admin())).status == 201
    server.stop()
    replies = [await hit(app, f"bounded-{n}") for n in range(4)]
    assert [r["status"] for r in replies] == [200, 200, 200, 503]
    assert replies[3]["error"]["code"] == "store_unavailable"
    assert app.app[STATS].buffer.dropped == 1
    server.start()
    await drain(app)
    assert (await counts(app))["views"]["total"] == 3


async def test_a_known_site_keeps_counting_through_an_outage(
    app: Client, server: Server, clock: FakeClock
) -> None:
    """Past the settings cache's 5 s a site known to the process is still taken from its
    copy while the store is down, so its hits are kept rather than refused."""
    await hit(app, "warm-the-cache")
    server.stop()
    clock.advance(60)
    assert (await hit(app, "after-the-cache"))["counted"] == "queued"
    unknown = await app.post("/api/v1/hit", json={"site": "never-seen", "path": "/"})
    assert unknown.status == 503  # nothing is known of that site: it cannot be kept


async def test_a_known_site_keeps_counting_through_an_outage_after_a_change(
    app: Client, server: Server, clock: FakeClock
) -> None:
    """A change of another site's settings announced just before the outage makes the
    process read its copies again; the store down, a known site's copy still serves (its
    hits are kept), however long the outage."""
    await hit(app, "warm-the-cache")
    changed = await app.put("/api/v1/sites/other-site", json={}, headers=admin())
    assert changed.status == 201
    clock.advance(5)  # the process reads the counter of changes: it moved
    assert (await hit(app, "after-the-change"))["counted"] is True  # read again, at once
    await app.put("/api/v1/sites/third-site", json={}, headers=admin())
    clock.advance(5)
    await app.get("/api/v1/counts", params={"site": "other-site"})  # reads the counter
    server.stop()
    for n in range(3):
        assert (await hit(app, f"in-the-outage-{n}"))["counted"] == "queued"
        clock.advance(30)


async def test_the_badge_of_a_kept_hit_draws_placeholders(app: Client, server: Server) -> None:
    """The <noscript> badge counts its view like a hit: kept through an outage, the image
    is still drawn, with "…" where the numbers go (as the widget does)."""
    await hit(app, "warm-the-caches")
    server.stop()
    reply = await app.get("/api/v1/badge.svg", params={"site": SITE, "path": "/a"})
    assert reply.status == 200
    svg = await reply.text()
    assert svg.count(">…</text>") == 4 and "<svg" in svg  # and in its aria-label
    assert len(app.app[STATS].buffer) == 1


async def test_reads_and_heartbeats_fail_quickly_while_the_store_is_down(
    app: Client, server: Server
) -> None:
    """Counts and pings cannot be kept: they answer 503 store_unavailable."""
    await hit(app, "first-one")
    server.stop()
    for reply in (
        await app.get("/api/v1/counts", params={"site": SITE}),
        await app.post("/api/v1/ping", json={"site": SITE, "path": "/a"}),
    ):
        assert reply.status == 503
        assert (await reply.json())["error"]["code"] == "store_unavailable"


async def test_kept_hits_stay_on_disk_at_shutdown_and_the_next_start_counts_them(
    own_settings: Settings, server: Server, clock: FakeClock, tmp_path: Path
) -> None:
    """Hits kept when the service stops are in the data directory, without any client
    address; the next start reads them back, counts each once and deletes the file as soon
    as they are counted (a crash after that has nothing to count twice)."""
    first = TestClient(TestServer(create_app(own_settings, clock=clock)))
    await first.start_server()
    assert (await first.put(f"/api/v1/sites/{SITE}", json={}, headers=admin())).status == 201
    await hit(first, "before-the-stop")
    server.stop()
    for n in range(3):
        reply = await first.post(
            "/api/v1/hit",
            json={"site": SITE, "path": f"/k{n}", "id": f"kept-hit-{n}"},
            headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": "agent-x"},
        )
        assert (await reply.json())["counted"] == "queued"
    await first.close()
    files = list((own_settings.data_dir / "buffer").glob("*.jsonl"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "127.0.0.1" not in text and "203.0.113.9" not in text and "agent-x" not in text
    assert [json.loads(line)["id"] for line in text.splitlines()] == [
        "kept-hit-0",
        "kept-hit-1",
        "kept-hit-2",
    ]
    server.start()
    second = TestClient(TestServer(create_app(own_settings, clock=clock)))
    await second.start_server()
    try:
        await drain(second)
        figures = await counts(second)
        assert figures["views"]["total"] == 4
        # gone once counted, not at shutdown: a crash now leaves nothing to count again
        assert list((own_settings.data_dir / "buffer").glob("*.jsonl")) == []
    finally:
        await second.close()
    assert list((own_settings.data_dir / "buffer").glob("*.jsonl")) == []


async def test_draining_in_the_background_counts_kept_hits(app: Client, server: Server) -> None:
    """Without anyone asking, the service counts kept hits once the store is back."""
    server.stop()
    assert (await hit(app, "background-1"))["counted"] == "queued"
    server.start()
    service = app.app[STATS]
    assert service._drainer is not None
    await asyncio.wait_for(service._drainer, timeout=30)
    assert (await counts(app))["views"]["total"] == 1


def journal_files(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "buffer").glob("*.jsonl"))


async def test_a_kept_hit_is_on_disk_before_its_reply_says_queued(
    app: Client, server: Server, own_settings: Settings
) -> None:
    """By the time a hit is answered "queued" it is a line of the process's journal (a crash
    of the process right after the reply loses nothing); when it is counted the file goes."""
    await hit(app, "warm-the-caches")
    server.stop()
    assert (await hit(app, "kept-on-disk"))["counted"] == "queued"
    [path] = journal_files(own_settings)
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["kept-on-disk"]
    server.start()
    await drain(app)
    assert journal_files(own_settings) == []
    assert (await counts(app))["views"]["total"] == 2


async def test_a_replay_crashed_before_its_progress_was_marked_counts_nothing_twice(
    own_settings: Settings, server: Server, clock: FakeClock
) -> None:
    """A process that dies after the store took a replayed batch and before it marked the
    batch done (the worst instant: the file as it was before the replay) leaves the same hits
    to the next start, which sends them again: the store refuses each id it counted."""
    first = TestClient(TestServer(create_app(own_settings, clock=clock)))
    await first.start_server()
    assert (await first.put(f"/api/v1/sites/{SITE}", json={}, headers=admin())).status == 201
    await hit(first, "before-the-outage")
    server.stop()
    for n in range(300):  # more than a replay batch
        reply = await hit(first, f"kept-{n:04d}", agent=f"visitor-{n % 7}")
        assert reply.get("counted") == "queued", (n, reply)
    [path] = journal_files(own_settings)
    before_the_replay = path.read_bytes()
    server.start()
    await drain(first)
    assert journal_files(own_settings) == []
    figures = await counts(first)
    assert figures["views"]["total"] == 301
    await first.close()
    path.write_bytes(before_the_replay)  # what a crash before the marks leaves on disk
    second = TestClient(TestServer(create_app(own_settings, clock=clock)))
    await second.start_server()
    try:
        assert len(second.app[STATS].buffer) == 300
        await drain(second)
        assert await counts(second) == figures
        page = (await (await second.get("/metrics")).read()).decode()
        assert metric(page, "statsvc_hits_total", result="duplicate") == 0  # not a client's
    finally:
        await second.close()
    assert journal_files(own_settings) == []


async def test_a_kept_hit_past_the_replay_horizon_is_given_up_and_counted(
    app: Client, server: Server, clock: FakeClock, own_settings: Settings
) -> None:
    """A kept hit older than the replay horizon when the store comes back is not counted
    (the store may no longer know its id) but counted in statsvc_buffer_expired_total; a
    younger one is counted; the journal is removed."""
    await hit(app, "warm-the-caches")
    server.stop()
    assert (await hit(app, "too-old-hit"))["counted"] == "queued"
    clock.advance(3600)
    assert (await hit(app, "young-enough"))["counted"] == "queued"
    clock.advance(REPLAY_HORIZON - 1800)  # past the horizon for the first, not the second
    server.start()
    await drain(app)
    assert (await counts(app))["views"]["total"] == 2
    page = (await (await app.get("/metrics")).read()).decode()
    assert metric(page, "statsvc_buffer_expired_total") == 1
    assert journal_files(own_settings) == []
