"""The widget in real Chromium while the store is down: placeholders, never an error, and
the view counted once the store is back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from statsvc.http.appkeys import STATS
from statsvc.settings import Settings
from tests.live import USER_AGENT, Live
from tests.servers import Server


@pytest.fixture
def settings(settings: Settings, server: Server) -> Settings:
    """The test settings on a store of this test's own, which it stops and starts again."""
    return replace(settings, redis_url=server.url)


def test_a_hit_kept_through_an_outage_shows_placeholders_and_counts_later(
    page: Page, live: Live, server: Server
) -> None:
    """With the store down, the box is drawn with "…" in place of the numbers and no error
    reaches the console; when the store is back, the view is counted once."""
    live.hit({"site": "demo", "path": "/first"}, user_agent=USER_AGENT)  # the site is now known
    server.stop()

    url = live.add_page(
        "index", '<div id="stats"></div>' + live.script(site="demo", target="#stats")
    )
    with page.expect_response(lambda r: r.url.endswith("/api/v1/hit")) as hit:
        page.goto(url)
    assert hit.value.json()["counted"] == "queued"
    values = page.locator("#stats .statsvc-value")
    expect(values).to_have_count(4)
    expect(values.first).to_have_text("…")
    assert [values.nth(i).inner_text() for i in range(4)] == ["…"] * 4
    assert live.errors == []
    page.context.close()

    server.start()
    assert live.loop.run(live.app[STATS].drain())
    assert live.counts()["views"]["total"] == 2
