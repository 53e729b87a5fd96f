"""The widget in real Chromium, embedded by a portal on another origin under a strict CSP."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, Request, expect

from tests.live import SCREENSHOTS, USER_AGENT, Live, box_text


def collect(urls: list[str], part: str) -> Callable[[Request], None]:
    """Return a request listener that notes the URLs containing `part`."""

    def note(request: Request) -> None:
        if part in request.url:
            urls.append(request.url)

    return note


def test_done_when_snippet_draws_the_box_under_a_strict_csp(page: Page, live: Live) -> None:
    """The issue's snippet on another origin shows the Vietnamese box, zero-padded, no error."""
    live.hit({"site": "demo", "path": "/old"})
    url = live.add_page(
        "index", '<div id="stats"></div>' + live.script(site="demo", target="#stats", pad="6")
    )
    page.goto(url)
    assert box_text(page) == [
        "Đang online: 000002",
        "Hôm nay: 000002",
        "Trong tuần: 000002",
        "Tất cả: 000002",
    ]
    expect(page.locator("#stats .statsvc-title")).to_have_text("Thống kê truy cập")
    assert live.errors == []
    assert live.counts()["views"]["total"] == 2


def test_box_is_an_accessible_labelled_list(page: Page, live: Live) -> None:
    """Screen readers find a list named by the box's title, with one item per row."""
    page.goto(
        live.add_page("index", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
    )
    box_text(page)
    listing = page.get_by_role("list", name="Thống kê truy cập")
    expect(listing.get_by_role("listitem")).to_have_count(4)
    expect(page.get_by_role("region")).to_have_count(0)  # no landmark added to the portal


def test_english_labels_rows_metric_and_title(page: Page, live: Live) -> None:
    """data-lang, data-rows, data-metric and data-title change the words and the figures."""
    live.hit({"site": "demo", "path": "/p"}, user_agent="ua-1")
    live.hit({"site": "demo", "path": "/p"}, user_agent="ua-1")
    script = live.script(
        site="demo",
        target="#stats",
        lang="en",
        metric="views",
        rows="page,page_online,today,yesterday,month,total",
        title="Traffic",
    )
    page.goto(live.add_page("p", '<div id="stats"></div>' + script))
    assert box_text(page) == [
        "This page: 3",
        "Reading this page now: 2",
        "Today: 3",
        "Yesterday: 0",
        "This month: 3",
        "Total: 3",
    ]
    expect(page.locator("#stats .statsvc-title")).to_have_text("Traffic")


def test_numbers_are_grouped_per_language(page: Page, live: Live) -> None:
    """Without padding, 13457 reads 13.457 in Vietnamese and 13,457 in English."""
    page.route(
        f"{live.service}/api/v1/hit",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body=json.dumps(
                {
                    "locale": "en",
                    "online": 1,
                    "views": dict.fromkeys(("today", "yesterday", "week", "month", "total"), 13457),
                    "visits": dict.fromkeys(
                        ("today", "yesterday", "week", "month", "total"), 13457
                    ),
                    "page": {"today": 1, "total": 1, "online": 1},
                }
            ),
        ),
    )
    body = (
        '<div id="vi"></div><div id="en"></div>'
        + live.script(site="big", target="#vi", lang="vi", rows="total")
        + live.script(site="big", target="#en", rows="total")
    )
    page.goto(live.add_page("n", body))
    assert box_text(page, "#vi") == ["Tất cả: 13.457"]
    assert box_text(page, "#en") == ["Total: 13,457"]


def test_site_locale_is_the_default_language(page: Page, live: Live) -> None:
    """Without data-lang the box speaks the site's locale."""
    live.put_site("english", {"locale": "en"})
    page.goto(
        live.add_page("e", '<div id="stats"></div>' + live.script(site="english", target="#stats"))
    )
    assert box_text(page)[0] == "Online now: 1"


def test_counts_in_the_store_match_page_loads(page: Page, live: Live) -> None:
    """Five loads of two pages are five views, one visit, in the store."""
    url = live.add_page(
        "news", '<div id="stats"></div>' + live.script(site="demo", target="#stats")
    )
    for n in range(5):
        page.goto(f"{url}/{n % 2}" if n else url)
        box_text(page)
    counts = live.counts(path="/news/1")
    assert counts["views"]["total"] == 5
    assert counts["visits"]["total"] == 1
    assert counts["page"]["total"] == 2
    assert live.errors == []


