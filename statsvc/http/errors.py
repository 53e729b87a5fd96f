"""JSON errors: one shape for every 4xx and 5xx, never a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from statsvc.core.pageview import BadInput
from statsvc.service.counting import UnknownSite
from statsvc.store.store import STORE_FAILURES

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds between two lines about the store's failures
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    411: "length_required",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    431: "headers_too_large",
}
_KEPT_HEADERS = ("Allow", "WWW-Authenticate")


class ApiError(Exception):
    """An error answered with `status` and the JSON error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}  # sent with the error (Retry-After, say)


class _StoreFailures:
    """Log the store's failures one line at a time, at most one line per LOG_EVERY seconds:
    an outage fails every read, and a flood of lines (or a stderr nobody drains) must not
    become the next outage."""

    def __init__(self) -> None:
        self.logged_at = -LOG_EVERY
        self.unlogged = 0

    def __call__(self, request: web.Request, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self.logged_at < LOG_EVERY:
            self.unlogged += 1
            return
        log.warning(
            "the store failed on %s %s: %s: %s (and %d more since the last such line)",
            request.method,
            request.path,
            type(exc).__name__,
            exc,
            self.unlogged,
        )
        self.logged_at, self.unlogged = now, 0


log_store_failure = _StoreFailures()


def error_response(status: int, code: str, message: str) -> web.Response:
    """Return a response with the JSON error shape of DESIGN §3."""
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return web.Response(body=body, status=status, content_type="application/json")


async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error with the JSON error shape."""
    try:
        return await handler(request)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response
    except BadInput as exc:
        return error_response(400, exc.code, str(exc))
    except UnknownSite as exc:
        return error_response(404, "unknown_site", f"no site {exc.args[0]!r}")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _CODES.get(exc.status, "server_error" if exc.status >= 500 else "bad_request")
        response = error_response(exc.status, code, exc.reason)
        for name in _KEPT_HEADERS:
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except STORE_FAILURES as exc:
        log_store_failure(request, exc)
        return error_response(503, "store_unavailable", "the store is unavailable")
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "server_error", "internal error")
