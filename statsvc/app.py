"""The application factory: wiring only."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import suppress

import aiohttp_jinja2
import jinja2
from aiohttp import web

from statsvc import i18n
from statsvc.core import referrer
from statsvc.core.config import Settings
from statsvc.core.keys import Keys
from statsvc.core.site import new_site
from statsvc.http.appkeys import ASSETS, CLOCK, GROUPS, METRICS, SETTINGS, SIGN_INS, STATS
from statsvc.http.assets import ASSET_FILES, load_asset
from statsvc.http.dashboard import proxy_warnings
from statsvc.http.language import language
from statsvc.http.middleware import edge
from statsvc.http.routes import add_routes
from statsvc.service.buffer import Buffer
from statsvc.service.counting import Clock, StatsService
from statsvc.service.group_figures import GroupFigures
from statsvc.service.journal import Journal
from statsvc.service.metrics import Metrics
from statsvc.service.signin_limit import SignInLimiter
from statsvc.store import UNREACHABLE, Limits, Store

SHUTDOWN_DRAIN_SECONDS = 3.0  # a last try to count kept hits (on disk already) at shutdown
log = logging.getLogger("statsvc")


async def _store(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.redis_url is None:
        raise RuntimeError("no store: set redis_url, or start the embedded one first")
    limits = Limits(
        settings.retention_days,
        settings.page_cap,
        settings.rate_limit,
        settings.rate_limit_address,
    )
    store = Store.from_url(
        settings.redis_url, Keys(settings.key_prefix), limits, timeout=settings.store_timeout
    )
    journal = Journal(settings.data_dir / "buffer")
    stats = app[STATS] = StatsService(
        store, app[CLOCK], Buffer(settings.buffer_limit), app[METRICS], journal
    )
    if journal.take_over(stats.buffer):  # hits kept by processes gone, however they ended
        stats.start_draining()
    app[SIGN_INS] = SignInLimiter(stats)
    app[GROUPS] = GroupFigures(stats, settings.group_cache_seconds)
    try:
        with suppress(*UNREACHABLE):  # a store down at start: read by the first sign-in try
            await app[SIGN_INS].start()
        if settings.demo_site:
            demo = new_site("demo", settings.timezone, settings.locale)
            with suppress(*UNREACHABLE):  # a store down at start delays the demo site only
                await store.put_site(demo, only_new=True)
        yield
    finally:
        await stats.stop(time_left=SHUTDOWN_DRAIN_SECONDS)
        if len(stats.buffer):
            log.warning(
                "the store cannot be reached: %d hits kept in %s",
                len(stats.buffer),
                ", ".join(str(path) for path in journal.files()),
            )
        journal.close()  # the files of hits not yet counted stay for the next start
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
    app[METRICS] = Metrics(settings.metrics_dir)
    app[ASSETS] = {name: load_asset(name) for name in ASSET_FILES}
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("statsvc.widget", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    # texts in the page's language (statsvc.http.language), numbers and dates as it writes them
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    env.filters.update(
        number=i18n.number, day=i18n.day, short_day=i18n.short_day, source_label=referrer.label
    )
    env.globals["language"] = language
    env.globals["proxy_warnings"] = lambda: proxy_warnings(app)
    app.cleanup_ctx.append(_store)
    add_routes(app, settings.metrics_token)
    return app
