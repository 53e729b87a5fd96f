"""Accessibility in real Chromium: axe-core finds no serious or critical violation on the
landing page, the widget's box on a portal, the sign-in page and the dashboard, in each
language; and the dashboard is used with the keyboard alone, its focus always visible.

A page is one line of PAGES (with what to wait for before the check), and one of KEYBOARD for
the walk with Tab; each is checked in each of LANGUAGES, asked for with ?lang= and the
browser's Accept-Language. The axe reports are written by tests.axe (see its docstring for
where); the walk with Tab is tests.keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import axe
from tests.helpers import ADMIN_TOKEN, FakeClock
from tests.keyboard import in_page_order, tab_through, tab_to
from tests.live import Live, box_text

TODAY = date(2026, 11, 26)  # the test clock's day
LANGUAGES = ["vi", "en"]
# whether the pages speak the language asked for (issue 14, item 1); until then they are in
# English whatever is asked, and each page's <html lang> must say so
SWITCHES_LANGUAGE = True
# name, path, signed in as admin, a selector to wait for before the check
PAGES = [
    ("landing", "/", False, "#live-box .statsvc-value"),
    ("signin", "/admin/login", False, "#token"),
    ("signin-problem", "/admin/login", False, "#token"),  # after a wrong token: the alert
    ("sites", "/admin", True, "table.sites"),
    ("site", "/admin/sites/tuson", True, ".chart"),
    ("site-week", "/admin/sites/tuson?window=week", True, ".chart"),
    ("error", "/admin/sites/nosuchsite", True, "h1"),
    ("new-site", "/admin/new-site", True, "#f-timezone"),
    ("settings", "/admin/sites/tuson/settings", True, "#f-timezone"),
    ("tokens", "/admin/sites/tuson/tokens", True, "h1"),
    ("import", "/admin/sites/tuson/import", True, "h1"),
    ("report", "/admin/sites/tuson/report?period=2026-11-01_2026-11-26", True, ".chart"),
    ("report-error", "/admin/sites/tuson/report?from=2024-01-01&to=2024-01-31", True, "h1"),
    ("group", "/admin/groups/son-dong", True, "table.ranking"),
    ("group-report", "/admin/groups/son-dong/report?period=2026-11-01_2026-11-26", True, ".chart"),
]
# name, path, signed in as admin: every control reached by Tab, in order, its focus ring seen
KEYBOARD = [
    ("landing", "/", False),
    ("signin", "/admin/login", False),
    ("sites", "/admin", True),
    ("site", "/admin/sites/tuson", True),
    ("settings", "/admin/sites/tuson/settings", True),
    ("import", "/admin/sites/tuson/import", True),
    ("report", "/admin/sites/tuson/report?from=2026-11-20&to=2026-11-26", True),
]


@pytest.fixture
def tuson(live: Live, clock: FakeClock) -> Live:
    """statsvc with a site `tuson` that has a history, today's views and a change in its audit
    trail, so that every part of its dashboard page is drawn; and the district son-dong that
    holds it and another commune."""
    live.put_site("tuson", {"name": "Xã Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    live.put_site("tan-lap", {"name": "Xã Tân Lập", "timezone": "Asia/Ho_Chi_Minh"})
    live.admin(
        "PUT", "/api/v1/groups/son-dong", {"name": "Huyện Sơn Động", "sites": ["tuson", "tan-lap"]}
    )
    days = [
        {"date": (TODAY - timedelta(days=n)).isoformat(), "views": 200 + n, "visits": 90 + n}
        for n in range(2, 30)
    ]
    live.admin(
        "POST",
        "/api/v1/sites/tuson/import",
        {"import_id": "old-counter", "total": {"views": 13457, "visits": 5012}, "days": days},
    )
    for path, readers in (("/", "abc"), ("/tin-tuc/le-hoi-lang", "ab"), ("/lien-he", "a")):
        for reader in readers:
            live.hit({"site": "tuson", "path": path}, user_agent=reader)
    return live


def in_language(url: str, language: str) -> str:
    """Return the page's URL asking for `language` (the dashboard's ?lang= switch)."""
    return f"{url}{'&' if '?' in url else '?'}lang={language}"


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    """Each language: also the browser's (its Accept-Language)."""
    return str(request.param)


@pytest.fixture
def errors() -> list[str]:
    """The console errors of the page (a script or style the page's CSP refused among them)."""
    return []


@pytest.fixture
def tab(browser: Browser, language: str, errors: list[str]) -> Iterator[Page]:
    """A fresh page in a context for axe (see tests.axe.fresh_context) speaking `language`."""
    context = axe.fresh_context(browser, locale={"vi": "vi-VN", "en": "en-US"}[language])
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    yield page
    context.close()


def sign_in(page: Page, live: Live, token: str = ADMIN_TOKEN) -> None:
    """Sign in through the form."""
    page.goto(live.service + "/admin/login")
    page.locator("#token").fill(token)
    page.locator("#token").press("Enter")


@pytest.mark.parametrize(
    ("name", "path", "signed_in", "ready"), PAGES, ids=[page[0] for page in PAGES]
)
def test_page_has_no_serious_violation(
    tuson: Live,
    tab: Page,
    errors: list[str],
    language: str,
    name: str,
    path: str,
    signed_in: bool,
    ready: str,
) -> None:
    """axe-core finds nothing serious or critical on the page, in the language, which its
    <html lang> names; under the page's own CSP, with no console error."""
    if signed_in:
        sign_in(tab, tuson)
        expect(tab).to_have_url(tuson.service + "/admin")
    elif name == "signin-problem":
        sign_in(tab, tuson, "not-the-token")
        expect(tab.get_by_role("alert")).to_be_visible()
    if name != "signin-problem":
        tab.goto(in_language(tuson.service + path, language))
    tab.locator(ready).first.wait_for()
    if name == "landing":  # both boxes drawn, their numbers in
        box_text(tab, "#live-box")
        box_text(tab, "#thong-ke")
    expect(tab.locator("html")).to_have_attribute("lang", language if SWITCHES_LANGUAGE else "en")
    axe.check(tab, f"{name}-{language}")
    if name not in (
        "signin-problem",
        "error",
        "report-error",
    ):  # (whose 401 and 404 Chromium logs as errors)
        assert errors == []


