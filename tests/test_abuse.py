"""Abuse rules of issue 6: robots, prefetches and per-visitor rate limits are not counted."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from crawlerdetect import CrawlerDetect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.bots import HEADLESS, is_bot
from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.reasons import Reason
from statsvc.core.site import Site
from statsvc.settings import Settings
from statsvc.store import Limits, Store
from tests.helpers import BROWSER, Client, FakeClock, dump, examples, post_hit, post_ping

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BROWSERS = [
    CHROME,
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/134.0.0 Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-A325F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36 Zalo android/12090 ZaloTheme/light ZaloLanguage/vi",
]
ROBOTS = [
    "",
    "   ",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Python/3.11 aiohttp/3.10.0",
    CHROME.replace("Chrome/", "HeadlessChrome/"),
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1",
    CHROME + " Puppeteer",
    CHROME + " Playwright/1.49",
    CHROME + " Selenium",
]


@pytest.mark.parametrize("agent", BROWSERS)
def test_browsers_are_not_robots(agent: str) -> None:
    """Desktop and phone browsers, Cốc Cốc and Zalo's in-app browser are people."""
    assert not is_bot(agent)


@pytest.mark.parametrize("agent", ROBOTS)
def test_robots_are_known(agent: str) -> None:
    """No User-Agent, crawlers, HTTP libraries and headless browsers are robots."""
    assert is_bot(agent)


async def test_a_robots_hit_is_refused_as_bot(client: Client, redis: Redis, prefix: str) -> None:
    """A crawler's hit answers counted false, reason bot, with the counts, and changes nothing
    but the day's tally of refused hits; its heartbeat marks no one online."""
    counted = await post_hit(client, {"site": "demo", "path": "/a"})
    before = await dump(redis, prefix)
    robot = {"User-Agent": ROBOTS[2]}
    reply = await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-bot-0001"}, robot)
    assert (reply["counted"], reply["reason"]) == (False, "bot")
    for key in ("views", "visits", "online", "page"):
        assert reply[key] == counted[key]
    await post_ping(client, {"site": "demo", "path": "/a"}, robot)
    after = await dump(redis, prefix)
    assert after.pop(f"{prefix}:{{demo}}:rej:2026-11-26".encode()) == {b"bot": b"1"}
    assert after == before


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Purpose": "prefetch"}, {"Sec-Purpose": "prefetch;prerender"}, {"Purpose": "prefetch"}],
)
async def test_a_prefetch_is_refused(client: Client, headers: dict[str, str]) -> None:
    """A request the browser sends ahead of a visit that may never come is not a view."""
    reply = await post_hit(client, {"site": "demo", "path": "/a"}, headers)
    assert (reply["counted"], reply["reason"]) == (False, "prefetch")
    assert reply["views"]["total"] == 0
    badge = await client.get("/api/v1/badge.svg?site=demo&path=/a", headers=headers)
    assert badge.status == 200
    assert (await post_hit(client, {"site": "demo", "path": "/a"}))["views"]["total"] == 1


async def test_the_badge_of_a_robot_counts_nothing(client: Client) -> None:
    """The <noscript> badge fetched by a crawler draws the box but counts no view."""
    response = await client.get("/api/v1/badge.svg?site=demo&path=/a", headers={"User-Agent": ""})
    assert response.status == 200
    assert (await post_hit(client, {"site": "demo", "path": "/b"}))["views"]["total"] == 1


# -- the rate limit ---------------------------------------------------------------------

LIMIT = 30
NOW = 1_795_323_600.0  # 2026-11-22 05:00 UTC: on a minute's start
UTC_WINDOWS = windows_at(NOW, ZoneInfo("UTC"), "monday")
SITE = Site(id="rl", timezone="UTC")


@pytest.fixture
async def limited(aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock) -> Client:
    """The application with the default rate limit of 30 views a visitor a minute."""
    return await aiohttp_client(create_app(replace(settings, rate_limit=LIMIT), clock=clock))


