"""The landing page's snippet builder says where the snippet goes in Joomla, WordPress and
NukeViet, and fills path= in the badge when the editor gives the page (in Chromium)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.live import SCREENSHOTS, Live, box_text, overflows


def test_builder_fills_the_badge_path_and_says_where_to_paste(page: Page, live: Live) -> None:
    """A page path (or the page's whole address) typed into the builder goes into the
    noscript badge as path=, without its host; emptied, the badge has no path; the CMS
    block names Joomla's Custom module, WordPress's Custom HTML block and NukeViet's
    global.html block, with their script filters."""
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{live.service}/")
    snippet = page.locator("#snippet")
    expect(snippet).to_contain_text("badge.svg?site=demo")
    assert "path=" not in snippet.inner_text()
    field = page.get_by_label("Đường dẫn trang (không bắt buộc)")  # a Vietnamese browser's page
    field.fill("https://xa.example.vn/tin-tuc/le-hoi?id=3")
    expect(snippet).to_contain_text("&amp;path=/tin-tuc/le-hoi%3Fid%3D3")
    field.fill("/gioi-thieu")
    expect(snippet).to_contain_text("&amp;path=/gioi-thieu")
    assert "xa.example.vn" not in snippet.inner_text()
    cms = page.locator(".cms")
    for words in ("Mô-đun tùy chỉnh", "No Filtering", "Custom HTML", "global.html"):
        expect(cms).to_contain_text(words)
    if SCREENSHOTS:  # the README's picture of the builder, under docs/screenshots/
        folder = Path(SCREENSHOTS) / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        page.evaluate("document.body.style.zoom = '0.9'")  # the picture stays under 150 KB
        page.locator("section.builder").screenshot(path=str(folder / "landing-builder.png"))
        page.evaluate("document.body.style.zoom = ''")
    field.fill("")
    expect(snippet).not_to_contain_text("path=")


def test_the_landing_page_fits_a_tablet_a_laptop_and_a_phone(page: Page, live: Live) -> None:
    """In Vietnamese, then in English (its switch), the landing page with its live boxes is
    no wider than a phone's 400 px screen, and from a tablet's 800 px to 1,600 px."""
    live.put_site("demo", {"timezone": "Asia/Ho_Chi_Minh"})  # the boxes count its views
    page.goto(f"{live.service}/")
    box_text(page, "#live-box")
    assert overflows(page) == []
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Your snippet")).to_be_visible()
    box_text(page, "#live-box")
    assert overflows(page) == []