def test_a_walled_site_counts_its_own_pages_and_not_a_sandboxed_frame(
    page: Page, live: Live
) -> None:
    """On a site that lists its domains, Chromium's hit from the portal's own page counts (the
    widget's cross-origin fetch carries the page's Origin); the same page in a sandboxed
    frame on another page sends Origin: null and is refused as origin, though its url is the
    portal's."""
    live.put_site("walled", {"domains": ["localhost"]})
    url = live.add_page(
        "walled", '<div id="stats"></div>' + live.script(site="walled", target="#stats")
    )
    with page.expect_request(f"{live.service}/api/v1/hit") as sent:
        page.goto(url)
    assert sent.value.header_value("Origin") == live.portal_url
    box_text(page)
    assert live.counts("walled")["views"]["total"] == 1
    framing = f"{live.portal_url}/framing"  # a page without the portal's CSP, which frames
    frame = f'<!doctype html><iframe sandbox="allow-scripts" src="{url}"></iframe>'
    page.route(framing, lambda route: route.fulfill(body=frame, content_type="text/html"))
    with page.expect_response(f"{live.service}/api/v1/hit") as answered:
        page.goto(framing)
    assert answered.value.request.header_value("Origin") == "null"
    assert json.loads(answered.value.request.post_data or "")["url"] == url
    assert (answered.value.json()["counted"], answered.value.json()["reason"]) == (False, "origin")
    assert live.counts("walled")["views"]["total"] == 1
    assert live.errors == []


def test_two_boxes_on_one_page_count_one_view(page: Page, live: Live) -> None:
    """Two widgets of one site on one page draw two boxes from a single hit."""
    body = (
        '<div id="a"></div><div id="b"></div>'
        + live.script(site="demo", target="#a")
        + live.script(site="demo", target="#b", metric="views", rows="total")
    )
    with page.expect_response(f"{live.service}/api/v1/hit"):
        page.goto(live.add_page("two", body))
    assert box_text(page, "#a")[-1] == "Tất cả: 1"
    assert box_text(page, "#b") == ["Tất cả: 1"]
    assert live.counts()["views"]["total"] == 1


def test_box_without_target_is_drawn_where_the_script_stands(page: Page, live: Live) -> None:
    """Without data-target the box appears right before the script tag."""
    body = '<p id="before">before</p>' + live.script(site="demo") + '<p id="after">after</p>'
    page.goto(live.add_page("inline", body))
    expect(page.locator("#before + div .statsvc-title")).to_have_text("Thống kê truy cập")


def test_spa_navigations_count_once_each(page: Page, live: Live) -> None:
    """With data-spa, each pushState and each popstate to another path is one more view."""
    url = live.add_page(
        "app",
        '<div id="stats"></div>'
        + live.script(site="demo", target="#stats", spa="true", metric="views"),
    )
    page.goto(url)
    box_text(page)
    for path in ("/app/one", "/app/two"):
        with page.expect_response(f"{live.service}/api/v1/hit"):
            page.evaluate("p => history.pushState({}, '', p)", path)
    with page.expect_response(f"{live.service}/api/v1/hit"):
        page.evaluate("history.back()")
    expect(page.locator("#stats .statsvc-value").last).to_have_text("4")
    counts = live.counts(path="/app/one")
    assert counts["views"]["total"] == 4
    assert counts["page"]["total"] == 2


