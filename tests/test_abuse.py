"""Abuse rules of issue 6: robots, prefetches and per-visitor rate limits are not counted."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from statsvc.bots import is_bot
from tests.conftest import BROWSER
from tests.test_api import Client, dump, post_hit, post_ping

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
