"""The dashboard in real Chromium: sign in, read the numbers, change the window, watch online
update, export, sign out; under the dashboard's own strict CSP, with no console error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers import ADMIN_TOKEN, FakeClock, portal_history
from tests.live import SCREENSHOTS, USER_AGENT, Live, overflows, signed_in

TODAY = date(2026, 11, 26)  # the test clock's day in Asia/Ho_Chi_Minh (17:00 there)


def read(live: Live, path: str, reader: str) -> None:
    """Count a view of a page of the tuson site by one reader."""
    live.hit({"site": "tuson", "path": path}, user_agent=reader)


@pytest.fixture
def tuson(live: Live, clock: FakeClock) -> Live:
    """statsvc with a site `tuson`: 30 days of imported history, views today and yesterday,
    and a duplicate."""
    live.put_site("tuson", {"name": "Xã Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    days = portal_history(TODAY, range(2, 30))
    live.admin(
        "POST",
        "/api/v1/sites/tuson/import",
        {"import_id": "old-counter", "total": {"views": 13457, "visits": 5012}, "days": days},
    )
    clock.advance(-86400)  # yesterday: a page nobody reads today
    for reader in ("a", "b", "c", "d"):
        read(live, "/thu-tuc-hanh-chinh", reader)
    clock.advance(86400)
    for path, readers in (
        ("/", "abcdef"),
        ("/tin-tuc/le-hoi-lang", "abcd"),
        ("/gioi-thieu", "ab"),
        ("/lien-he", "a"),
    ):
        for reader in readers:
            read(live, path, reader)
    for _ in range(2):  # a page view sent twice: counted once, then refused as a duplicate
        live.hit({"site": "tuson", "path": "/", "id": "view-0000001"}, user_agent="a")
    return live


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A fresh context and page, with its console errors collected."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    yield tab, errors
    context.close()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a picture of the page for the README when STATSVC_SCREENSHOTS names a directory."""
    if SCREENSHOTS:
        Path(SCREENSHOTS, name).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=full_page)


def test_sign_in_read_change_window_watch_online_sign_out(
    tuson: Live, page: tuple[Page, list[str]], clock: FakeClock
) -> None:
    """A user signs in with the admin token, opens a site, sees its numbers and chart,
    switches the top pages to this week, sees online rise after a new reader arrives (the
    page polls), downloads the export and signs out."""
    tab, errors = page
    tab.clock.install()
    tab.goto(tuson.service + "/admin")
    expect(tab).to_have_url(tuson.service + "/admin/login")
    screenshot(tab, "dashboard-signin.png")
    tab.get_by_label("Token").fill(ADMIN_TOKEN)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(tuson.service + "/admin")
    tab.get_by_role("link", name="tuson").click()

    expect(tab.get_by_role("heading", level=1)).to_contain_text("Xã Tú Sơn")
    expect(tab.locator('[data-field="online"]')).to_have_text("6")
    expect(tab.locator('[data-field="views.today"]')).to_have_text("14")
    expect(tab.locator('[data-field="visits.yesterday"]')).to_have_text("4")
    expect(tab.get_by_role("img", name="Views and visits per day, last 30 days")).to_be_visible()
    duplicates = tab.get_by_role("row", name="Sent twice")  # its reason, duplicate
    expect(duplicates.get_by_role("cell").first).to_have_text("1")
    pages = tab.locator("table.pages td.path")
    expect(pages).to_have_text(["/", "/tin-tuc/le-hoi-lang", "/gioi-thieu", "/lien-he"])

    tab.get_by_role("link", name="This week").click()
    expect(tab).to_have_url(tuson.service + "/admin/sites/tuson?window=week")
    expect(pages.first).to_have_text("/")
    expect(pages).to_contain_text(["/thu-tuc-hanh-chinh"])
    expect(tab.get_by_role("link", name="This week")).to_have_attribute("aria-current", "page")

    read(tuson, "/lien-he", "a new visitor")
    tab.clock.run_for(11_000)  # one poll of the live figures
    expect(tab.locator('[data-field="online"]')).to_have_text("7")
    expect(tab.locator('[data-field="views.today"]')).to_have_text("15")
    screenshot(tab, "dashboard.png")

    with tab.expect_download() as download:
        tab.get_by_role("link", name="Export (JSON)").click()
    assert download.value.suggested_filename == "statsvc-tuson-2026-11-26.json"

    tab.get_by_role("button", name="Sign out").click()
    expect(tab).to_have_url(tuson.service + "/admin/login")
    tab.goto(tuson.service + "/admin/sites/tuson")
    expect(tab).to_have_url(tuson.service + "/admin/login")
    assert errors == []


