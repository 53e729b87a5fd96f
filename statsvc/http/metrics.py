"""The /metrics page (Prometheus text), open or behind its own bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from statsvc.http.appkeys import METRICS


def bearer_is(request: web.Request, token: str) -> bool:
    """Tell whether the request bears `token` as its bearer token (compared in constant time)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # header bytes that are not UTF-8 arrive as surrogate escapes: compare the bytes sent
    presented = given.strip().encode("utf-8", "surrogateescape")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented, token.encode())


def metrics_page(token: str | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Return the /metrics handler: open, or only for `token` as a bearer token when set."""

    async def page(request: web.Request) -> web.Response:
        if token is not None and not bearer_is(request, token):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        body = request.app[METRICS].text()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return page
