"""Groups at their limits and their reads (DESIGN §1 "group", §5 /api/v1/groups): nesting
depth, the body of a large group, listing and revoking group tokens, one reading for the
live figures, and ids of no group read cheaply."""

from __future__ import annotations

from typing import Any

import pytest

from statsvc.core.group import MAX_DEPTH, Group, cycle_through, nesting_depth
from statsvc.core.site import Site
from statsvc.http.appkeys import GROUPS as GROUP_FIGURES
from statsvc.http.appkeys import STATS
from statsvc.service import groups
from statsvc.service.auth import Principal
from statsvc.settings import Settings
from statsvc.store import Store
from tests.helpers import (
    COUNTS,
    Client,
    FakeClock,
    admin_request,
    check_reply,
    error_code,
    ok,
    put_site,
    sign_in,
)

GROUPS = "/api/v1/groups"


@pytest.fixture
def client(uncached_client: Client) -> Client:
    """The application with no group cache: every read of a group reads the store."""
    return uncached_client


def chain(length: int) -> dict[str, Group]:
    """Groups g0 ⊃ g1 ⊃ … ⊃ g{length-1}, each holding the next."""
    return {
        f"g{i}": Group(f"g{i}", groups=(f"g{i + 1}",) if i + 1 < length else ())
        for i in range(length)
    }


def test_a_long_chain_is_walked_without_recursion() -> None:
    """A cycle through 5,000 nested groups is found (no RecursionError), and no cycle in a
    chain as long is reported as none; its depth is its length."""
    groups = chain(5000)
    closing = Group("g4999", groups=("g0",))
    cycle = cycle_through(groups, closing)
    assert cycle is not None and cycle[0] == cycle[-1] == "g4999" and len(cycle) == 5001
    assert cycle_through(groups, groups["g0"]) is None
    assert nesting_depth(groups, groups["g2500"]) == 5000


def test_nesting_depth_counts_the_longest_chain_through_the_group() -> None:
    """The depth through a group is its longest chain of parents plus its longest chain of
    subgroups; a diamond counts its longer side."""
    groups = {
        "top": Group("top", groups=("left", "right")),
        "left": Group("left", groups=("mid",)),
        "right": Group("right", groups=("deep",)),
        "deep": Group("deep", groups=("mid",)),
        "mid": Group("mid", groups=("leaf",)),
        "leaf": Group("leaf"),
    }
    assert nesting_depth(groups, groups["mid"]) == 5  # top, right, deep, mid, leaf
    assert nesting_depth(groups, groups["left"]) == 4
    assert nesting_depth(groups, Group("alone")) == 1


async def test_nesting_deeper_than_the_limit_is_422_and_changes_nothing(client: Client) -> None:
    """Groups nested MAX_DEPTH deep are taken; one more level, from below or above, is 422
    `too_deep` and the groups stay as they were."""
    stats = client.app[STATS]
    admin = Principal("admin", None)
    for i in reversed(range(MAX_DEPTH)):  # g0 ⊃ g1 ⊃ … ⊃ g31
        body: dict[str, Any] = {"groups": [f"g{i + 1}"] if i + 1 < MAX_DEPTH else []}
        await groups.save_group(stats, f"g{i}", body, admin)
    before = await ok(client, "GET", GROUPS)
    await ok(client, "PUT", f"{GROUPS}/below")
    await ok(client, "PUT", f"{GROUPS}/above")
    response = await admin_request(
        client, "PUT", f"{GROUPS}/g{MAX_DEPTH - 1}", body={"groups": ["below"]}
    )
    assert await error_code(response, 422) == "too_deep"
    check_reply("PUT", "/api/v1/groups/{group}", 422, await response.json())
    response = await admin_request(client, "PUT", f"{GROUPS}/above", body={"groups": ["g0"]})
    assert await error_code(response, 422) == "too_deep"
    after = await ok(client, "GET", GROUPS)
    assert [g for g in after["groups"] if g["id"] not in ("above", "below")] == before["groups"]
    assert all(not g["groups"] for g in after["groups"] if g["id"] in ("above", "below"))


async def test_a_group_of_a_thousand_sites_is_put_over_http(client: Client) -> None:
    """A PUT of a group of 1,000 sites with ids of the longest (about 66 KB) is taken: the
    group route's body cap fits MAX_MEMBERS ids, not the settings' 16 KiB."""
    stats = client.app[STATS]
    ids = [f"{i:04d}".ljust(63, "x") for i in range(1000)]
    for site_id in ids:
        await stats.store.put_site(Site(site_id))
    reply = await ok(client, "PUT", f"{GROUPS}/big", body={"name": "Lớn", "sites": ids})
    assert reply["sites"] == ids
    assert (await ok(client, "GET", f"{GROUPS}/big/stats"))["sites"] == 1000


