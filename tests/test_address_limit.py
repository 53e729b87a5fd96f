"""The limit per client address (issue 12, item 7): one address rotating User-Agents and
page-view ids counts at most STATSVC_RATE_LIMIT_ADDRESS views a minute and adds no more to the
store than that; an office behind one NAT still counts in full; the limit is the store's, so
every worker and instance shares it; a ping or a hit not counted marks online only a reader
already counted today."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.__main__ import parser
from statsvc.app import create_app
from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.reasons import Reason
from statsvc.core.requester import parse_networks
from statsvc.core.site import SettingsError, Site
from statsvc.settings import Settings, settings_from
from statsvc.store import Limits, Store
from tests.helpers import (
    STORE_TIMEOUT,
    Client,
    FakeClock,
    blobs,
    dump,
    get_counts,
    post_hit,
    post_ping,
)

LIMIT = 60  # views an address may count in a minute, in the flood tests
FLOOD_SECONDS, FLOOD_RATE = 30, 10  # hits a second, each with a new User-Agent and id


def agent(n: int) -> str:
    """Return the n-th of many distinct browser User-Agents."""
    return f"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.{n}"


@pytest.fixture
def limited(settings: Settings) -> Settings:
    """The test settings with the default limit per visitor and LIMIT per address."""
    return replace(settings, rate_limit=30, rate_limit_address=LIMIT)


async def test_one_address_rotating_user_agents_counts_the_limit_a_minute_and_no_more(
    aiohttp_client: AiohttpClient, limited: Settings, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """One address sending 10 hits a second for 30 s across a minute's turn, each with a new
    User-Agent and page-view id, each followed by a ping, and every fifth by a ping of yet
    another new agent: exactly LIMIT views count in each minute, the rest are refused as
    rate_limited; the store then holds at most LIMIT page-view ids, visitors and online
    members a minute, LIMIT + 1 fields in each minute's rate hash, and never the address."""
    client = await aiohttp_client(create_app(limited, clock=clock))
    start = datetime(2026, 11, 26, 10, 0, 45, tzinfo=UTC).timestamp()
    counted: Counter[int] = Counter()
    refused: Counter[str] = Counter()
    for n in range(FLOOD_SECONDS * FLOOD_RATE):
        clock.now = start + n / FLOOD_RATE
        headers = {"User-Agent": agent(n)}
        body = {"site": "demo", "path": f"/p{n % 7}", "id": f"pv-flood-{n:06d}"}
        reply = await post_hit(client, body, headers)
        if reply["counted"]:
            counted[int(clock()) // 60] += 1
        else:
            refused[reply["reason"]] += 1
        await post_ping(client, {"site": "demo", "path": f"/p{n % 7}"}, headers)
        if n % 5 == 0:
            await post_ping(
                client, {"site": "demo", "path": "/p0"}, {"User-Agent": agent(100_000 + n)}
            )
    assert sorted(counted.values()) == [LIMIT, LIMIT]  # 150 hits in each minute
    assert refused == {"rate_limited": FLOOD_SECONDS * FLOOD_RATE - 2 * LIMIT}
    counts = await get_counts(client)
    assert counts["views"]["total"] == counts["visits"]["total"] == 2 * LIMIT
    assert counts["online"] == 2 * LIMIT

    state = await dump(redis, prefix)
    base = f"{prefix}:{{demo}}:"
    assert len(state[(base + "ids:2026-11-26").encode()]) == 2 * LIMIT
    assert len(state[(base + "visitors:2026-11-26").encode()]) == 2 * LIMIT
    assert len(state[(base + "online").encode()]) == 2 * LIMIT
    rates = [value for key, value in state.items() if key.startswith((base + "rate:").encode())]
    assert [len(fields) for fields in rates] == [LIMIT + 1, LIMIT + 1]  # the address's, and
    for fields in rates:  # one a counted visitor
        assert sorted(fields.values(), key=int)[-1] == b"150"  # the address: every hit tried
    on_pages = sum(len(v) for k, v in state.items() if k.startswith((base + "pon:").encode()))
    assert on_pages <= 2 * LIMIT
    assert not any(b"127.0.0.1" in blob for value in state.values() for blob in blobs(value))


async def test_the_limit_per_address_is_shared_by_every_instance(
    aiohttp_client: AiohttpClient, limited: Settings, clock: FakeClock
) -> None:
    """Two instances on one store, taking turns with one address's hits: together they count
    LIMIT views in the minute, as one would (the tally is in the store)."""
    first = await aiohttp_client(create_app(limited, clock=clock))
    second = await aiohttp_client(create_app(limited, clock=clock))
    replies = [
        await post_hit(
            (first, second)[n % 2], {"site": "demo", "path": "/"}, {"User-Agent": agent(n)}
        )
        for n in range(LIMIT + 10)
    ]
    assert [r["counted"] for r in replies] == [True] * LIMIT + [False] * 10
    assert (await get_counts(first))["views"]["total"] == LIMIT


async def test_addresses_of_one_ipv6_block_share_the_limit(
    aiohttp_client: AiohttpClient, limited: Settings, clock: FakeClock
) -> None:
    """A client rotating through the addresses of its IPv6 /64 (it has 2^64 of them) is one
    address to the limit: LIMIT views count in the minute; an address of another /64, and an
    IPv4 address written as IPv6 (::ffff:…), each have limits of their own."""
    trusting = replace(limited, trusted_proxies=parse_networks("127.0.0.1/32"))
    client = await aiohttp_client(create_app(trusting, clock=clock))

    async def counted(address: str, n: int) -> bool:
        headers = {"User-Agent": agent(n), "X-Forwarded-For": address}
        return bool((await post_hit(client, {"site": "demo", "path": "/"}, headers))["counted"])

    rotating = [await counted(f"2001:db8:1:2::{n:x}", n) for n in range(LIMIT + 10)]
    assert rotating == [True] * LIMIT + [False] * 10
    assert await counted("2001:db8:1:3::1", 1)  # another block
    assert await counted("::ffff:198.51.100.7", 2)  # IPv4, its own


async def test_an_office_behind_one_address_counts_in_full(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """30 readers behind one NAT, each with a browser of their own, reading 10 pages a minute
    for 2 minutes and sending a heartbeat a minute: with the default limits (30 a visitor,
    300 an address) every view counts, and all 30 are online."""
    defaults = Settings()
    assert (defaults.rate_limit, defaults.rate_limit_address) == (30, 300)
    office = replace(settings, rate_limit=30, rate_limit_address=300)
    client = await aiohttp_client(create_app(office, clock=clock))
    start = datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp()
    for view in range(20):
        for reader in range(30):
            clock.now = start + 6 * view + 0.1 * reader
            headers = {"User-Agent": agent(reader)}
            reply = await post_hit(client, {"site": "demo", "path": f"/tin/{view}"}, headers)
            assert reply["counted"] is True, (view, reader, reply)
            if view % 10 == 5:
                await post_ping(client, {"site": "demo", "path": f"/tin/{view}"}, headers)
    counts = await get_counts(client)
    assert counts["views"]["total"] == 600
    assert counts["visits"]["total"] == 30
    assert counts["online"] == 30


async def test_a_refusal_by_address_leaves_no_visitor_and_one_by_visitor_gives_back(
    redis_url: str, redis: Redis, prefix: str
) -> None:
    """The address is tallied before the visitor: a view refused for its address adds no
    field for its visitor; one refused for its visitor does not use up its address's
    minute (with 2 a visitor and 3 an address, 3 views count)."""
    store = Store.from_url(
        redis_url,
        Keys(prefix),
        Limits(page_cap=50, rate_limit=2, rate_limit_address=3),
        timeout=STORE_TIMEOUT,
    )
    site = Site(id="nat", timezone="UTC")
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp()
    windows = windows_at(now, site.zone, "monday")
    got = []
    try:
        for visitor in ("v1", "v1", "v1", "v2", "v3"):
            got.append(
                await store.count(
                    "hit",
                    site,
                    windows,
                    path="/",
                    now_ms=int(now * 1000),
                    visitor=visitor,
                    address="@office",
                )
            )
    finally:
        await store.close()
    assert [c.counted for c in got] == [True, True, False, True, False]
    assert [c.refused for c in got] == [None, None, Reason.RATE_LIMITED, None, Reason.RATE_LIMITED]
    rate = await redis.hgetall(f"{prefix}:{{nat}}:rate:{int(now) // 60}")
    assert rate == {b"@office": b"4", b"v1": b"3", b"v2": b"1"}
    assert await redis.smembers(f"{prefix}:{{nat}}:visitors:2026-11-26") == {b"v1", b"v2"}
    assert await redis.zcard(f"{prefix}:{{nat}}:online") == 2


async def test_a_ping_or_a_hit_not_counted_marks_online_only_a_reader_counted_today(
    client: Client, clock: FakeClock
) -> None:
    """A duplicate from a new User-Agent and a ping from another mark no one online; the
    counted reader's ping keeps them online; and past local midnight the reader online under
    yesterday's id is kept online by a ping, under today's."""
    clock.set(datetime(2026, 11, 26, 23, 59, tzinfo=UTC))  # the demo site is in UTC
    first = await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-online-1"})
    assert (first["counted"], first["online"]) == (True, 1)
    stranger = {"User-Agent": agent(1)}
    again = await post_hit(client, {"site": "demo", "path": "/a", "id": "pv-online-1"}, stranger)
    assert (again["reason"], again["online"], again["page"]["online"]) == ("duplicate", 1, 1)
    pinged = await post_ping(client, {"site": "demo", "path": "/a"}, {"User-Agent": agent(2)})
    assert pinged == {"online": 1, "page": {"online": 1}}
    clock.set(datetime(2026, 11, 27, 0, 0, 30, tzinfo=UTC))
    assert (await post_ping(client, {"site": "demo", "path": "/a"}))["online"] == 1
    clock.set(datetime(2026, 11, 27, 0, 4, 1, tzinfo=UTC))  # yesterday's mark is 301 s old
    counts = await get_counts(client, "demo", "/a")
    assert (counts["online"], counts["page"]["online"]) == (1, 1)


@pytest.mark.parametrize(("value", "limit"), [(None, 300), ("0", 0), ("1000", 1000)])
def test_the_limit_per_address_is_set_from_the_environment(value: str | None, limit: int) -> None:
    """STATSVC_RATE_LIMIT_ADDRESS sets the limit per address (0: none), 300 without it."""
    env = {} if value is None else {"STATSVC_RATE_LIMIT_ADDRESS": value}
    assert settings_from(env, parser().parse_args(["serve"])).rate_limit_address == limit


@pytest.mark.parametrize("value", ["-1", "1.5", "many", "1000001"])
def test_a_limit_per_address_out_of_range_is_refused(value: str) -> None:
    """A STATSVC_RATE_LIMIT_ADDRESS that is not a whole number from 0 to 1,000,000 is refused."""
    with pytest.raises(SettingsError) as refused:
        settings_from({"STATSVC_RATE_LIMIT_ADDRESS": value}, parser().parse_args(["serve"]))
    assert refused.value.field == "STATSVC_RATE_LIMIT_ADDRESS"
