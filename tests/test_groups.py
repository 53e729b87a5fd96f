"""Groups of sites (DESIGN §1 "group", §3 counts?group, §5 /api/v1/groups): making them,
nesting and cycles, their figures, their tokens' reach, and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.settings import Settings
from tests.helpers import (
    BROWSER,
    COUNTS,
    Client,
    FakeClock,
    admin_request,
    check_reply,
    error_code,
    ok,
    post_hit,
    province,
    put_site,
    sign_in,
)

GROUPS = "/api/v1/groups"


@pytest.fixture
def client(uncached_client: Client) -> Client:
    """The application with no group cache: every read of a group reads the store."""
    return uncached_client


async def hits(client: Client, site: str, n: int) -> None:
    """Count n views of one site, each from another reader."""
    for i in range(n):
        headers = {"User-Agent": BROWSER.replace("128.0", f"{100 + i}.0")}
        await post_hit(client, {"site": site, "path": f"/p{i % 3}"}, headers)


async def group_counts(client: Client, group: str, **query: str) -> dict[str, Any]:
    """Read a group's public counts (200)."""
    response = await client.get(COUNTS, params={"group": group, **query})
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = await response.json()
    return reply


async def test_a_site_reached_through_two_subgroups_counts_once(client: Client) -> None:
    """A province's figures sum its distinct sites: xa2, in both districts, counts once."""
    await province(client)
    await hits(client, "xa1", 2)
    await hits(client, "xa2", 3)
    await hits(client, "xa3", 5)
    await hits(client, "tinh-site", 7)
    tinh = await group_counts(client, "tinh")
    assert tinh["sites"] == 4
    assert tinh["views"]["total"] == 2 + 3 + 5 + 7
    assert tinh["visits"]["today"] <= tinh["views"]["today"]
    huyen_a = await group_counts(client, "huyen-a")
    assert (huyen_a["sites"], huyen_a["views"]["total"]) == (2, 5)
    shown = await ok(client, "GET", f"{GROUPS}/tinh")
    assert sorted(shown["member_sites"]) == ["tinh-site", "xa1", "xa2", "xa3"]
    stats = await ok(client, "GET", f"{GROUPS}/tinh/stats")
    assert stats["views"] == tinh["views"] and stats["sites"] == 4


async def test_member_sites_are_ranked_by_views_of_the_window(client: Client) -> None:
    """/sites ranks the distinct member sites by views, with their visits and online."""
    await province(client)
    await hits(client, "xa3", 4)
    await hits(client, "xa1", 2)
    ranked = await ok(client, "GET", f"{GROUPS}/tinh/sites?window=week")
    assert [row["site"] for row in ranked["sites"]] == ["xa3", "xa1", "tinh-site", "xa2"]
    assert ranked["sites"][0] | {"name": ""} == {
        "site": "xa3",
        "name": "",
        "views": 4,
        "visits": 4,
        "online": 4,
    }


async def test_a_cycle_is_refused_and_nothing_changes(client: Client) -> None:
    """A group that would contain itself, directly or through others, is 409 `cycle` naming
    the path, and the groups stay as they were."""
    await province(client)
    before = await ok(client, "GET", GROUPS)
    response = await admin_request(client, "PUT", f"{GROUPS}/huyen-a", body={"groups": ["tinh"]})
    assert await error_code(response, 409) == "cycle"
    assert "huyen-a -> tinh -> huyen-a" in (await response.json())["error"]["message"]
    response = await admin_request(client, "PUT", f"{GROUPS}/tinh", body={"groups": ["tinh"]})
    assert await error_code(response, 409) == "cycle"
    assert await ok(client, "GET", GROUPS) == before
    audit = await ok(client, "GET", f"{GROUPS}/huyen-a/audit")
    assert len(audit["entries"]) == 1 and audit["entries"][0]["action"] == "group"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sites": ["nope"]}, 404, "unknown_site"),
        ({"groups": ["nope"]}, 404, "unknown_group"),
        ({"sites": "xa1"}, 400, "invalid_group"),
        ({"sites": ["Bad Id"]}, 400, "invalid_group"),
        ({"name": 5}, 400, "invalid_group"),
        ({"colour": "red"}, 400, "invalid_group"),
        ([1, 2], 400, "invalid_json"),
    ],
)
async def test_bad_group_input_is_a_clear_4xx_and_changes_nothing(
    client: Client, body: Any, status: int, code: str
) -> None:
    """Unknown members and malformed bodies are refused with their code; no group is made."""
    await put_site(client, "xa1", {})
    response = await admin_request(client, "PUT", f"{GROUPS}/g", body=body)
    assert await error_code(response, status) == code
    assert (await ok(client, "GET", GROUPS))["groups"] == []


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        (f"{COUNTS}?group=nope", 404, "unknown_group"),
        (f"{COUNTS}?group=Bad!", 400, "invalid_group"),
        (f"{GROUPS}/Bad!/stats", 400, "invalid_group"),
        (f"{GROUPS}/nope/stats", 404, "unknown_group"),
        (f"{GROUPS}/huyen-a/sites?window=decade", 400, "invalid_window"),
        ("/api/v1/badge.svg?group=nope", 404, "unknown_group"),
    ],
)
async def test_bad_group_reads_are_clear_4xx(
    client: Client, url: str, status: int, code: str
) -> None:
    """Reading an unknown group or with a bad parameter answers a 4xx JSON error."""
    await province(client)
    response = await admin_request(client, "GET", url)
    assert await error_code(response, status) == code