# data-theme, data-lang (None: the site's locale, which is the language), data-rows
BOXES = [
    ("light", None, "online,today,week,total"),
    ("light", "own", "online,page_online,today,yesterday,week,month,total,page"),
    ("dark", "own", "online,today,week,total"),
]


@pytest.mark.parametrize(("theme", "lang", "rows"), BOXES, ids=[f"{b[0]}-{b[1]}" for b in BOXES])
def test_widget_box_on_a_portal_has_no_serious_violation(
    live: Live, tab: Page, errors: list[str], language: str, theme: str, lang: str | None, rows: str
) -> None:
    """The box on a portal of another origin (its strict CSP) has no serious or critical
    violation, in its shadow root too, whether its language is set by data-lang or by the
    site's locale."""
    live.put_site("portal", {"locale": language})
    options: dict[str, Any] = {"site": "portal", "target": "#stats", "rows": rows}
    if theme != "light":
        options["theme"] = theme
    if lang:
        options["lang"] = language
    tab.goto(live.add_page("p", '<div id="stats"></div>' + live.script(**options)))
    text = box_text(tab)
    assert text[0].startswith({"vi": "Đang online", "en": "Online now"}[language])
    axe.check(tab, f"widget-{theme}-{'data-lang' if lang else 'locale'}-{language}", "#stats")
    assert errors == []


@pytest.mark.parametrize("via", ["data-lang", "locale"])
def test_widget_box_names_its_language(live: Live, tab: Page, language: str, via: str) -> None:
    """The box says which language it speaks (lang=), so that a screen reader reads an English
    box on a Vietnamese portal page, or the other way round, with the right voice."""
    live.put_site("portal", {"locale": language})
    options = {"site": "portal", "target": "#stats"}
    if via == "data-lang":
        live.put_site("portal", {"locale": "en" if language == "vi" else "vi"})
        options["lang"] = language
    tab.goto(live.add_page("p", '<div id="stats"></div>' + live.script(**options)))
    box_text(tab)
    expect(tab.locator("#stats .statsvc-box")).to_have_attribute("lang", language)


def test_axe_sees_into_the_widget_shadow_root(live: Live, tab: Page) -> None:
    """The check is not blind to the box: pale figures on white, set by the portal through the
    box's custom properties, are a serious contrast violation inside its shadow root."""
    tab.goto(
        live.add_page("p", '<div id="stats"></div>' + live.script(site="demo", target="#stats"))
    )
    box_text(tab)
    tab.evaluate("document.getElementById('stats').style.setProperty('--statsvc-fg', '#c8c8c8')")
    with pytest.raises(AssertionError, match=r"color-contrast \(serious\)") as failed:
        axe.check(tab, "pale-widget", "#stats", save=False)
    assert ".statsvc-label" in str(failed.value)  # the nodes are named


def test_wrong_token_is_said_next_to_the_field(tuson: Live, tab: Page) -> None:
    """After a wrong token the field is marked invalid and described by the message, which a
    screen reader then reads with the field."""
    sign_in(tab, tuson, "not-the-token")
    field = tab.locator("#token")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(tab.get_by_role("alert").inner_text())
    expect(field).to_be_focused()


@pytest.mark.parametrize(("name", "path", "signed_in"), KEYBOARD, ids=[k[0] for k in KEYBOARD])
def test_every_control_is_reached_by_tab_with_a_visible_ring(
    tuson: Live, tab: Page, language: str, name: str, path: str, signed_in: bool
) -> None:
    """Tab reaches every link, button and field of the page, in the page's order, and each
    shows a focus ring of 2px at least, in a colour that stands out from what is around it."""
    if signed_in:
        sign_in(tab, tuson)
        expect(tab).to_have_url(tuson.service + "/admin")
    tab.goto(in_language(tuson.service + path, language))
    tab.locator("body").wait_for()
    reached = tab_through(tab)
    count = tab.locator("[data-tab-order]").count()
    assert sorted(reached) == list(range(count)), (reached, count)
    assert in_page_order(reached), reached


def test_dashboard_by_keyboard_alone(tuson: Live, tab: Page, language: str) -> None:
    """Sign in, open a site, change the top pages' window and sign out with the keyboard
    alone: Tab to each control (every stop with a focus ring one can see), type, Enter."""
    tab.goto(in_language(tuson.service + "/admin/login", language))
    tab.evaluate("document.activeElement.blur()")  # from the top, not from the autofocus
    token = tab.locator("#token")
    tab_to(tab, token)
    tab.keyboard.type(ADMIN_TOKEN)
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(tuson.service + "/admin")

    tab_to(tab, tab.get_by_role("link", name="tuson", exact=True))
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(tuson.service + "/admin/sites/tuson")

    week = tab.locator("nav.tabs a[href='?window=week']")
    tab_to(tab, week)
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(tuson.service + "/admin/sites/tuson?window=week")
    expect(week).to_have_attribute("aria-current", "page")

    tab_to(tab, tab.locator("form[action='/admin/logout'] button"))
    tab.keyboard.press("Enter")
    expect(tab).to_have_url(tuson.service + "/admin/login")
    expect(token).to_be_visible()
