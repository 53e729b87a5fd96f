"""The edge: one middleware for CORS, body limits, errors and timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from aiohttp import web

from statsvc.core.group import MAX_BODY as MAX_GROUP_BODY
from statsvc.core.pageview import MAX_BODY
from statsvc.http import dashboard
from statsvc.http.admin_api import MAX_IMPORT_BODY
from statsvc.http.appkeys import METRICS
from statsvc.http.body import declared_length, too_large
from statsvc.http.dashboard_import import MAX_IMPORT_FORM
from statsvc.http.errors import ApiError, Handler, json_error, json_errors

GROUP_ROUTE = "/api/v1/groups/"  # then a group id: PUT takes a group's members
IMPORT_FORMS = ("/import", "/import/preview")  # the dashboard's (dashboard_import.py)
PUBLIC_API = ("/api/v1/hit", "/api/v1/ping", "/api/v1/counts", "/api/v1/badge.svg")
CORS_PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
# on every reply, set here once: no browser takes a reply for another type than it says
NOSNIFF = ("X-Content-Type-Options", "nosniff")
PUBLIC_REPLY = {"Access-Control-Allow-Origin": "*", NOSNIFF[0]: NOSNIFF[1]}
EDGE_FREE: set[Handler] = set()  # routes that do their edge work themselves (own_edge)


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Open the public API to every origin, without credentials, and answer its preflights;
    answer every error with the JSON error shape (on the dashboard, /admin, with an HTML page
    and its security headers); say nosniff on every reply; refuse a body declared larger than
    its route takes (413); time every request (one middleware: each costs a call a hit)."""
    if handler in EDGE_FREE:
        return await handler(request)
    started = time.perf_counter()
    status = 500
    try:
        if declared_length(request) > body_limit(request):
            handler = _too_large  # refused before a byte of it is read, whatever the route
    except ApiError as error:  # a length too long to read
        handler = partial(_refuse, error=error)
    try:
        if request.path not in PUBLIC_API:
            is_page = request.path.startswith("/admin/") or request.path == "/admin"
            response = await (dashboard.html_errors if is_page else json_errors)(request, handler)
        elif request.method == "OPTIONS":
            response = web.Response(status=204, headers=CORS_PREFLIGHT)
        else:
            response = await json_errors(request, handler)
            response.headers["Access-Control-Allow-Origin"] = "*"
        status = response.status
        response.headers[NOSNIFF[0]] = NOSNIFF[1]
        return response
    except web.HTTPException as exc:  # a redirect, which json_errors lets through
        status = exc.status
        exc.headers[NOSNIFF[0]] = NOSNIFF[1]
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else None
        request.app[METRICS].request(route, request.method, status, time.perf_counter() - started)


def body_limit(request: web.Request) -> int:
    """Return the most body bytes a request to this path may declare: a hit's on the public
    API, an import's on the import routes, a group's on a group's route, else the
    application's client_max_size."""
    if request.path in PUBLIC_API:
        return MAX_BODY
    if request.path.startswith("/api/v1/sites/") and request.path.endswith("/import"):
        return MAX_IMPORT_BODY
    if request.path.startswith(GROUP_ROUTE) and "/" not in request.path[len(GROUP_ROUTE) :]:
        return MAX_GROUP_BODY  # a group's PUT: up to MAX_MEMBERS sites and groups
    if request.path.startswith("/admin/sites/") and request.path.endswith(IMPORT_FORMS):
        return MAX_IMPORT_FORM  # the dashboard's import form, a CSV of days in it
    return request.client_max_size


async def _too_large(request: web.Request) -> web.StreamResponse:
    raise too_large(body_limit(request))


async def _refuse(request: web.Request, error: ApiError) -> web.StreamResponse:
    raise error


def own_edge(route: str) -> Callable[[Handler], Handler]:
    """Serve a public API POST route (the hit, the heartbeat) past the edge middleware, doing
    what it does for that route, specialised: a body declared larger than a hit's is 413
    before it is read, every error has the JSON error shape, the reply is open to every
    origin and says nosniff, the request is timed under `route`. The hit path's budget (issue
    13) has no room for the generic path's tests of the route, its look-up of the route's
    pattern and its second wrapper; its preflight (OPTIONS) still goes the generic way."""

    def wrap(handler: Handler) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            status = 500
            try:
                try:
                    if declared_length(request) > MAX_BODY:
                        raise too_large(MAX_BODY)
                    response = await handler(request)
                except Exception as exc:  # an HTTPException too: these routes never redirect
                    response = json_error(request, exc)
                response.headers.update(PUBLIC_REPLY)
                status = response.status
                return response
            finally:
                request.app[METRICS].request(route, "POST", status, time.perf_counter() - started)

        EDGE_FREE.add(serve)
        return serve

    return wrap