def test_without_spa_pushstate_counts_nothing(page: Page, live: Live) -> None:
    """Without data-spa, history.pushState is not a page view."""
    page.goto(
        live.add_page("plain", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
    )
    box_text(page)
    page.evaluate("history.pushState({}, '', '/plain/next')")
    assert live.counts()["views"]["total"] == 1


def test_heartbeat_keeps_the_reader_online(page: Page, live: Live) -> None:
    """A page left open keeps its reader online past the window; closed, the reader drops off."""
    url = live.add_page(
        "read",
        '<div id="stats"></div>' + live.script(site="demo", target="#stats", ping_interval="1"),
    )
    page.goto(url)
    box_text(page)
    live.clock.advance(250)
    with page.expect_response(f"{live.service}/api/v1/ping"):
        pass
    live.clock.advance(200)  # 450 s after the hit: only the heartbeat keeps the reader online
    assert live.counts()["online"] == 1
    live.hit({"site": "demo", "path": "/read"})
    with page.expect_response(f"{live.service}/api/v1/ping"):
        pass
    expect(page.locator("#stats .statsvc-value").first).to_have_text("2")
    page.close()
    live.clock.advance(301)
    assert live.counts()["online"] == 0


def test_count_false_only_reads(page: Page, live: Live) -> None:
    """data-count="false" shows the numbers and counts nothing, and sends no heartbeat."""
    live.hit({"site": "demo", "path": "/x"})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(
        live.add_page(
            "ro",
            '<div id="stats"></div>' + live.script(site="demo", target="#stats", count="false"),
        )
    )
    assert box_text(page)[-1] == "Tất cả: 1"
    assert live.counts()["views"]["total"] == 1
    assert not any("/api/v1/hit" in u or "/api/v1/ping" in u for u in requests)


def test_no_cookie_is_sent_or_set(page: Page, live: Live) -> None:
    """The widget's requests carry no cookie, and it leaves none behind."""
    page.context.add_cookies([{"name": "portal", "value": "1", "url": live.service}])
    with page.expect_request(f"{live.service}/api/v1/hit") as request:
        page.goto(
            live.add_page("c", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
        )
    assert "cookie" not in request.value.all_headers()
    box_text(page)
    assert [c["name"] for c in page.context.cookies()] == ["portal"]


NETWORK_NOISE = "Failed to load resource"  # the browser's own line for a failed request


def test_service_down_leaves_the_page_untouched(page: Page, live: Live) -> None:
    """If the API cannot be reached (also on the one retry) the box is taken away again, the
    target's own content stays, and nothing is thrown."""
    page.clock.install()
    page.route(f"{live.service}/api/v1/**", lambda route: route.abort())
    old = "<p>Tất cả: 013457</p>"
    body = f'<div id="stats">{old}</div>' + live.script(site="demo", target="#stats")
    with page.expect_event("requestfailed"):
        page.goto(live.add_page("down", body))
    expect(page.locator("#stats > div")).to_have_count(1)  # placeholders while it waits
    with page.expect_event("requestfailed"):
        page.clock.run_for(2_500)  # the retry, with the same page-view id
    expect(page.locator("#stats > div")).to_have_count(0)
    assert page.locator("#stats").inner_html() == old
    assert [e for e in live.errors if not e.startswith(NETWORK_NOISE)] == []


def test_heartbeat_stops_quietly_when_the_service_goes_away(page: Page, live: Live) -> None:
    """After one failed heartbeat the widget stops asking: no error storm on the console."""
    page.clock.install()
    page.goto(
        live.add_page("gone", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
    )
    box_text(page)
    pings: list[str] = []
    page.on("request", collect(pings, "/api/v1/ping"))
    page.route(f"{live.service}/api/v1/**", lambda route: route.abort())
    with page.expect_event("requestfailed"):
        page.clock.run_for(61_000)
    page.clock.run_for(10 * 60_000)
    assert len(pings) == 1
    assert [e for e in live.errors if not e.startswith(NETWORK_NOISE)] == []


def test_a_refused_hit_is_not_retried(page: Page, live: Live) -> None:
    """A 4xx reply (an unknown site) is final: no retry, the box is removed, nothing thrown."""
    page.clock.install()
    hits: list[str] = []
    page.on("request", collect(hits, "/api/v1/hit"))
    body = '<div id="stats"></div>' + live.script(site="nosuchsite", target="#stats")
    with page.expect_response(f"{live.service}/api/v1/hit"):
        page.goto(live.add_page("unknown", body))
    expect(page.locator("#stats > div")).to_have_count(0)
    page.clock.run_for(10_000)
    assert len(hits) == 1
    assert [e for e in live.errors if not e.startswith(NETWORK_NOISE)] == []


@pytest.mark.parametrize(
    ("markup", "target"),
    [
        ("<table><tr><td id='cell'></td></tr></table>", "#cell"),
        ("<ul><li id='item'></li></ul>", "#item"),
        ("<ul id='list'></ul>", "#list"),
        ("<a id='link' href='#'></a>", "#link"),
    ],
)
def test_box_in_any_element_counts_and_draws(
    page: Page, live: Live, markup: str, target: str
) -> None:
    """A table cell, a list item, a list or a link as the target still gets the box and the view."""
    page.goto(live.add_page("any", markup + live.script(site="demo", target=target)))
    assert box_text(page, target)[-1] == "Tất cả: 1"
    assert live.counts()["views"]["total"] == 1


def test_a_bad_selector_still_counts_and_draws_at_the_script(page: Page, live: Live) -> None:
    """A data-target that is not a valid selector draws the box where the script stands."""
    body = '<p id="before">x</p>' + live.script(site="demo", target="#1stats")
    page.goto(live.add_page("bad", body))
    assert box_text(page, "#before + div")[-1] == "Tất cả: 1"
    assert live.errors == []


def test_target_later_in_the_page_than_an_early_script(page: Page, live: Live) -> None:
    """An async script that runs before its target is parsed waits for it: the box lands in
    the target, not next to the script in <head>."""
    head = f"<!doctype html><html><head>{live.script(site='demo', target='#stats')}"
    release = live.portal.hold("slow", head, '</head><body><div id="stats"></div></body></html>')
    with page.expect_response(f"{live.service}/widget.js"):
        page.goto(f"{live.portal_url}/slow", wait_until="commit")
    page.wait_for_function("window.__statsvc !== undefined")  # it ran, with no #stats yet
    live.loop.loop.call_soon_threadsafe(release.set)
    assert box_text(page)[-1] == "Tất cả: 1"
    assert page.evaluate("document.head.querySelectorAll('div').length") == 0


def test_two_boxes_share_one_heartbeat(page: Page, live: Live) -> None:
    """Two boxes of one site send one heartbeat between them, and both show its news."""
    page.clock.install()
    body = (
        '<div id="a"></div><div id="b"></div>'
        + live.script(site="demo", target="#a", rows="online")
        + live.script(site="demo", target="#b", rows="online")
    )
    page.goto(live.add_page("beat", body))
    box_text(page, "#a")
    box_text(page, "#b")
    live.hit({"site": "demo", "path": "/other"})
    pings: list[str] = []
    page.on("request", collect(pings, "/api/v1/ping"))
    with page.expect_response(f"{live.service}/api/v1/ping"):
        page.clock.run_for(60_000)
    assert box_text(page, "#a") == box_text(page, "#b") == ["Đang online: 2"]
    assert len(pings) == 1


def test_prerendered_page_counts_only_when_shown(page: Page, live: Live) -> None:
    """While a page is prerendered nothing is counted; it counts once it is activated."""
    page.add_init_script(
        "Object.defineProperty(document, 'prerendering', {get: () => !window.__shown});"
    )
    page.goto(
        live.add_page("pre", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
    )
    assert live.counts()["views"]["total"] == 0
    with page.expect_response(f"{live.service}/api/v1/hit"):
        page.evaluate(
            "window.__shown = true; document.dispatchEvent(new Event('prerenderingchange'))"
        )
    assert live.counts()["views"]["total"] == 1


def test_portal_css_cannot_break_the_box(page: Page, live: Live) -> None:
    """The box is drawn in a shadow root: the portal's rules for li and span do not reach it."""
    live.portal.csp = live.portal.csp.replace("style-src 'self'", "style-src 'unsafe-inline'")
    hostile = "<style>li{display:none!important}span{color:rgb(0,255,0)!important}</style>"
    page.goto(
        live.add_page(
            "css", hostile + '<div id="stats"></div>' + live.script(site="demo", target="#stats")
        )
    )
    box_text(page)
    expect(page.locator("#stats li").first).to_be_visible()
    color = page.locator("#stats .statsvc-value").first.evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(0, 255, 0)"
    assert page.evaluate("document.querySelector('#stats > div').shadowRoot !== null")


def test_theme_none_is_plain_markup_for_the_portal_css(page: Page, live: Live) -> None:
    """data-theme="none" writes classed markup into the page itself, without a shadow root."""
    page.goto(
        live.add_page(
            "none",
            '<div id="stats"></div>' + live.script(site="demo", target="#stats", theme="none"),
        )
    )
    box_text(page)
    assert page.evaluate("document.querySelector('#stats > div').shadowRoot === null")
    assert (
        page.evaluate(
            "document.querySelectorAll('#stats > div > .statsvc-box li.statsvc-row').length"
        )
        == 4
    )


@pytest.mark.parametrize(
    ("theme", "lang", "background"),
    [
        ("light", "vi", "rgb(255, 255, 255)"),
        ("dark", "vi", "rgb(17, 24, 39)"),
        ("light", "en", "rgb(255, 255, 255)"),
        ("dark", "en", "rgb(17, 24, 39)"),
    ],
)
def test_themes_and_languages(
    page: Page, live: Live, theme: str, lang: str, background: str
) -> None:
    """Light and dark themes colour the box; both languages label it (pictures saved on demand)."""
    for day, readers in ((0, 40), (4, 20), (1, 5)):  # Thursday, next Monday, Tuesday
        live.clock.advance(day * 86400)
        for n in range(readers * 2):
            live.hit({"site": "demo", "path": f"/{n % 3}"}, user_agent=f"visitor {n % readers}")
    script = live.script(site="demo", target="#stats", theme=theme, lang=lang, pad="6")
    page.set_viewport_size({"width": 420, "height": 320})
    page.goto(
        live.add_page(f"{theme}-{lang}", '<div id="stats" style="padding:8px"></div>' + script)
    )
    rows = box_text(page)
    assert [row.split()[-1] for row in rows] == ["000006", "000006", "000026", "000066"]
    assert rows[0].startswith("Đang online" if lang == "vi" else "Online now")
    box = page.locator("#stats .statsvc-box")
    assert box.evaluate("e => getComputedStyle(e).backgroundColor") == background
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        box.screenshot(path=str(Path(SCREENSHOTS) / f"widget-{theme}-{lang}.png"))


def test_noscript_badge_counts_and_draws(browser: Browser, live: Live) -> None:
    """With JavaScript off, the <noscript> image draws the box and counts the view."""
    context = browser.new_context(java_script_enabled=False, user_agent=USER_AGENT)
    page = context.new_page()
    src = f"{live.service}/api/v1/badge.svg?site=demo&amp;pad=6&amp;path=/nojs"
    img = f'<noscript><img id="badge" src="{src}" alt="Thống kê truy cập"></noscript>'
    with page.expect_response(lambda r: "/api/v1/badge.svg" in r.url) as response:
        page.goto(live.add_page("nojs", img + live.script(site="demo")))
    assert response.value.headers["content-type"].startswith("image/svg+xml")
    assert page.locator("#badge").evaluate("i => i.naturalWidth") == 240
    assert live.counts(path="/nojs")["page"]["total"] == 1
    context.close()


def test_landing_page_shows_the_live_box_and_builds_snippets(page: Page, live: Live) -> None:
    """The landing page counts the demo site, and the snippet follows the builder's choices."""
    page.goto(f"{live.service}/")
    assert box_text(page, "#live-box")[-1] == "Tất cả: 1"
    assert box_text(page, "#thong-ke")[-1] == "Tất cả: 000001"
    snippet = page.locator("#snippet")
    expect(snippet).to_contain_text('data-site="demo"')
    page.select_option("select[name=lang]", "en")
    page.fill("input[name=pad]", "6")
    page.check("input[value=month]")
    expect(snippet).to_contain_text('data-lang="en"')
    expect(snippet).to_contain_text('data-pad="6"')
    expect(snippet).to_contain_text('data-rows="online,today,week,month,total"')
    expect(snippet).to_contain_text("badge.svg?site=demo&amp;lang=en")
    assert live.counts()["views"]["total"] == 1
    assert live.errors == []


def test_markup_in_the_path_and_title_stays_text(page: Page, live: Live) -> None:
    """A page whose path holds <script> and an onerror image, and a data-title of markup, get
    a box of text: no element is injected, no dialog opens, the view counts under that path."""
    dialogs: list[str] = []

    def opened(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    title = "<img src=x onerror=alert(2)>"
    body = '<div id="stats"></div>' + live.script(
        site="demo", target="#stats", title=title.replace("<", "&lt;").replace('"', "&quot;")
    )
    live.add_page("xss", body)
    page.goto(f"{live.portal_url}/xss/{urllib.parse.quote(hostile, safe='')}")
    box_text(page)
    assert title in page.evaluate("document.querySelector('#stats > div').shadowRoot.textContent")
    injected = page.evaluate(
        "(() => { const root = document.querySelector('#stats > div').shadowRoot;"
        " return document.querySelectorAll('img, script:not([src])').length"
        " + root.querySelectorAll('img, script').length; })()"
    )
    assert injected == 0
    assert dialogs == []
    assert live.counts(path=urllib.parse.quote("/xss/" + hostile))["page"]["total"] == 1
    assert live.errors == []
