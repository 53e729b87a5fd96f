"""The dashboard's forms in real Chromium, under their strict CSP and without a script, axe-core
finding no serious violation on any of them: an operator signs in, creates a site with
domains and a time zone (by keyboard, the first problem focused), makes a token, imports an
old total through the preview, sees it on the site's page and in the widget of a portal page
of that site, and excludes an address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import axe
from tests.helpers import ADMIN_TOKEN
from tests.live import SCREENSHOTS, Live, box_text, overflows, signed_in


def screenshot(page: Page, name: str) -> None:
    """Save a picture of the page for the docs when STATSVC_SCREENSHOTS names a directory."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1000, "height": 800})
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_an_operator_creates_a_site_makes_a_token_and_imports_an_old_total(
    page: Page, live: Live
) -> None:
    """Sign in; create site xa-tuson by keyboard (a wrong time zone first: told by its field,
    which gets the focus); make a read-only token, shown once; import a total of 13,457
    views with its preview; the site page shows it, and the portal's box 13.458 after one
    view; with the browser's address excluded, the next view is shown and not counted."""
    page.goto(live.service + "/admin")  # a Vietnamese browser: the pages are Vietnamese
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_label("Mã truy cập").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("link", name="Thêm trang web")).to_be_visible()
    page.get_by_role("link", name="EN", exact=True).click()  # the switch: English from here on
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="New site").click()
    expect(page).to_have_url(live.service + "/admin/new-site")

    page.get_by_label("Site id").focus()  # from here on, the keyboard only
    page.keyboard.type("xa-tuson")
    page.keyboard.press("Tab")
    page.keyboard.type("Xã Tú Sơn")
    page.keyboard.press("Tab")
    page.keyboard.type("localhost")
    page.keyboard.press("Enter")
    page.keyboard.type("xatuson.gov.vn")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Time zone")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Asia/Saigon_City")
    page.keyboard.press("Enter")  # submits the form

    zone = page.get_by_label("Time zone")
    expect(zone).to_be_focused()
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(zone).to_have_accessible_description(re.compile("Choose a time zone from the list"))
    expect(page.get_by_label("Domains")).to_have_value("localhost\nxatuson.gov.vn")
    axe.check(page, "dashboard-site-form-problem")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Asia/Ho_Chi_Minh")
    page.keyboard.press("Enter")

    expect(page).to_have_url(live.service + "/admin/sites/xa-tuson?done=created")
    expect(page.get_by_role("status")).to_have_text("The site was created.")
    axe.check(page, "dashboard-site-created")
    settings = live.admin("GET", "/api/v1/sites/xa-tuson", None)
    assert (settings["domains"], settings["timezone"]) == (
        ["localhost", "xatuson.gov.vn"],
        "Asia/Ho_Chi_Minh",
    )

    page.get_by_role("link", name="Read-only tokens").click()
    page.get_by_role("button", name="Make a read-only token").click()
    made = page.get_by_role("textbox", name="Token")
    expect(made).to_be_focused()
    token = made.input_value()
    axe.check(page, "dashboard-token-made")
    assert token.startswith("svt_xa-tuson.")
    assert token not in page.url
    page.get_by_role("link", name="xa-tuson").click()
    assert token not in page.content()

    page.get_by_role("link", name="Import old figures").click()
    axe.check(page, "dashboard-import-form")
    page.get_by_label("Views").fill("13.457")
    page.get_by_label("Visits").fill("13457")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview of the import")
    expect(page.locator('[data-field="views.total"]')).to_have_text("13,457")
    expect(page.locator('[data-field="visits.total"]')).to_have_text("13,457")
    expect(page.locator('[data-field="views.today"]')).to_have_text("0")
    assert live.counts("xa-tuson")["views"]["total"] == 0  # a preview changes nothing
    axe.check(page, "dashboard-import-preview")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(live.service + "/admin/sites/xa-tuson?done=imported")
    expect(page.get_by_role("status")).to_have_text("The old figures were imported.")
    expect(page.locator('[data-field="views.total"]')).to_have_text("13,457")
    assert live.counts("xa-tuson")["views"]["total"] == 13457

    url = live.add_page(
        "index", '<div id="stats"></div>' + live.script(site="xa-tuson", target="#stats")
    )
    page.goto(url)
    assert box_text(page)[-1] == "Tất cả: 13.458"
    assert live.counts("xa-tuson")["views"]["total"] == 13458

    page.goto(live.service + "/admin/sites/xa-tuson/settings")  # the office's address
    page.get_by_label("Excluded IP addresses").fill("127.0.0.0/8")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The settings were saved.")
    page.goto(url)
    assert box_text(page)[-1] == "Tất cả: 13.458"  # shown, not counted
    assert live.counts("xa-tuson")["views"]["total"] == 13458
    page.goto(live.service + "/admin/sites/xa-tuson")
    excluded = page.get_by_role("row", name="excluded")
    expect(excluded.get_by_role("cell").first).to_have_text("1")
    assert [e for e in live.errors if "status of 400" not in e] == []  # the form told again

    page.get_by_role("link", name="VI", exact=True).click()  # and back to Vietnamese
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Nhật ký thay đổi")).to_be_visible()
    page.goto(live.service + "/admin/sites/xa-tuson/settings")
    expect(page.get_by_role("button", name="Lưu")).to_be_visible()
    screenshot(page, "dashboard-site-form.png")
    page.goto(live.service + "/admin/sites/xa-tuson/import")
    page.get_by_label("Lượt xem", exact=True).fill("120")
    page.get_by_role("button", name="Xem trước").click()
    expect(page.locator('[data-field="views.total"]')).to_have_text("13.578")
    screenshot(page, "dashboard-import-preview.png")


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_the_forms_fit_a_tablet_a_laptop_and_a_phone(
    live: Live, browser: Browser, locale: str
) -> None:
    """In either language, nothing of a site's settings form, its read-only tokens (one just
    made) or the import form and its preview runs past its box from a tablet's 800 px to
    1,600 px; at a phone's 400 px no page is wider than the screen and no form runs past its
    card (the import form's file input, 346 px, did): only a wide table scrolls in its card."""
    live.put_site("xa-tuson", {"name": "Xã Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    live.admin("POST", "/api/v1/sites/xa-tuson/tokens", None)
    context, tab = signed_in(browser, live, locale)
    site = live.service + "/admin/sites/xa-tuson"
    tab.goto(site + "/settings")
    assert overflows(tab) == []
    tab.goto(site + "/tokens")
    tab.locator("form[action$='/tokens'] button").click()  # a new token, shown once
    expect(tab.locator("#made-token")).to_be_focused()
    expect(tab.locator("table.tokens tbody tr")).to_have_count(2)
    assert overflows(tab) == []
    tab.goto(site + "/import")
    assert overflows(tab) == []
    tab.locator("#f-total_views").fill("13457")
    tab.locator("#f-days").fill("date,views,visits\n2026-11-25,98,35")
    tab.locator("form.settings button[type=submit]").click()
    expect(tab.locator("table.preview")).to_be_visible()
    assert overflows(tab) == []
    context.close()
