"""A site's exclude_ips (DESIGN §5): views from its addresses and ranges are answered with the
counts, not counted (reason excluded), and tallied as refused; the setting is checked."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis

from statsvc.app import create_app
from statsvc.core.requester import AddressSet, parse_networks
from statsvc.core.site import MAX_EXCLUDE_IPS
from statsvc.settings import Settings
from tests.helpers import (
    Client,
    FakeClock,
    Json,
    admin,
    dump,
    error_code,
    ok,
    post_hit,
    post_ping,
    put_site,
    sign_in,
)

VISITOR = "198.51.100.7"  # an address no test excludes


@pytest.fixture
async def proxied(aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock) -> Client:
    """A client of an app that trusts X-Forwarded-For from 127.0.0.1, the test client's address."""
    trusting = replace(settings, trusted_proxies=parse_networks("127.0.0.1/32"))
    return await aiohttp_client(create_app(trusting, clock=clock))


def sent_from(address: str, user_agent: str = "UA-1") -> dict[str, str]:
    """Return the headers of a request a trusted proxy forwards from `address`."""
    return {"X-Forwarded-For": address, "User-Agent": user_agent}


@pytest.mark.parametrize(
    ("entry", "address"),
    [
        pytest.param("203.0.113.9", "203.0.113.9", id="ipv4-address"),
        pytest.param("203.0.113.0/24", "203.0.113.200", id="ipv4-range"),
        pytest.param("2001:db8::7", "2001:DB8:0:0::7", id="ipv6-address"),
        pytest.param("2001:db8:ca5e::/48", "2001:db8:ca5e:1::9", id="ipv6-range"),
        pytest.param("203.0.113.9", "::ffff:203.0.113.9", id="ipv4-as-ipv6"),
    ],
)
async def test_a_view_from_an_excluded_address_is_answered_and_not_counted(
    proxied: Client, redis: Redis, prefix: str, entry: str, address: str
) -> None:
    """A hit from an excluded address or range is answered with the counts, counted false,
    reason excluded; its ping marks no one online, its badge counts nothing; all that changes
    is the day's tally of refused hits; another site still counts the address."""
    await put_site(proxied, "office", {"exclude_ips": [entry]})
    counted = await post_hit(proxied, {"site": "office", "path": "/a"}, sent_from(VISITOR))
    assert counted["counted"] is True
    before = await dump(redis, prefix)
    reply = await post_hit(proxied, {"site": "office", "path": "/a"}, sent_from(address, "UA-2"))
    assert (reply["counted"], reply["reason"]) == (False, "excluded")
    for key in ("views", "visits", "online", "page"):
        assert reply[key] == counted[key]
    ping = await post_ping(proxied, {"site": "office", "path": "/b"}, sent_from(address, "UA-2"))
    assert ping == {"online": 1, "page": {"online": 0}}
    badge = await proxied.get(
        "/api/v1/badge.svg", params={"site": "office", "path": "/a"}, headers=sent_from(address)
    )
    assert badge.status == 200
    after = await dump(redis, prefix)
    assert after.pop(f"{prefix}:{{office}}:rej:2026-11-26".encode()) == {b"excluded": b"2"}
    assert after == before
    elsewhere = await post_hit(proxied, {"site": "demo", "path": "/a"}, sent_from(address))
    assert elsewhere["counted"] is True


async def test_behind_a_trusted_proxy_the_forwarded_address_decides(
    client: Client, proxied: Client
) -> None:
    """Through a trusted proxy the forwarded address is the one matched, not the proxy's;
    from a peer not trusted, X-Forwarded-For is ignored and the peer's address is matched."""
    await put_site(proxied, "office", {"exclude_ips": ["127.0.0.1", "203.0.113.0/24"]})
    through = await post_hit(proxied, {"site": "office", "path": "/"}, sent_from(VISITOR))
    assert through["counted"] is True  # the proxy, 127.0.0.1, is excluded; the reader is not
    staff = await post_hit(proxied, {"site": "office", "path": "/"}, sent_from("203.0.113.5"))
    assert (staff["counted"], staff["reason"]) == (False, "excluded")
    direct = await post_hit(client, {"site": "office", "path": "/"}, sent_from(VISITOR))
    assert (direct["counted"], direct["reason"]) == (False, "excluded")  # it is 127.0.0.1
    await put_site(client, "office", {"exclude_ips": ["203.0.113.0/24"]})  # its own cache
    forged = await post_hit(client, {"site": "office", "path": "/"}, sent_from("203.0.113.5"))
    assert forged["counted"] is True


async def test_the_rejected_traffic_report_shows_excluded(client: Client) -> None:
    """An excluded hit appears under excluded in /stats' refused hits and on the site page."""
    await put_site(client, "office", {"exclude_ips": ["127.0.0.0/8"]})
    await post_hit(client, {"site": "office", "path": "/"})
    stats = await ok(client, "GET", "/api/v1/sites/office/stats")
    assert stats["rejected"]["today"]["excluded"] == 1
    assert stats["views"]["today"] == 0
    await sign_in(client)
    html = await (await client.get("/admin/sites/office?lang=en")).text()
    row = '<th scope="row" data-reason="excluded">From an excluded address</th><td class="n">1</td>'
    assert row in html


