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
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    direct = length is not None and limit <= DIRECT_READ
    try:
        if direct and request.content.is_eof():
            # here whole already (a hit's, nearly always): no timer, nothing made per call
            return await request.read()
        async with asyncio.timeout(request.app[SETTINGS].client_timeout):
            if direct:
                return await request.read()
            body = bytearray()  # in pieces: chunked (its length known only at its end) or large
            while chunk := await request.content.read(limit + 1 - len(body)):
                body += chunk
                if len(body) > limit:
                    raise too_large(limit)
    except web.RequestPayloadError:
        raise BadInput("invalid_body", "the body cannot be read as its headers say") from None
    except TimeoutError:
        raise ApiError(408, "request_timeout", "the body did not come in time") from None
    return bytes(body)


def declared_length(request: web.Request) -> int:
    """Return the body length a request declares (0 when it does not say), or answer 400
    when its Content-Length is too long to read: Python's int() refuses over 4,300 digits,
    and zeros before a small number still make a valid length to aiohttp's parser."""
    try:
        return request.content_length or 0
    except ValueError:
        raise ApiError(400, "bad_request", "the Content-Length cannot be read") from None


def too_large(limit: int) -> ApiError:
    """Return the error of a body larger than `limit` bytes."""
    return ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")


def is_page_view_type(content_type: str) -> bool:
    """Tell whether a Content-Type is a hit's or heartbeat's: application/json or text/plain,
    whatever its parameters (charset=UTF-8), read without aiohttp's parse of them."""
    return content_type.partition(";")[0].strip().lower() in BODY_TYPES


async def page_view_body(request: web.Request) -> bytes:
    """Read a hit's or heartbeat's body: JSON sent as application/json or text/plain."""
    if not is_page_view_type(request.headers.get("Content-Type", "")):
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json or text/plain"
        )
    return await read_body(request, MAX_BODY)
