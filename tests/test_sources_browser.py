"""Traffic sources in real Chromium: the widget sends where its reader came from, as a scheme
and host only, and the visit counts under that source."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Request

from tests.live import Live, box_text


def test_the_widget_sends_the_referrers_host_and_the_visit_counts_under_it(
    page: Page, live: Live
) -> None:
    """A reader who comes from a Google search: the hit carries https://www.google.com.vn
    (no path, no query: the search words never leave the browser), and the day's sources
    count one visit from google.com; the next page, reached by a link, is no new source."""
    bodies: list[dict[str, object]] = []

    def note(request: Request) -> None:
        if request.url.endswith("/api/v1/hit") and request.post_data:
            bodies.append(json.loads(request.post_data))

    page.on("request", note)
    script = live.script(site="demo", target="#stats")
    second = live.add_page("b", '<div id="stats"></div>' + script)
    first = live.add_page("a", f'<div id="stats"></div><a href="{second}">b</a>' + script)
    page.goto(first, referer="https://www.google.com.vn/search?q=x%C3%A3+t%C3%BA+s%C6%A1n")
    box_text(page)
    page.click("a")
    page.wait_for_url(second)
    box_text(page)
    assert [body["referrer"] for body in bodies] == ["https://www.google.com.vn", live.portal_url]
    sources = live.admin("GET", "/api/v1/sites/demo/sources?window=today", None)
    assert sources["sources"] == [{"source": "google.com", "name": "Google", "visits": 1}]
    assert live.errors == []
