"""The application factory: wiring only."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import suppress

import aiohttp_jinja2
import jinja2
from aiohttp import web

from statsvc.core.keys import Keys
from statsvc.core.pageview import MAX_BODY
from statsvc.core.site import new_site
from statsvc.http import admin_api as admin_views
from statsvc.http import api as views
from statsvc.http import dashboard, openapi
from statsvc.http import widget as pages
from statsvc.http.appkeys import ATTEMPTS, CLOCK, COUNTER, SETTINGS
from statsvc.http.assets import ASSET_FILES, load_asset
from statsvc.http.errors import ApiError, Handler, json_errors
from statsvc.service.buffer import Buffer, claim_files
from statsvc.service.counting import Clock, Counter
from statsvc.service.metrics import METRICS, Metrics, metrics_page
from statsvc.service.signin_limit import Attempts
from statsvc.settings import Settings
from statsvc.store.store import UNREACHABLE, Limits, Store

SHUTDOWN_DRAIN_SECONDS = 3.0  # a last try to count kept hits before writing them to disk
log = logging.getLogger("statsvc")
PUBLIC_API = ("/api/v1/hit", "/api/v1/ping", "/api/v1/counts", "/api/v1/badge.svg")
CORS_PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Open the public API to every origin, without credentials, and answer its preflights;
    answer every error with the JSON error shape (on the dashboard, /admin, with an HTML page
    and its security headers); refuse a body declared larger than its route takes (413); time
    every request (one middleware: each costs a call a hit)."""
    started = time.perf_counter()
    status = 500
    if (request.content_length or 0) > body_limit(request):
        handler = _too_large  # refused before a byte of it is read, whatever the route
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
        return response
    except web.HTTPException as exc:  # a redirect, which json_errors lets through
        status = exc.status
        raise
    finally:
        request.app[METRICS].request(request, status, time.perf_counter() - started)


def body_limit(request: web.Request) -> int:
    """Return the most body bytes a request to this path may declare: a hit's on the public
    API, an import's on the import route, else the application's client_max_size."""
    if request.path in PUBLIC_API:
        return MAX_BODY
    if request.path.startswith("/api/v1/sites/") and request.path.endswith("/import"):
        return admin_views.MAX_IMPORT_BODY
    return request.client_max_size


async def _too_large(request: web.Request) -> web.StreamResponse:
    limit = body_limit(request)
    raise ApiError(413, "body_too_large", f"the body is larger than {limit} bytes")


async def _store(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.redis_url is None:
        raise RuntimeError("no store: set redis_url, or start the embedded one first")
    limits = Limits(settings.retention_days, settings.page_cap, settings.rate_limit)
    store = Store.from_url(
        settings.redis_url, Keys(settings.key_prefix), limits, timeout=settings.store_timeout
    )
    counter = app[COUNTER] = Counter(store, app[CLOCK], Buffer(settings.buffer_limit), app[METRICS])
    kept = settings.data_dir / "buffer"
    claims = claim_files(kept, counter.buffer)  # hits kept through an outage by an earlier run
    if claims:
        counter.start_draining()
    try:
        if settings.demo_site:
            demo = new_site("demo", settings.timezone, settings.locale)
            with suppress(*UNREACHABLE):  # a store down at start delays the demo site only
                await store.put_site(demo, only_new=True)
        yield
    finally:
        await counter.stop(time_left=SHUTDOWN_DRAIN_SECONDS)
        written = counter.buffer.dump(kept)
        if written:
            log.warning(
                "the store cannot be reached: %d hits kept in %s", len(counter.buffer), written
            )
        for claim in claims:  # their hits are counted, or in the file just written
            claim.release()
        await store.close()


def create_app(settings: Settings, clock: Clock = time.time) -> web.Application:
    """Build the statsvc application for `settings`, reading time from `clock`."""
    app = web.Application(
        middlewares=[edge],
        client_max_size=64 * 1024,
        # aiohttp closes a connection whose request head is not whole within this time:
        # its keep-alive timer runs from the connection's start (slowloris); the body's
        # bound is read_body's
        handler_args={"keepalive_timeout": settings.client_timeout},
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[ATTEMPTS] = Attempts(clock, settings.trusted_proxies)
    app[METRICS] = Metrics(settings.metrics_dir)
    app[pages.ASSETS] = {name: load_asset(name) for name in ASSET_FILES}
    aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("statsvc.widget", "templates"), autoescape=True
    )
    app.cleanup_ctx.append(_store)
    app.router.add_get("/", pages.landing)
    app.router.add_get("/widget.js", pages.widget)
    app.router.add_get("/widget.{version:[0-9a-f]{16}}.js", pages.widget)
    app.router.add_get("/static/{name}", pages.static)
    app.router.add_get("/api/v1/badge.svg", pages.badge, allow_head=False)  # HEAD must not count
    app.router.add_get("/healthz", views.healthz)
    app.router.add_get("/readyz", views.readyz)
    app.router.add_get("/metrics", metrics_page(settings.metrics_token))
    app.router.add_get("/api/v1/openapi.json", openapi.openapi_json)
    app.router.add_get("/admin", dashboard.sites)
    app.router.add_get("/admin/login", dashboard.signin_form)
    app.router.add_post("/admin/login", dashboard.signin)
    app.router.add_post("/admin/logout", dashboard.signout)
    app.router.add_get("/admin/sites/{site}", dashboard.site)
    app.router.add_get("/admin/sites/{site}/live", dashboard.live)
    app.router.add_get("/admin/sites/{site}/export", dashboard.export)
    app.router.add_post("/api/v1/hit", views.hit)
    app.router.add_post("/api/v1/ping", views.ping)
    app.router.add_get("/api/v1/counts", views.counts)
    app.router.add_get("/api/v1/sites", admin_views.list_sites)
    app.router.add_get("/api/v1/sites/{site}", admin_views.get_site)
    app.router.add_put("/api/v1/sites/{site}", admin_views.put_site)
    app.router.add_get("/api/v1/sites/{site}/stats", admin_views.stats)
    app.router.add_get("/api/v1/sites/{site}/pages", admin_views.pages)
    app.router.add_get("/api/v1/sites/{site}/series", admin_views.series)
    app.router.add_get("/api/v1/sites/{site}/audit", admin_views.audit)
    app.router.add_get("/api/v1/sites/{site}/export", admin_views.export)
    app.router.add_post("/api/v1/sites/{site}/import", admin_views.import_counts)
    app.router.add_post("/api/v1/sites/{site}/tokens", admin_views.create_token)
    app.router.add_get("/api/v1/sites/{site}/tokens", admin_views.list_tokens)
    app.router.add_delete("/api/v1/sites/{site}/tokens/{token_id}", admin_views.revoke_token)
    return app