async def test_the_box_of_a_member_counts_for_its_site_and_shows_the_group(client: Client) -> None:
    """counts?group&site: the site's just-counted view is in the group's sum; a site that is
    no member is told (`member` false)."""
    await province(client)
    await hits(client, "xa2", 2)
    await group_counts(client, "huyen-a")  # a reading kept (none here: cache 0)
    await post_hit(client, {"site": "xa1", "path": "/"})
    box = await group_counts(client, "huyen-a", site="xa1")
    assert box["member"] is True
    assert (box["views"]["today"], box["online"]) == (3, 3)
    other = await group_counts(client, "huyen-a", site="xa3")
    assert other["member"] is False


async def test_a_kept_reading_is_used_within_the_cache_time_but_not_for_the_site_itself(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """With a 2 s cache a group's figures may lag 2 s at most, except the box's own site,
    whose figures are read fresh; after 2 s the group is read again."""
    client = await aiohttp_client(create_app(settings, clock=clock))
    await province(client)
    await hits(client, "xa1", 1)
    assert (await group_counts(client, "huyen-a"))["views"]["total"] == 1
    await hits(client, "xa2", 1)
    assert (await group_counts(client, "huyen-a"))["views"]["total"] == 1  # kept
    await post_hit(client, {"site": "xa1", "path": "/x"})
    assert (await group_counts(client, "huyen-a", site="xa1"))["views"]["total"] == 2
    clock.advance(2.0)
    assert (await group_counts(client, "huyen-a"))["views"]["total"] == 3


async def test_a_group_token_reads_its_group_and_members_and_nothing_else(client: Client) -> None:
    """A group token reads the group, its nested groups and every member site, including a
    site added after the token was made; other sites and groups are 403, changes 403, no
    token 401."""
    await province(client)
    await put_site(client, "other", {})
    await ok(client, "PUT", f"{GROUPS}/elsewhere", body={"sites": ["other"]})
    made = await ok(client, "POST", f"{GROUPS}/huyen-a/tokens")
    token = made["token"]
    assert token.startswith("svg_huyen-a.")
    for url in [
        f"{GROUPS}/huyen-a",
        f"{GROUPS}/huyen-a/stats",
        f"{GROUPS}/huyen-a/sites",
        "/api/v1/sites/xa1/stats",
        "/api/v1/sites/xa2/pages",
    ]:
        assert (await admin_request(client, "GET", url, token)).status == 200, url
    for url in [
        f"{GROUPS}/tinh/stats",
        f"{GROUPS}/elsewhere",
        "/api/v1/sites/xa3/stats",
        "/api/v1/sites/other",
    ]:
        assert await error_code(await admin_request(client, "GET", url, token), 403) == "forbidden"
    listed = await ok(client, "GET", GROUPS, token)
    assert [g["id"] for g in listed["groups"]] == ["huyen-a"]
    assert (await ok(client, "GET", "/api/v1/sites", token))["sites"] == ["xa1", "xa2"]
    for method, url, body in [
        ("PUT", f"{GROUPS}/huyen-a", {"sites": ["xa1"]}),
        ("POST", f"{GROUPS}/huyen-a/tokens", None),
        ("PUT", "/api/v1/sites/xa1", {"name": "x"}),
    ]:
        response = await admin_request(client, method, url, token, body)
        assert await error_code(response, 403) == "forbidden"
    response = await admin_request(client, "GET", f"{GROUPS}/huyen-a", token=None)
    assert await error_code(response, 401) == "unauthorized"
    await ok(client, "PUT", f"{GROUPS}/huyen-a", body={"sites": ["xa1", "xa2", "xa3"]})
    assert (await admin_request(client, "GET", "/api/v1/sites/xa3/stats", token)).status == 200
    audit = await ok(client, "GET", f"{GROUPS}/huyen-a/audit")
    assert [e["action"] for e in audit["entries"]] == ["group", "token_create", "group"]


async def test_group_replies_match_the_document(client: Client) -> None:
    """Every group route's reply, and the dashboard's live group figures, fit the OpenAPI
    document."""
    await province(client)
    await hits(client, "xa1", 2)
    replies = [
        ("GET", GROUPS, GROUPS, 200, None),
        ("PUT", f"{GROUPS}/new", "/api/v1/groups/{group}", 201, {"sites": ["xa1"]}),
        ("PUT", f"{GROUPS}/new", "/api/v1/groups/{group}", 200, {"name": "Mới"}),
        ("PUT", f"{GROUPS}/new", "/api/v1/groups/{group}", 409, {"groups": ["new"]}),
        ("GET", f"{GROUPS}/tinh", "/api/v1/groups/{group}", 200, None),
        ("GET", f"{GROUPS}/tinh/stats", "/api/v1/groups/{group}/stats", 200, None),
        ("GET", f"{GROUPS}/tinh/sites", "/api/v1/groups/{group}/sites", 200, None),
        ("GET", f"{GROUPS}/tinh/audit", "/api/v1/groups/{group}/audit", 200, None),
        ("POST", f"{GROUPS}/tinh/tokens", "/api/v1/groups/{group}/tokens", 201, None),
        ("GET", f"{COUNTS}?group=tinh", COUNTS, 200, None),
        ("GET", f"{COUNTS}?group=tinh&site=xa1", COUNTS, 200, None),
        ("GET", f"{COUNTS}?group=nope", COUNTS, 404, None),
    ]
    for method, url, path, status, body in replies:
        response = await admin_request(client, method, url, body=body)
        assert response.status == status, (url, await response.text())
        check_reply(method, path, status, await response.json())
    await sign_in(client)
    response = await client.get("/admin/groups/tinh/live?window=week")
    check_reply("GET", "/admin/groups/{group}/live", 200, await response.json())