def test_a_wrong_token_is_told_and_nothing_opens(tuson: Live, page: tuple[Page, list[str]]) -> None:
    """A wrong token shows the form again with an alert; the dashboard stays closed."""
    tab, errors = page
    tab.goto(tuson.service + "/admin/login")
    tab.get_by_label("Token").fill("not-the-token")
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_have_text("That token is not valid.")
    tab.goto(tuson.service + "/admin")
    expect(tab).to_have_url(tuson.service + "/admin/login")
    assert [e for e in errors if "401" not in e] == []


@pytest.mark.parametrize(
    ("locale", "rejected"), [("vi-VN", "Lượt gửi về bị loại"), ("en-US", "Rejected traffic")]
)
def test_the_dashboard_fits_a_laptop_a_tablet_and_a_phone(
    tuson: Live, browser: Browser, locale: str, rejected: str
) -> None:
    """In either language, no table of a site's dashboard runs past its card from a
    tablet's 800 px to a wide screen's 1,600 px, around the widths where its columns change
    too (the rejected traffic's five columns in a third of 1,200 px did, its month cut off);
    on a phone the page is no wider than the screen (a wide table scrolls inside its card)."""
    context, tab = signed_in(browser, tuson, locale)
    tab.get_by_role("link", name="tuson").click()
    expect(tab.get_by_role("heading", name=rejected)).to_be_visible()
    assert overflows(tab, (800, 1000, 1100, 1152, 1200, 1280, 1440, 1600)) == []
    context.close()


def test_a_vietnamese_browser_reads_vietnamese_and_switches_to_english(
    tuson: Live, browser: Browser, clock: FakeClock
) -> None:
    """A browser that prefers Vietnamese gets the sign-in page, the dashboard and the landing
    page in Vietnamese (numbers 13.457, dates dd/mm/yyyy, the audit trail as sentences);
    the EN switch turns every later page English, live updates grouped the same way."""
    context = browser.new_context(
        locale="vi-VN", user_agent=USER_AGENT, viewport={"width": 1200, "height": 900}
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.clock.install()
    tab.goto(tuson.service + "/admin/login")
    expect(tab.locator("html")).to_have_attribute("lang", "vi")
    screenshot(tab, "screenshots/signin-vi.png", full_page=False)
    tab.get_by_label("Mã truy cập").fill(ADMIN_TOKEN)
    tab.get_by_role("button", name="Đăng nhập").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Các trang web")
    tab.get_by_role("link", name="tuson").click()
    expect(tab.get_by_role("heading", name="Số liệu")).to_be_visible()
    expect(tab.locator('[data-field="views.total"]')).to_have_text("13.475")
    expect(tab.locator(".meta")).to_contain_text("26/11/2026")
    expect(
        tab.get_by_role("cell", name="Nhập số liệu từ bộ đếm cũ: +13.457 lượt xem")
    ).to_have_count(1)
    screenshot(tab, "screenshots/dashboard-vi.png", full_page=False)
    for reader in "ghij":
        read(tuson, "/lien-he", reader)
    tab.clock.run_for(11_000)  # one poll: the live figures in the page's grouping
    expect(tab.locator('[data-field="views.total"]')).to_have_text("13.479")

    tab.get_by_role("link", name="EN").click()
    expect(tab.locator("html")).to_have_attribute("lang", "en")
    expect(tab.get_by_role("heading", name="Numbers")).to_be_visible()
    expect(tab.locator('[data-field="views.total"]')).to_have_text("13,479")
    tuson.put_site("demo", {"timezone": "Asia/Ho_Chi_Minh"})  # the landing page's boxes count
    tab.goto(tuson.service + "/")  # the choice holds on the landing page too
    expect(tab.get_by_role("heading", name="Your snippet")).to_be_visible()
    tab.get_by_role("link", name="VI").click()
    expect(tab.get_by_role("heading", name="Đoạn mã của bạn")).to_be_visible()
    screenshot(tab, "screenshots/landing-vi.png", full_page=False)
    assert errors == []
    context.close()
