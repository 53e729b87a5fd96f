"""The widget in real Chromium while the store is down: placeholders, never an error, and
the view counted once the store is back."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import replace

from playwright.sync_api import Browser, ConsoleMessage, expect

from statsvc.app import create_app
from statsvc.http.appkeys import STATS
from statsvc.settings import Settings
from tests.conftest import FakeClock
from tests.live import LoopThread, Portal, free_port, page_html
from tests.servers import Server
from tests.test_widget_browser import browser  # noqa: F401  (the module's Chromium fixture)

BROWSER_AGENT = (  # a reader's browser (headless Chromium names itself HeadlessChrome)
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def test_a_hit_kept_through_an_outage_shows_placeholders_and_counts_later(
    browser: Browser,  # noqa: F811
    server: Server,
    settings: Settings,
    clock: FakeClock,
) -> None:
    """With the store down, the box is drawn with "…" in place of the numbers and no error
    reaches the console; when the store is back, the view is counted once."""
    loop = LoopThread()
    try:
        service = f"http://127.0.0.1:{free_port()}"
        app = create_app(replace(settings, redis_url=server.url), clock=clock)
        loop.serve(app, int(service.rsplit(":", 1)[1]))
        portal = Portal(service)
        portal_port = free_port()
        loop.serve(portal.app, portal_port)
        request = urllib.request.Request(
            f"{service}/api/v1/hit",
            data=json.dumps({"site": "demo", "path": "/first"}).encode(),
            headers={"Content-Type": "text/plain", "User-Agent": BROWSER_AGENT},
        )
        urllib.request.urlopen(request, timeout=10).close()  # the service now knows the site
        server.stop()

        portal.pages["index"] = page_html(
            '<div id="stats"></div>'
            f'<script src="{service}/widget.js" data-site="demo" data-target="#stats" async>'
            "</script>"
        )
        context = browser.new_context(locale="vi-VN", user_agent=BROWSER_AGENT)
        errors: list[str] = []
        tab = context.new_page()

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        tab.on("console", console)
        with tab.expect_response(lambda r: r.url.endswith("/api/v1/hit")) as hit:
            tab.goto(f"http://localhost:{portal_port}/index")
        assert hit.value.json()["counted"] == "queued"
        values = tab.locator("#stats .statsvc-value")
        expect(values).to_have_count(4)
        expect(values.first).to_have_text("…")
        assert [values.nth(i).inner_text() for i in range(4)] == ["…"] * 4
        assert errors == []
        context.close()

        server.start()
        counter = app[STATS]
        assert loop.run(counter.drain())
        reply = urllib.request.urlopen(f"{service}/api/v1/counts?site=demo", timeout=10)
        assert json.loads(reply.read())["views"]["total"] == 2
    finally:
        loop.close()