async def test_a_group_token_is_listed_and_a_revoked_one_is_401(client: Client) -> None:
    """The admin lists a group's tokens (no secrets) and revokes one: it is 401 at once, the
    revoke is in the group's audit trail, a second revoke is 404; a group token may do
    neither."""
    await put_site(client, "xa1", {})
    await ok(client, "PUT", f"{GROUPS}/huyen", body={"sites": ["xa1"]})
    first = await ok(client, "POST", f"{GROUPS}/huyen/tokens")
    second = await ok(client, "POST", f"{GROUPS}/huyen/tokens")
    listed = await ok(client, "GET", f"{GROUPS}/huyen/tokens")
    check_reply("GET", "/api/v1/groups/{group}/tokens", 200, listed)
    assert listed["group"] == "huyen"
    assert sorted(t["token_id"] for t in listed["tokens"]) == sorted(
        [first["token_id"], second["token_id"]]
    )
    assert first["token"] not in str(listed)
    for method, url in [
        ("GET", f"{GROUPS}/huyen/tokens"),
        ("DELETE", f"{GROUPS}/huyen/tokens/{second['token_id']}"),
    ]:
        response = await admin_request(client, method, url, first["token"])
        assert await error_code(response, 403) == "forbidden"
    url = f"{GROUPS}/huyen/tokens/{first['token_id']}"
    assert (await admin_request(client, "DELETE", url)).status == 204
    response = await admin_request(client, "GET", f"{GROUPS}/huyen", first["token"])
    assert await error_code(response, 401) == "unauthorized"
    assert (await admin_request(client, "GET", f"{GROUPS}/huyen", second["token"])).status == 200
    assert await error_code(await admin_request(client, "DELETE", url), 404) == "unknown_token"
    response = await admin_request(client, "DELETE", f"{GROUPS}/huyen/tokens/not-an-id")
    assert await error_code(response, 404) == "unknown_token"
    response = await admin_request(client, "GET", f"{GROUPS}/nope/tokens")
    assert await error_code(response, 404) == "unknown_group"
    listed = await ok(client, "GET", f"{GROUPS}/huyen/tokens")
    assert [t["token_id"] for t in listed["tokens"]] == [second["token_id"]]
    audit = await ok(client, "GET", f"{GROUPS}/huyen/audit")
    assert audit["entries"][0]["action"] == "token_revoke"
    assert audit["entries"][0]["detail"]["token_id"] == first["token_id"]


async def test_the_live_figures_are_one_reading(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group page's live figures (header and ranking) come of one reading of the
    members' figures, so a refresh cannot fall between them."""
    await put_site(client, "xa1", {})
    await ok(client, "PUT", f"{GROUPS}/huyen", body={"sites": ["xa1"]})
    store = client.app[STATS].store
    reads = 0
    many_figures = store.many_figures

    async def counted(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        return await many_figures(*args)

    monkeypatch.setattr(store, "many_figures", counted)
    await sign_in(client)
    response = await client.get("/admin/groups/huyen/live?window=week")
    assert response.status == 200
    assert reads == 1


async def test_an_id_of_no_group_costs_no_read_of_the_groups(
    client: Client,
    store: Store,
    settings: Settings,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Public counts of ids of no group are 404, reading the groups' records once while they
    are unchanged; a group made meanwhile (by another process) is found within the cache
    time."""
    figures = client.app[GROUP_FIGURES]
    await put_site(client, "xa1", {})
    await ok(client, "PUT", f"{GROUPS}/huyen", body={"sites": ["xa1"]})
    own = client.app[STATS].store
    full_reads = 0
    groups_state = own.groups_state

    async def counted() -> Any:
        nonlocal full_reads
        full_reads += 1
        return await groups_state()

    monkeypatch.setattr(own, "groups_state", counted)
    for i in range(20):
        response = await client.get(COUNTS, params={"group": f"random-{i}"})
        assert await error_code(response, 404) == "unknown_group"
    assert full_reads == 1
    version, _ = await store.groups_state()  # another process makes a group: not told
    record = Group("later", sites=("xa1",)).to_json()
    assert await store.put_group("later", record, version, {"action": "group"})
    clock.advance(settings.group_cache_seconds)
    response = await client.get(COUNTS, params={"group": "later"})
    assert response.status == 200, await response.text()
    assert (await response.json())["sites"] == 1
    assert figures is client.app[GROUP_FIGURES]
