"""HTTP handlers: parse at the edge, call the stats, answer JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from statsvc import __version__
from statsvc.core.errors import BadInput
from statsvc.core.pageview import MAX_BODY, MAX_URL, check_site_id, parse_body
from statsvc.http.appkeys import SETTINGS, STATS
from statsvc.http.errors import ApiError
from statsvc.http.requester import client_of

BODY_TYPES = ("application/json", "text/plain")
DIRECT_READ = 64 * 1024  # create_app's client_max_size: aiohttp's own read refuses more


def json_reply(data: dict[str, Any], status: int = 200) -> web.Response:
    """Answer with `data` as JSON."""
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def read_body(request: web.Request, limit: int) -> bytes:
    """Read a request body of at most `limit` bytes, or answer 413; one that does not come
    within the client timeout is 408."""
    too_large = ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # a body here already (a hit's, nearly always) needs no timer
    timeout = None if request.content.is_eof() else request.app[SETTINGS].client_timeout
    try:
        async with asyncio.timeout(timeout):
            if request.content_length is not None and limit <= DIRECT_READ:
                return await request.read()
            body = bytearray()  # in pieces: chunked (its length known only at its end) or large
            while chunk := await request.content.read(limit + 1 - len(body)):
                body += chunk
                if len(body) > limit:
                    raise too_large
    except web.RequestPayloadError:
        raise BadInput("invalid_body", "the body cannot be read as its headers say") from None
    except TimeoutError:
        raise ApiError(408, "request_timeout", "the body did not come in time") from None
    return bytes(body)


async def _page_view_body(request: web.Request) -> bytes:
    if request.content_type not in BODY_TYPES:
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json or text/plain"
        )
    return await read_body(request, MAX_BODY)


async def hit(request: web.Request) -> web.Response:
    """Count one page view and answer with the counts."""
    view = parse_body(await _page_view_body(request))
    client = client_of(request, request.app[SETTINGS].trusted_proxies)
    return json_reply((await request.app[STATS].hit(view, client)).body())


async def ping(request: web.Request) -> web.Response:
    """Keep the sender online and answer with the online figures."""
    view = parse_body(await _page_view_body(request))
    client = client_of(request, request.app[SETTINGS].trusted_proxies)
    return json_reply(await request.app[STATS].ping(view, client))


async def counts(request: web.Request) -> web.Response:
    """Answer with a site's counts (and a page's, given `path`), counting nothing."""
    site = check_site_id(request.query.get("site"))
    return json_reply(await request.app[STATS].counts(site, query_path(request)))


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
    to count when it answers."""
    stats = request.app[STATS]
    buffered = len(stats.buffer)
    if await stats.ready():
        return web.json_response({"status": "ready", "store": "up", "buffered": buffered})
    raise ApiError(
        503,
        "store_unavailable",
        f"the store does not answer; {buffered} hits are kept to count when it does",
    )