@pytest.fixture
async def limited_store(redis_url: str, prefix: str) -> AsyncIterator[Store]:
    """A store on the server under test with a rate limit of 30."""
    store = Store.from_url(redis_url, Keys(prefix), Limits(page_cap=50, rate_limit=LIMIT))
    yield store
    await store.close()


async def test_the_31st_view_in_a_minute_is_refused_and_the_next_minute_counts(
    limited: Client, redis: Redis, prefix: str, clock: FakeClock
) -> None:
    """A visitor's 31st view within a minute answers counted false, reason rate_limited, with
    the counts unchanged; another visitor still counts; the next minute the first counts again."""
    clock.set(datetime(2026, 11, 26, 10, 0, 5, tzinfo=UTC))
    for n in range(LIMIT):
        last = await post_hit(limited, {"site": "demo", "path": f"/p{n % 3}"})
        assert last["counted"] is True
    before = await dump(redis, prefix)
    refused = await post_hit(limited, {"site": "demo", "path": "/p0", "id": "pv-over-0001"})
    assert (refused["counted"], refused["reason"]) == (False, "rate_limited")
    assert (refused["views"], refused["visits"]) == (last["views"], last["visits"])
    after = await dump(redis, prefix)
    rejected = f"{prefix}:{{demo}}:rej:2026-11-26".encode()
    rate = f"{prefix}:{{demo}}:rate:{int(clock.now) // 60}".encode()
    assert after.pop(rejected) == {b"rate_limited": b"1"}
    assert list(after.pop(rate).values()) == [b"31"]
    before.pop(rate)
    assert after == before  # the refused view's id is not kept either
    other = await post_hit(limited, {"site": "demo", "path": "/p0"}, {"User-Agent": CHROME})
    assert other["counted"] is True
    clock.advance(55)  # 10:01:00, a new minute
    again = await post_hit(limited, {"site": "demo", "path": "/p0", "id": "pv-over-0001"})
    assert again["counted"] is True
    assert again["views"]["today"] == LIMIT + 2
    assert 0 < await redis.ttl(rate) <= 120  # a minute's tally is gone two minutes later


async def test_a_batch_over_two_minutes_limits_each_minute(limited_store: Store) -> None:
    """Views sent in one script run are limited in the minute each came in, not the batch's."""
    start = int(NOW * 1000) + 59_000
    sends = [(start, n) for n in range(LIMIT)] + [(start + 1000, n) for n in range(LIMIT + 1)]
    replies = await asyncio.gather(
        *(
            limited_store.count("hit", SITE, UTC_WINDOWS, path="/a", now_ms=at, visitor="v1")
            for at, _ in sends
        )
    )
    assert [r.counted for r in replies] == [True] * (2 * LIMIT) + [False]
    assert replies[-1].refused is Reason.RATE_LIMITED
    assert replies[-1].views.today == 2 * LIMIT
    assert limited_store.batches == 1


async def test_views_kept_without_a_visitor_are_not_limited(limited_store: Store) -> None:
    """A view kept through an outage whose visitor is unknown counts: it names no one."""
    now_ms = int(NOW * 1000)
    replies = await asyncio.gather(
        *(
            limited_store.count("hit", SITE, UTC_WINDOWS, path="/a", now_ms=now_ms)
            for _ in range(LIMIT + 5)
        )
    )
    assert all(r.counted for r in replies)


async def test_no_limit_when_set_to_zero(client: Client) -> None:
    """STATSVC_RATE_LIMIT=0 (the test settings) counts every view."""
    for _ in range(LIMIT + 1):
        reply = await post_hit(client, {"site": "demo", "path": "/a"})
    assert reply["counted"] is True


# -- a flood of random paths ------------------------------------------------------------

FLOOD, CAP, FLOOD_VISITORS = 100_000, 1000, 500
PER_PAGE_BYTES = 1024  # a page's entries in the registry, day and month tallies, its online set


