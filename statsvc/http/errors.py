"""Errors: every error class mapped once to (status, code, message), rendered as the JSON
error shape of DESIGN §3 or, on the dashboard, as an HTML page; never a traceback."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from statsvc.core.errors import (
    BadInput,
    Conflict,
    Forbidden,
    StatsvcError,
    TooDeep,
    TooManyAttempts,
    Unauthorized,
    UnknownGroup,
    UnknownSite,
    UnknownToken,
)
from statsvc.core.text import one_line
from statsvc.http.logs import Throttle, error_text
from statsvc.service.errors import STORE_FAILURES

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS: dict[type[StatsvcError], int] = {
    BadInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    UnknownSite: 404,
    UnknownGroup: 404,
    UnknownToken: 404,
    Conflict: 409,
    TooDeep: 422,
    TooManyAttempts: 429,
}
# aiohttp's own refusals, by status
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
    """An error of HTTP itself (a body too large or late, a media type, the service not
    ready), answered with `status`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}  # sent with the error (Retry-After, say)


@dataclass(frozen=True, slots=True)
class Problem:
    """An error as it is answered."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


_STORE_FAILURES = Throttle()  # an outage fails every request
_UNEXPECTED = Throttle()  # a bug a client can set off again and again


def log_store_failure(method: str, path: str, exc: BaseException) -> None:
    """Log a failure of the store in one line, at most one line per LOG_EVERY seconds."""
    _log_throttled(
        _STORE_FAILURES, logging.WARNING, "the store failed", method, path, error_text(exc)
    )


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    """Log an error the ladder does not know (a bug) with its traceback, in one line, at
    most one line per LOG_EVERY seconds."""
    detail = one_line("".join(traceback.format_exception(exc)).rstrip())
    _log_throttled(_UNEXPECTED, logging.ERROR, "unexpected error", method, path, detail)


def _log_throttled(
    throttle: Throttle, level: int, what: str, method: str, path: str, detail: str
) -> None:
    left_out = throttle.left_out()
    if left_out is not None:
        log.log(
            level,
            "%s on %s %s: %s (and %d more since the last such line)",
            what,
            one_line(method),
            one_line(path),
            detail,
            left_out,
        )


def problem_of(request: web.Request, exc: Exception) -> Problem:
    """Return how an error is answered (an HTTP answer that is no error, a redirect, goes on
    as it is before it gets here)."""
    return problem_at(request.method, request.path, exc)


def problem_at(method: str, path: str, exc: Exception) -> Problem:
    """Return how an error of a request for `method` and `path` is answered."""
    if isinstance(exc, StatsvcError):
        headers = {}
        if isinstance(exc, TooManyAttempts):
            headers["Retry-After"] = str(exc.retry_after)
        status = next((STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS), 400)
        return Problem(status, exc.code, exc.message, headers)
    if isinstance(exc, ApiError):
        return Problem(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, web.HTTPException):
        code = _CODES.get(exc.status, "server_error" if exc.status >= 500 else "bad_request")
        kept = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        return Problem(exc.status, code, exc.reason, kept)
    if isinstance(exc, STORE_FAILURES):
        log_store_failure(method, path, exc)
        return Problem(503, "store_unavailable", "the store is unavailable")
    log_unexpected(method, path, exc)
    return Problem(500, "server_error", "internal error")


def error_body(problem: Problem) -> bytes:
    """Return the JSON error shape of DESIGN §3 for a problem."""
    return orjson.dumps({"error": {"code": problem.code, "message": problem.message}})


def error_response(status: int, code: str, message: str) -> web.Response:
    """Return a response with the JSON error shape of DESIGN §3."""
    body = error_body(Problem(status, code, message))
    return web.Response(body=body, status=status, content_type="application/json")


async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error with the JSON error shape."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(request, exc)
    except Exception as exc:
        return json_error(request, exc)


def json_error(request: web.Request, exc: Exception) -> web.Response:
    """Return the JSON error reply of an error (its headers, Retry-After say, with it)."""
    problem = problem_of(request, exc)
    response = error_response(problem.status, problem.code, problem.message)
    response.headers.update(problem.headers)
    return response
