"""The staff opt-out in real Chromium (DESIGN §4): a portal page opened with #statsvc-ignore
makes that browser count nothing on that portal origin, still drawing the box; #statsvc-count
undoes it; another portal origin in the same browser still counts."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.live import Live, box_text

HEARTBEATS = 3 * 61_000  # ms of page time: three heartbeats of a counting widget


def requests_to(page: Page, part: str) -> list[str]:
    """Return a list that notes, from now on, the URLs the page requests containing `part`."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url) if part in request.url else None)
    return urls


def portal_pages(live: Live) -> tuple[str, str]:
    """Publish two portal pages with the widget; return their URLs."""
    body = '<div id="stats"></div>' + live.script(site="demo", target="#stats")
    return live.add_page("news", body), live.add_page("contact", body)


def flag(page: Page) -> str | None:
    """Return the opt-out flag in the page origin's localStorage."""
    value: str | None = page.evaluate("localStorage.getItem('statsvc-ignore')")
    return value


def test_an_opted_out_browser_counts_nothing_and_still_sees_the_box(page: Page, live: Live) -> None:
    """After #statsvc-ignore the fragment leaves the address bar, the flag is stored, and on
    this and later page loads the box shows the figures (read from /api/v1/counts) while no
    hit and no heartbeat is sent; the store counts nothing; no console error."""
    live.hit({"site": "demo", "path": "/news"})
    live.hit({"site": "demo", "path": "/news"}, user_agent="a third visitor")
    news, contact = portal_pages(live)
    page.clock.install()
    hits, pings = requests_to(page, "/api/v1/hit"), requests_to(page, "/api/v1/ping")
    with page.expect_response(f"{live.service}/api/v1/counts?**"):
        page.goto(news + "#statsvc-ignore")
    assert page.url == news
    assert flag(page) == "1"
    assert box_text(page) == ["Đang online: 2", "Hôm nay: 2", "Trong tuần: 2", "Tất cả: 2"]
    for url in (contact, news):  # later page loads, without the fragment
        page.goto(url)
        assert box_text(page)[-1] == "Tất cả: 2"
    page.clock.run_for(HEARTBEATS)
    assert (hits, pings) == ([], [])
    assert live.counts()["views"]["total"] == 2
    assert live.errors == []


def test_statsvc_count_lets_the_browser_count_again(page: Page, live: Live) -> None:
    """#statsvc-count removes the flag and the fragment: that load and the next count, and
    the heartbeat runs again."""
    news, contact = portal_pages(live)
    page.clock.install()
    page.goto(news + "#statsvc-ignore")
    box_text(page)
    assert live.counts()["views"]["total"] == 0
    with page.expect_response(f"{live.service}/api/v1/hit") as answered:
        page.goto(contact + "#statsvc-count")
    assert answered.value.json()["counted"] is True
    assert page.url == contact
    assert flag(page) is None
    box_text(page)
    with page.expect_response(f"{live.service}/api/v1/hit"):
        page.goto(news)
    with page.expect_request(f"{live.service}/api/v1/ping"):
        page.clock.run_for(61_000)
    assert live.counts()["views"]["total"] == 2
    assert live.errors == []


def test_another_portal_origin_in_the_same_browser_still_counts(page: Page, live: Live) -> None:
    """The flag belongs to one portal origin: the same browser on another portal counts, and
    back on the first it still counts nothing."""
    news, _ = portal_pages(live)
    page.goto(news + "#statsvc-ignore")
    box_text(page)
    other = news.replace("//localhost:", "//127.0.0.1:")  # another origin, the same server
    with page.expect_response(f"{live.service}/api/v1/hit") as answered:
        page.goto(other)
    assert answered.value.json()["counted"] is True
    assert flag(page) is None
    hits = requests_to(page, "/api/v1/hit")
    page.goto(news)
    assert box_text(page)[-1] == "Tất cả: 1"
    assert hits == []
    assert live.counts()["views"]["total"] == 1
    assert live.errors == []
