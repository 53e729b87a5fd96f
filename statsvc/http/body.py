"""Request bodies read within their bounds, and JSON replies."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from statsvc.core.errors import BadInput
from statsvc.core.pageview import MAX_BODY
from statsvc.http.appkeys import SETTINGS
from statsvc.http.errors import ApiError

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


async def page_view_body(request: web.Request) -> bytes:
    """Read a hit's or heartbeat's body: JSON sent as application/json or text/plain."""
    if request.content_type not in BODY_TYPES:
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json or text/plain"
        )
    return await read_body(request, MAX_BODY)