async def test_exclude_ips_are_kept_normalised_and_shown(client: Client) -> None:
    """PUT normalises the entries (lower case, a one-address range as the address, IPv4 in
    IPv6 as IPv4, a netmask as a prefix, duplicates once); GET and the export show them."""
    sent = [
        " 203.0.113.9 ",
        "203.0.113.9/32",
        "10.0.0.0/255.0.0.0",
        "2001:DB8:0::/32",
        "::ffff:192.0.2.1",
        "2001:db8::1/128",
    ]
    expected = ["203.0.113.9", "10.0.0.0/8", "2001:db8::/32", "192.0.2.1", "2001:db8::1"]
    assert (await put_site(client, "office", {"exclude_ips": sent}))["exclude_ips"] == expected
    assert (await ok(client, "GET", "/api/v1/sites/office"))["exclude_ips"] == expected
    export = await ok(client, "GET", "/api/v1/sites/office/export")
    assert export["site"]["exclude_ips"] == expected
    assert (await put_site(client, "office", {"exclude_ips": []}))["exclude_ips"] == []
    assert (await put_site(client, "other", {}))["exclude_ips"] == []


BAD = [
    pytest.param("203.0.113.9", "must be a list of strings", id="not-a-list"),
    pytest.param([203], "must be a list of strings", id="not-strings"),
    pytest.param(["example.vn"], "not an IP address or CIDR range", id="hostname"),
    pytest.param(["203.0.113.0/33"], "not an IP address or CIDR range", id="prefix-too-long"),
    pytest.param(["203.0.113.009"], "not an IP address or CIDR range", id="leading-zero"),
    pytest.param(["fe80::1%eth0"], "not an IP address or CIDR range", id="zone-id"),
    pytest.param([""], "not an IP address or CIDR range", id="empty"),
    pytest.param(["1" * 65], "not an IP address or CIDR range", id="too-long"),
    pytest.param(["203.0.113.9/24"], "the range is '203.0.113.0/24'", id="host-bits"),
    pytest.param(["2001:db8::1/32"], "the range is '2001:db8::/32'", id="host-bits-ipv6"),
    pytest.param(
        [f"10.0.{n // 256}.{n % 256}" for n in range(MAX_EXCLUDE_IPS + 1)],
        f"more than {MAX_EXCLUDE_IPS} entries",
        id="too-many",
    ),
]


@pytest.mark.parametrize(("value", "words"), BAD)
async def test_bad_exclude_ips_are_refused_and_change_nothing(
    client: Client, redis: Redis, prefix: str, value: object, words: str
) -> None:
    """A bad exclude_ips is 400 invalid_setting naming the entry's fault; nothing changes."""
    await put_site(client, "office", {"exclude_ips": ["192.0.2.1"]})
    before = await dump(redis, prefix)
    response = await client.put(
        "/api/v1/sites/office", json={"name": "x", "exclude_ips": value}, headers=admin()
    )
    assert await error_code(response, 400) == "invalid_setting"
    message = (await response.json())["error"]["message"]
    assert message.startswith("exclude_ips: ") and words in message
    assert await dump(redis, prefix) == before


async def test_as_many_entries_as_allowed_are_taken(client: Client) -> None:
    """MAX_EXCLUDE_IPS entries are accepted, and each of them excludes."""
    entries = [f"10.0.{n // 256}.{n % 256}" for n in range(MAX_EXCLUDE_IPS - 1)] + ["127.0.0.1"]
    settings: Json = await put_site(client, "office", {"exclude_ips": entries})
    assert len(settings["exclude_ips"]) == MAX_EXCLUDE_IPS
    reply = await post_hit(client, {"site": "office", "path": "/"})
    assert reply["reason"] == "excluded"


ADDRESSES = [
    ("203.0.113.9", True),
    ("203.0.113.10", False),
    ("10.1.2.3", True),
    ("11.0.0.0", False),
    ("9.255.255.255", False),
    ("::ffff:10.200.0.1", True),
    ("2001:db8:5::1", True),
    ("2001:db9::1", False),
    ("::1", True),
    ("::2", False),
    ("fe80::1%eth0", False),
    ("not an address", False),
    ("", False),
]


@pytest.mark.parametrize(("address", "inside"), ADDRESSES)
def test_an_address_set_matches_addresses_in_its_networks(address: str, inside: bool) -> None:
    """AddressSet tells an address in one of its networks, IPv4 or IPv6, from one outside."""
    networks = parse_networks("203.0.113.9, 10.0.0.0/8, 2001:db8::/32, ::1")
    assert (address in AddressSet(networks)) is inside


async def test_the_site_page_gives_the_staff_opt_out_link(client: Client) -> None:
    """The dashboard's site page links to the first domain with #statsvc-ignore, and without
    domains says how to make that address."""
    await put_site(client, "office", {"domains": ["tuson.example.vn", "example.vn"]})
    await put_site(client, "bare", {})
    await sign_in(client)
    html = await (await client.get("/admin/sites/office?lang=en")).text()
    link = "https://tuson.example.vn/#statsvc-ignore"
    assert f'<a href="{link}">{link}</a>' in html
    assert "#statsvc-count undoes it" in html
    bare = await (await client.get("/admin/sites/bare")).text()
    assert "with #statsvc-ignore added to its address" in bare
    assert 'href="https://' not in bare
