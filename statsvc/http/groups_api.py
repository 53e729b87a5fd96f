"""HTTP handlers of the groups' admin API (DESIGN §5 /api/v1/groups): the bearer token
(statsvc.http.admin_api), checked input, then the groups' services."""

from __future__ import annotations

from aiohttp import web

from statsvc.core.group import MAX_BODY, check_group_id
from statsvc.http.admin_api import bearer, json_object, number, target_request, token_routes
from statsvc.http.appkeys import GROUPS, STATS
from statsvc.http.body import json_reply, read_body
from statsvc.service import auth, groups
from statsvc.service.auth import Principal


async def group_request(request: web.Request, *, write: bool) -> tuple[Principal, str]:
    """Authorize a request on the group of its URL: 401 without a valid token, 403 for a
    token that does not reach the group, or for any change but the admin's."""
    return await target_request(request, "group", check_group_id, auth.allows_group, write=write)


async def list_groups(request: web.Request) -> web.Response:
    """List the groups the token reaches, each with its direct members."""
    principal = await bearer(request)
    found = await groups.all_groups(request.app[STATS])
    return json_reply(
        {
            "groups": [
                group.to_json()
                for group in found.values()
                if auth.allows_group(principal, group.id, write=False)
            ]
        }
    )


async def put_group(request: web.Request) -> web.Response:
    """Create a group (201) or change the fields sent (200); answer with the group."""
    principal, group_id = await group_request(request, write=True)
    changes = json_object(await read_body(request, MAX_BODY))
    group, created = await groups.save_group(request.app[STATS], group_id, changes, principal)
    request.app[GROUPS].forget()
    return json_reply(group, status=201 if created else 200)


async def get_group(request: web.Request) -> web.Response:
    """Answer with a group: its name, direct members, and distinct member sites resolved."""
    _, group_id = await group_request(request, write=False)
    stats = request.app[STATS]
    group = await groups.get_group(stats, group_id)
    member_sites, reached = await groups.member_ids(stats, group_id)
    return json_reply({**group.to_json(), "member_sites": member_sites, "reaches": reached})


async def stats(request: web.Request) -> web.Response:
    """Answer with the group's counts and how many distinct member sites it has."""
    _, group_id = await group_request(request, write=False)
    return json_reply(await request.app[GROUPS].counts(group_id))


async def sites(request: web.Request) -> web.Response:
    """Answer with the member sites ranked by views of a window, with visits and online."""
    _, group_id = await group_request(request, write=False)
    window = request.query.get("window", "today")
    return json_reply(await request.app[GROUPS].ranked(group_id, window))


async def audit(request: web.Request) -> web.Response:
    """Answer with the latest entries of the group's audit trail, newest first."""
    _, group_id = await group_request(request, write=False)
    limit = number(request, "limit", 100)
    entries = await groups.group_audit(request.app[STATS], group_id, limit)
    return json_reply({"group": group_id, "entries": entries})


async def create_token(request: web.Request) -> web.Response:
    """Make a read-only token of the group; answer with it, the one time it is shown."""
    principal, group_id = await group_request(request, write=True)
    made = await auth.create_group_token(request.app[STATS], group_id, principal)
    return json_reply(made, status=201)


list_tokens, revoke_token = token_routes(
    "group", group_request, auth.list_group_tokens, auth.revoke_group_token
)