async def test_a_flood_of_random_paths_stays_within_the_page_cap(
    redis_url: str, redis: Redis, prefix: str
) -> None:
    """100,000 distinct paths to one site leave its page registry at the cap (the rest is
    "(other)") and its keys' memory under 1 KiB a capped page plus 256 KiB, whatever the flood."""
    store = Store.from_url(redis_url, Keys(prefix), Limits(page_cap=CAP, rate_limit=LIMIT))
    start = int(NOW * 1000)
    try:
        for chunk in range(0, FLOOD, 10_000):
            replies = await asyncio.gather(
                *(
                    store.count(
                        "hit",
                        SITE,
                        UTC_WINDOWS,
                        path=f"/flood/{n:06d}/{'x' * 40}",
                        now_ms=start + 5 * n,  # 500 s: 24 views a minute a visitor
                        visitor=f"visitor-{n % FLOOD_VISITORS:04d}",
                    )
                    for n in range(chunk, chunk + 10_000)
                )
            )
            assert all(r.counted for r in replies)
    finally:
        await store.close()
    pages = f"{prefix}:{{rl}}:pages"
    assert await redis.zcard(pages) == CAP + 1  # the capped pages and "(other)"
    assert await redis.zscore(pages, "(other)") == FLOOD - CAP
    used = 0
    async for key in redis.scan_iter(match=f"{prefix}:{{rl}}:*", count=1000):
        used += await redis.memory_usage(key) or 0
    assert used < CAP * PER_PAGE_BYTES + 256 * 1024, used


SMALL_LIMIT = 3
hits_strategy = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 179_999), st.booleans()), max_size=40
)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hits=hits_strategy)
def test_the_limit_matches_a_model_of_minutes(
    redis_url: str, hits: list[tuple[int, int, bool]]
) -> None:
    """Any hits of 3 visitors over 3 minutes, sent in time order, in two concurrent groups:
    a hit counts exactly when its visitor has fewer than the limit counted in its minute, and
    the figures hold exactly the counted views (refusals change nothing else)."""
    hits = sorted(hits, key=lambda h: h[1])

    async def scenario() -> None:
        keys = Keys("rl" + secrets.token_hex(6))
        store = Store.from_url(redis_url, keys, Limits(page_cap=50, rate_limit=SMALL_LIMIT))
        try:
            start, replies = int(NOW * 1000), []
            for group in (hits[: len(hits) // 2], hits[len(hits) // 2 :]):
                replies += await asyncio.gather(
                    *(
                        store.count(
                            "hit",
                            SITE,
                            UTC_WINDOWS,
                            path=f"/p{visitor}" if page else "/",
                            now_ms=start + at,
                            visitor=f"v{visitor}",
                        )
                        for visitor, at, page in group
                    )
                )
        finally:
            await store.close()
        tally: dict[tuple[int, int], int] = {}
        expected = []
        for visitor, at, _ in hits:
            minute = (visitor, at // 60_000)
            expected.append(tally.get(minute, 0) < SMALL_LIMIT)
            tally[minute] = tally.get(minute, 0) + expected[-1]
        assert [r.counted for r in replies] == expected
        assert [r.refused is Reason.RATE_LIMITED for r in replies] == [not e for e in expected]
        if replies:
            assert replies[-1].views.total == sum(expected)

    asyncio.run(scenario())


def reference_is_bot(user_agent: str) -> bool:
    """The rule in Python's re: crawlerdetect's own answer on every agent."""
    agent = user_agent.strip()
    return not agent or bool(HEADLESS.search(agent)) or CrawlerDetect().is_crawler(agent)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*BROWSERS, *ROBOTS, "Yandex", "YandexSearch/1.0", "bot", "Cubot", "Java/1.8", " "]
        )
        | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
        max_size=4,
    ).map("".join)
)
def test_the_fast_search_never_changes_crawlerdetects_answer(user_agent: str) -> None:
    """Judged in RE2, agents made of browsers', robots' and random pieces get crawlerdetect's
    own answer (tests/test_bots.py tries many more)."""
    assert is_bot.__wrapped__(user_agent) == reference_is_bot(user_agent)
