"""The period report in real Chromium: chosen on the site page, read, printed on A4 without
the dashboard's navigation, downloaded; under the dashboard's strict CSP, no console error."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.helpers import ADMIN_TOKEN, FakeClock, portal_history
from tests.live import SCREENSHOTS, Live, overflows, signed_in

TODAY = date(2026, 11, 26)  # the test clock's day in Asia/Ho_Chi_Minh (17:00 there)
A4_WIDTH = 794  # CSS pixels of an A4 page's width (210 mm at 96 per inch)


@pytest.fixture
def tuson(live: Live, clock: FakeClock) -> Live:
    """statsvc with a site `tuson`: 60 days of imported history and today's page views."""
    live.put_site("tuson", {"name": "Xã Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    days = portal_history(TODAY, range(1, 60))
    live.admin("POST", "/api/v1/sites/tuson/import", {"import_id": "old", "days": days})
    for path, readers in (
        ("/", "abcdef"),
        ("/tin-tuc/le-hoi-lang", "abcd"),
        ("/thu-tuc-hanh-chinh", "abc"),
        ("/lien-he", "a"),
    ):
        for reader in readers:
            live.hit({"site": "tuson", "path": path}, user_agent=reader)
    return live


@pytest.fixture
def tab(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A Vietnamese browser page, its console errors collected."""
    context = browser.new_context(
        locale="vi-VN", accept_downloads=True, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    yield page, errors
    context.close()


def open_this_months_report(page: Page, service: str, home: str) -> None:
    """Sign in as the admin, keep the period the page at `home` chooses first (this month up
    to today) and open its report."""
    page.goto(service + "/admin/login")
    page.locator("#token").fill(ADMIN_TOKEN)
    page.locator("#token").press("Enter")
    page.goto(service + home)
    expect(page.get_by_label("Kỳ báo cáo")).to_have_value("2026-11-01_2026-11-26")
    page.get_by_role("button", name="Xem báo cáo").first.click()
    expect(page).to_have_url(f"{service}{home}/report?period=2026-11-01_2026-11-26")
    expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo thống kê truy cập")


def test_choose_read_print_and_download_a_month_report(
    tuson: Live, tab: tuple[Page, list[str]]
) -> None:
    """A user picks this month on the site page, reads the report in Vietnamese, prints it
    (A4, no navigation on paper) and downloads its Excel file."""
    page, errors = tab
    open_this_months_report(page, tuson.service, "/admin/sites/tuson")
    expect(page.locator("table.pages td.path").first).to_have_text("/")
    expect(page.get_by_role("img", name="Lượt xem và lượt truy cập theo ngày")).to_be_visible()

    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    expect(page.locator("header.bar")).to_be_hidden()
    expect(page.get_by_role("button", name="In báo cáo")).to_be_hidden()
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / "report-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True)
    sizes = set(re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf))
    assert {(round(float(w)), round(float(h))) for w, h in sizes} == {(595, 842)}  # A4, points
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về Excel (XLSX)").click()
    assert download.value.suggested_filename == "bao-cao-tuson-2026-11-01-2026-11-26.xlsx"
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames == ["Tổng quan", "Theo ngày", "Trang", "Nguồn"]
    assert errors == []


@pytest.fixture
def son_dong(tuson: Live) -> Live:
    """tuson's district son-dong, with two more communes: tan-lap (history and today's views)
    and an-lac, an empty one."""
    tuson.put_site("tan-lap", {"name": "Xã Tân Lập", "timezone": "Asia/Ho_Chi_Minh"})
    tuson.put_site("an-lac", {"name": "Xã An Lạc", "timezone": "Asia/Bangkok"})
    days = [
        {**day, "views": day["views"] // 2, "visits": day["visits"] // 2}
        for day in portal_history(TODAY, range(1, 60))
    ]
    tuson.admin("POST", "/api/v1/sites/tan-lap/import", {"import_id": "old", "days": days})
    for reader, referrer in zip(
        "abcde",
        [
            "https://www.google.com.vn/search",
            "https://coccoc.com/search",
            "",
            "https://zalo.me/",
            "",
        ],
        strict=True,
    ):
        hit = {"site": "tan-lap", "path": "/tin-tuc/hoi-nghi-huyen", "referrer": referrer}
        tuson.hit({k: v for k, v in hit.items() if v}, user_agent=reader)
    tuson.admin(
        "PUT",
        "/api/v1/groups/son-dong",
        {"name": "Huyện Sơn Động", "sites": ["tuson", "tan-lap", "an-lac"]},
    )
    return tuson


def test_choose_read_and_print_a_group_month_report(
    son_dong: Live, tab: tuple[Page, list[str]]
) -> None:
    """A user picks this month on the group page, reads the district's report in Vietnamese
    with its member communes ranked, prints it on A4 and downloads its Excel file."""
    page, errors = tab
    open_this_months_report(page, son_dong.service, "/admin/groups/son-dong")
    ranking = page.locator("table.ranking tbody tr")
    expect(ranking).to_have_count(3)
    expect(ranking.first.locator("td").nth(1)).to_have_text("tuson")
    expect(ranking.last.locator("td").nth(1)).to_have_text("an-lac")

    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_WIDTH, "height": 1123})
    expect(page.locator("header.bar")).to_be_hidden()
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / "report-group-print.png"), full_page=True)
    pdf = page.pdf(prefer_css_page_size=True)
    sizes = set(re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf))
    assert {(round(float(w)), round(float(h))) for w, h in sizes} == {(595, 842)}
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về Excel (XLSX)").click()
    assert download.value.suggested_filename == "bao-cao-son-dong-2026-11-01-2026-11-26.xlsx"
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames[-1] == "Trang web thành viên"
    assert errors == []


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_the_reports_fit_a_tablet_a_laptop_and_a_phone(
    son_dong: Live, browser: Browser, locale: str
) -> None:
    """In either language, no block of a site's or a group's month report runs past the
    report from a tablet's 800 px to 1,600 px, nor at a phone's 400 px, where the page is no
    wider than the screen (the top pages and sources, each at least 320 px wide, ran past the
    report's 318 px)."""
    context, tab = signed_in(browser, son_dong, locale)
    for home in ("/admin/sites/tuson", "/admin/groups/son-dong"):
        tab.goto(f"{son_dong.service}{home}/report?period=2026-11-01_2026-11-26")
        expect(tab.locator("table.days tbody tr")).to_have_count(26)
        assert overflows(tab) == []
    context.close()
