"""Real servers on loopback for browser tests: statsvc and a portal on another origin, and
the Chromium that the browser tests drive."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from playwright.sync_api import Browser, BrowserContext, Page, expect

from statsvc.app import create_app
from statsvc.settings import Settings
from tests.helpers import ADMIN_TOKEN, BROWSER, FakeClock, Json, call

T = TypeVar("T")

CHROMIUM = os.environ.get("STATSVC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# headless Chromium names itself "HeadlessChrome", a robot statsvc does not count: the
# tests' browser says what a desktop Chrome says
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SCREENSHOTS = os.environ.get("STATSVC_SCREENSHOTS")  # a directory to save pictures in


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopThread:
    """An asyncio loop in a thread of its own, serving aiohttp apps while a sync test runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runners: list[web.AppRunner] = []

    def run(self, coro: Awaitable[T]) -> T:
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(_wrap(coro), self.loop).result(timeout=30)

    def serve(self, app: web.Application, port: int, host: str = "127.0.0.1") -> None:
        """Serve `app` on host:port until close()."""

        async def start() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            self._runners.append(runner)

        self.run(start())

    def stop_serving(self, app: web.Application) -> None:
        """Stop serving one app (its port then refuses connections)."""
        for runner in [r for r in self._runners if r.app is app]:
            self.run(runner.cleanup())
            self._runners.remove(runner)

    def close(self) -> None:
        """Stop every app and the loop."""
        for runner in list(self._runners):
            self.run(runner.cleanup())
        self._runners.clear()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _wrap(coro: Awaitable[T]) -> T:
    return await coro


class Portal:
    """A portal on another origin: serves pages the test writes, under a strict CSP."""

    def __init__(self, service: str) -> None:
        self.pages: dict[str, str] = {}
        self.held: dict[str, tuple[str, str, asyncio.Event]] = {}
        self.csp = (
            f"default-src 'none'; script-src {service}; connect-src {service}; "
            f"img-src {service} data:; style-src 'self'; base-uri 'none'"
        )
        self.app = web.Application()
        self.app.router.add_get("/{name:.*}", self._page)

    def hold(self, name: str, head: str, tail: str) -> asyncio.Event:
        """Publish a page sent in two parts: the tail only once the returned event is set."""
        release = asyncio.Event()
        self.held[name] = (head, tail, release)
        return release

    async def _page(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"].split("/")[0] or "index"
        headers = {"Content-Security-Policy": self.csp, "Content-Type": "text/html"}
        if name in self.held:
            head, tail, release = self.held[name]
            response = web.StreamResponse(headers=headers)
            await response.prepare(request)
            await response.write(head.encode())
            await release.wait()
            await response.write(tail.encode())
            await response.write_eof()
            return response
        if name not in self.pages:
            raise web.HTTPNotFound()
        return web.Response(text=self.pages[name], headers=headers)


def page_html(body: str, title: str = "Cổng thông tin xã Tú Sơn") -> str:
    """Return a portal page with `body` in it."""
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="data:,"></head><body><h1>{title}</h1>{body}</body></html>'
    )


@dataclass
class Live:
    """statsvc and a portal, served on loopback from a background loop."""

    loop: LoopThread
    app: web.Application
    service: str
    portal: Portal
    portal_url: str
    clock: FakeClock
    errors: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Settings, clock: FakeClock) -> Live:
        """Serve statsvc (with `settings` and the test clock) and a portal on another origin."""
        loop = LoopThread()
        service = f"http://127.0.0.1:{free_port()}"
        app = create_app(settings, clock=clock)
        loop.serve(app, int(service.rsplit(":", 1)[1]))
        portal = Portal(service)
        portal_port = free_port()
        loop.serve(portal.app, portal_port)
        return cls(loop, app, service, portal, f"http://localhost:{portal_port}", clock)

    def counts(self, site: str = "demo", path: str | None = None) -> Json:
        """Read the counts over HTTP, counting nothing."""
        query = f"site={site}" + (f"&path={path}" if path else "")
        return self._ok("GET", f"/api/v1/counts?{query}")

    def hit(self, body: Json, user_agent: str = "another visitor") -> Json:
        """Count a view from outside the browser."""
        return self._ok("POST", "/api/v1/hit", body, user_agent=user_agent)

    def put_site(self, site: str, settings: Json) -> None:
        """Create or change a site through the admin API."""
        self.admin("PUT", f"/api/v1/sites/{site}", settings)

    def admin(self, method: str, path: str, body: Any) -> Json:
        """Send an admin request; return its JSON reply."""
        return self._ok(method, path, body, token=ADMIN_TOKEN)

    def _ok(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        user_agent: str = BROWSER,
    ) -> Json:
        status, reply = call(self.service, method, path, body, token, user_agent)
        assert status in (200, 201), (method, path, status, reply)
        return reply

    def script(self, **options: str) -> str:
        """Return the embed tag with these data- options."""
        attrs = " ".join(f'data-{k.replace("_", "-")}="{v}"' for k, v in options.items())
        return f'<script src="{self.service}/widget.js" {attrs} async></script>'

    def add_page(self, name: str, body: str) -> str:
        """Publish a portal page and return its URL."""
        self.portal.pages[name] = page_html(body)
        return f"{self.portal_url}/{name}"


def box_text(page: Page, target: str = "#stats") -> list[str]:
    """Return the box's rows as 'label value' once the numbers have arrived."""
    values = page.locator(f"{target} .statsvc-value")
    expect(values.first).not_to_have_text("…")
    labels = page.locator(f"{target} .statsvc-label")
    return [
        f"{labels.nth(i).inner_text()} {values.nth(i).inner_text()}" for i in range(values.count())
    ]


PHONES = (360, 400)  # a small phone's width and a larger one's, in CSS pixels
SCREENS = (800, 1200, 1600)  # a tablet's, a laptop's and a wide screen's
# the boxes whose content runs past their width, by their heading: the cards, and the period
# report (no card) with its blocks; on a phone (the argument), not a table in a box that
# scrolls it (overflow-x: auto, as the cards and the report's blocks)
OVERFLOWING = """(phone) => [...document.querySelectorAll(
        '.card, .report, .report section, .report-columns, .report-forms')]
    .filter(box => box.scrollWidth > box.clientWidth)
    .filter(box => !(phone && getComputedStyle(box).overflowX === 'auto'
        && box.querySelector('table')))
    .map(box => (box.querySelector('h1, h2, legend') ?? box).textContent.trim())"""


def overflows(page: Page, screens: tuple[int, ...] = SCREENS) -> list[tuple[int, str]]:
    """Return what runs past its box on the page, by width: at a phone's 360 and 400 px a page
    wider than the screen, or a box wider than its width other than a table that scrolls in
    its box; at the `screens` widths (a tablet's 800 px to a wide screen's 1,600 px), any
    card, the period report or a block of it."""
    found: list[tuple[int, str]] = []
    for width in (*PHONES, *screens):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide != width:
            found.append((width, f"the page is {wide} px wide"))
        found += [(width, box) for box in page.evaluate(OVERFLOWING, width in PHONES)]
    return found


def signed_in(browser: Browser, live: Live, locale: str) -> tuple[BrowserContext, Page]:
    """Return a new browser context in `locale` and its tab, signed in to the dashboard with
    the admin token (the caller closes the context)."""
    context = browser.new_context(locale=locale, user_agent=USER_AGENT)
    tab = context.new_page()
    tab.goto(live.service + "/admin/login")
    tab.locator("#token").fill(ADMIN_TOKEN)
    tab.locator("#token").press("Enter")
    expect(tab).to_have_url(live.service + "/admin")
    return context, tab
