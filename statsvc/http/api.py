"""HTTP handlers: parse at the edge, call the service, answer JSON."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statsvc import __version__
from statsvc.core.errors import BadInput
from statsvc.core.group import check_group_id
from statsvc.core.pageview import MAX_URL, check_site_id, parse_body
from statsvc.http.appkeys import GROUPS, SETTINGS, STATS
from statsvc.http.body import json_reply, page_view_body
from statsvc.http.errors import ApiError
from statsvc.http.middleware import own_edge
from statsvc.http.replies import HitReplies
from statsvc.http.requester import client_of

REPLIES = HitReplies()  # this process's encoded parts of hit replies
JSON_TYPE = {"Content-Type": "application/json"}


@own_edge("/api/v1/hit")
async def hit(request: web.Request) -> web.Response:
    """Count one page view and answer with the counts."""
    view = parse_body(await page_view_body(request))
    client = client_of(request, request.app[SETTINGS].trusted_proxies)
    result = await request.app[STATS].hit(view, client)
    return web.Response(body=REPLIES.encode(result), headers=JSON_TYPE)


@own_edge("/api/v1/ping")
async def ping(request: web.Request) -> web.Response:
    """Keep the sender online and answer with the online figures."""
    view = parse_body(await page_view_body(request))
    client = client_of(request, request.app[SETTINGS].trusted_proxies)
    return json_reply(await request.app[STATS].ping(view, client))


async def counts(request: web.Request) -> web.Response:
    """Answer with a site's counts (and a page's, given `path`), or with a group's (given
    `group`; with `site` too, whether that site is a member), counting nothing."""
    if "group" in request.query:
        return json_reply(await group_counts(request))
    site = check_site_id(request.query.get("site"))
    return json_reply(await request.app[STATS].counts(site, query_path(request)))


async def group_counts(request: web.Request) -> dict[str, Any]:
    """Return the counts of the query's `group` (and whether its `site`, if given, is a
    member: that site's own figures are then read fresh)."""
    group = check_group_id(request.query.get("group"))
    site = request.query.get("site")
    return await request.app[GROUPS].counts(group, None if site is None else check_site_id(site))


def query_path(request: web.Request) -> str | None:
    """Return the `path` query parameter, checked, or None."""
    path = request.query.get("path")
    if path is not None and (len(path) > MAX_URL or not path.startswith("/")):
        raise BadInput(
            "invalid_path", f"path must start with / and be at most {MAX_URL} characters"
        )
    return path


async def healthz(request: web.Request) -> web.Response:
    """Answer while the process is alive."""
    return web.json_response({"status": "ok", "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 while the store is reachable, 503 when not; say how many hits are kept
    to count when it answers, and the signs of a misconfigured proxy seen in the last hour
    (docs/operations.md)."""
    stats = request.app[STATS]
    buffered = len(stats.buffer)
    if await stats.ready():
        warnings = sorted(stats.proxies.warnings())  # a misconfigured proxy: still ready
        return web.json_response(
            {"status": "ready", "store": "up", "buffered": buffered, "warnings": warnings}
        )
    raise ApiError(
        503,
        "store_unavailable",
        f"the store does not answer; {buffered} hits are kept to count when it does",
    )
