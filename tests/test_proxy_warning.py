"""A misconfigured reverse proxy is told, not silent: a warning in the log (once an hour),
in /readyz, and on the dashboard, saying what to set."""

from __future__ import annotations

import html
import logging
from dataclasses import replace

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.core.config import Settings
from statsvc.core.requester import parse_networks
from statsvc.service.proxies import FORWARDED_WINDOW, MANY_AGENTS, REMEMBER_SECONDS
from tests.helpers import Client, FakeClock, Json, check_reply, post_hit, put_site, sign_in

PROXY = "127.0.0.1"  # the test client's address: the proxy in front of statsvc here


def browser(n: int) -> str:
    """Return the n-th of many real-looking browser User-Agents."""
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{100 + n}.0.0.0 Safari/537.36"
    )


async def readyz(client: Client) -> Json:
    response = await client.get("/readyz")
    assert response.status == 200  # a misconfigured proxy leaves the service ready
    reply: Json = await response.json()
    check_reply("GET", "/readyz", 200, reply)  # as the OpenAPI document says
    return reply


def warnings_logged(caplog: pytest.LogCaptureFixture, words: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "statsvc" and r.levelno == logging.WARNING and words in r.getMessage()
    ]


async def test_forwarded_for_from_an_untrusted_peer_is_told_once_an_hour(
    client: Client, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Hits that come with X-Forwarded-For from a peer not in STATSVC_TRUSTED_PROXIES log
    one warning that names the setting, again only an hour later; /readyz lists
    untrusted_forwarded_for while it was seen within the hour; the admin's dashboard shows
    a banner with the line to set."""
    caplog.set_level(logging.WARNING, logger="statsvc")
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    assert (await readyz(client))["warnings"] == []
    for _ in range(2 * FORWARDED_WINDOW):
        await post_hit(client, {"site": "demo", "path": "/"}, forwarded)
    logged = warnings_logged(caplog, "X-Forwarded-For")
    assert len(logged) == 1
    assert f"STATSVC_TRUSTED_PROXIES={PROXY}" in logged[0]
    assert "198.51.100.7" not in logged[0]  # the reader's address is never logged
    assert (await readyz(client))["warnings"] == ["untrusted_forwarded_for"]
    await sign_in(client)
    page = await (await client.get("/admin")).text()
    assert 'class="warning" role="alert"' in page
    assert f"<code>STATSVC_TRUSTED_PROXIES={PROXY}</code>" in page

    clock.advance(REMEMBER_SECONDS)
    assert (await readyz(client))["warnings"] == []
    assert 'class="warning"' not in await (await client.get("/admin")).text()
    for _ in range(FORWARDED_WINDOW):
        await post_hit(client, {"site": "demo", "path": "/"}, forwarded)
    assert len(warnings_logged(caplog, "X-Forwarded-For")) == 2


async def test_a_readers_own_proxy_now_and_then_is_not_a_misconfiguration(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """A few requests with X-Forwarded-For (a reader's carrier or office proxy adds it) among
    many without: no warning."""
    caplog.set_level(logging.WARNING, logger="statsvc")
    for n in range(2 * FORWARDED_WINDOW):
        headers = {"X-Forwarded-For": "198.51.100.7"} if n % 4 == 0 else {}
        await post_hit(client, {"site": "demo", "path": "/"}, headers)
    assert warnings_logged(caplog, "X-Forwarded-For") == []
    assert (await readyz(client))["warnings"] == []


async def test_a_site_whose_readers_share_one_address_is_told(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """60 hits of one site from one address with many User-Agents (every reader reads as
    the proxy) log a warning naming the site and what to set; /readyz lists shared_address;
    the dashboard shows it."""
    caplog.set_level(logging.WARNING, logger="statsvc")
    await put_site(client, "xa", {})
    for n in range(60):
        await post_hit(client, {"site": "xa", "path": f"/{n}"}, {"User-Agent": browser(n)})
    logged = warnings_logged(caplog, "site xa")
    assert len(logged) == 1
    assert "STATSVC_TRUSTED_PROXIES" in logged[0] and PROXY in logged[0]
    # no ready-made line to trust the address: it may be an office's NAT, to exclude instead
    assert f"STATSVC_TRUSTED_PROXIES={PROXY}" not in logged[0]
    assert "excluded IP addresses" in logged[0]
    assert (await readyz(client))["warnings"] == ["shared_address"]
    await sign_in(client)
    page = await (await client.get("/admin/sites/xa?lang=en")).text()
    assert "Nearly all recent visitors of site xa share one address." in page
    assert f"STATSVC_TRUSTED_PROXIES={PROXY}" not in page
    assert "add it to the site's excluded IP addresses instead." in html.unescape(page)


async def test_a_commune_office_nat_is_not_a_proxy(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """60 hits from one address with a dozen browsers (an office's computers behind its
    NAT) are not taken for a proxy."""
    caplog.set_level(logging.WARNING, logger="statsvc")
    for n in range(60):
        agent = browser(n % (MANY_AGENTS - 8))
        await post_hit(client, {"site": "demo", "path": "/"}, {"User-Agent": agent})
    assert (await readyz(client))["warnings"] == []
    assert warnings_logged(caplog, "site demo") == []


async def test_a_trusted_proxy_with_forwarded_for_is_no_warning(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Behind a proxy in STATSVC_TRUSTED_PROXIES that sends X-Forwarded-For, many readers
    with many browsers are many addresses: nothing is logged, /readyz has no warning, the
    dashboard no banner."""
    caplog.set_level(logging.WARNING, logger="statsvc")
    trusted = replace(settings, trusted_proxies=parse_networks(PROXY))
    client = await aiohttp_client(create_app(trusted, clock=clock))
    for n in range(2 * FORWARDED_WINDOW):
        headers = {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}", "User-Agent": browser(n)}
        await post_hit(client, {"site": "demo", "path": "/"}, headers)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert (await readyz(client))["warnings"] == []
    await sign_in(client)
    assert 'class="warning"' not in await (await client.get("/admin")).text()
