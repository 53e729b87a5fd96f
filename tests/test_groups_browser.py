"""Groups in real Chromium: a district portal's box draws the district's sum while its view
counts for its own site; the group's dashboard page, in Vietnamese, live; a group token's
session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers import ADMIN_TOKEN, FakeClock
from tests.live import SCREENSHOTS, USER_AGENT, Live, box_text, overflows


@pytest.fixture
def district(live: Live) -> Live:
    """Communes tu-son and tan-lap in the district son-dong (with its own portal huyen-son-dong
    a member too), and a site le-loi in no group; tan-lap has three readers already."""
    for site, name in [
        ("tu-son", "Xã Tú Sơn"),
        ("tan-lap", "Xã Tân Lập"),
        ("huyen-son-dong", "Cổng thông tin huyện Sơn Động"),
        ("le-loi", "Phường Lê Lợi"),
    ]:
        live.put_site(site, {"name": name, "timezone": "Asia/Ho_Chi_Minh"})
    members = {"name": "Huyện Sơn Động", "sites": ["huyen-son-dong", "tu-son", "tan-lap"]}
    live.admin("PUT", "/api/v1/groups/son-dong", members)
    for reader in ("a", "b", "c"):
        live.hit({"site": "tan-lap", "path": "/"}, user_agent=reader)
    live.hit({"site": "tu-son", "path": "/"}, user_agent="d")
    return live


@pytest.fixture
def warnings(page: Page) -> list[str]:
    """The console warnings of the page."""
    said: list[str] = []
    page.on("console", lambda m: said.append(m.text) if m.type == "warning" else None)
    return said


def test_a_district_box_shows_the_district_sum_with_its_own_view(
    page: Page, district: Live, warnings: list[str]
) -> None:
    """data-site = the district's own portal (a member), data-group = the district: the view
    counts for the portal, and the box shows the district's figures with that view in them;
    nothing is said in the console."""
    script = district.script(site="huyen-son-dong", group="son-dong", target="#stats")
    page.goto(district.add_page("huyen", '<div id="stats"></div>' + script))
    assert box_text(page) == ["Đang online: 5", "Hôm nay: 5", "Trong tuần: 5", "Tất cả: 5"]
    assert district.counts("huyen-son-dong")["views"]["total"] == 1
    assert district.errors == [] and warnings == []


def test_a_site_not_in_the_group_shows_its_own_figures_and_says_why(
    page: Page, district: Live, warnings: list[str]
) -> None:
    """data-site not a member of data-group: the box shows the site's own figures and the
    console warns that the site is not in the group."""
    script = district.script(site="le-loi", group="son-dong", target="#stats")
    page.goto(district.add_page("le-loi", '<div id="stats"></div>' + script))
    assert box_text(page) == ["Đang online: 1", "Hôm nay: 1", "Trong tuần: 1", "Tất cả: 1"]
    expect(page.locator("#stats .statsvc-value").first).to_have_text("1")
    assert len(warnings) == 1 and "le-loi is not in group son-dong" in warnings[0]
    assert district.errors == []


def test_a_group_that_cannot_be_read_falls_back_quietly(
    page: Page, district: Live, warnings: list[str]
) -> None:
    """data-group naming no group (the reply is 404, not "no member"): the box shows the
    site's own figures and no warning says the site is not in the group."""
    script = district.script(site="le-loi", group="no-such-group", target="#stats")
    page.goto(district.add_page("le-loi-2", '<div id="stats"></div>' + script))
    assert box_text(page) == ["Đang online: 1", "Hôm nay: 1", "Trong tuần: 1", "Tất cả: 1"]
    assert not any("is not in group" in warning for warning in warnings)
    # Chromium itself logs the 404 of the fetch; the widget adds nothing
    assert all("Failed to load resource" in error for error in district.errors)


@pytest.fixture
def dashboard(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A fresh Vietnamese context and page, its console errors collected."""
    context = browser.new_context(
        locale="vi-VN", user_agent=USER_AGENT, viewport={"width": 1200, "height": 900}
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    yield tab, errors
    context.close()


def sign_in(tab: Page, live: Live, token: str) -> None:
    """Sign in through the form."""
    tab.goto(live.service + "/admin/login")
    tab.get_by_label("Mã truy cập").fill(token)
    tab.get_by_role("button", name="Đăng nhập").click()


def test_the_group_page_in_vietnamese_ranks_members_and_updates_online(
    dashboard: tuple[Page, list[str]], district: Live, clock: FakeClock
) -> None:
    """The admin finds the district on the site list with its sites under it, opens it: the
    district's figures, its members ranked by views with links, and online updated live."""
    tab, errors = dashboard
    tab.clock.install()
    sign_in(tab, district, ADMIN_TOKEN)
    group_card = tab.locator("section.group", has=tab.get_by_role("link", name="Huyện Sơn Động"))
    expect(group_card.get_by_role("link", name="tan-lap")).to_be_visible()
    expect(tab.get_by_role("heading", name="Các trang web không thuộc nhóm nào")).to_be_visible()
    group_card.get_by_role("link", name="Huyện Sơn Động").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Huyện Sơn Động")
    expect(tab.get_by_role("heading", name="Số liệu của cả nhóm")).to_be_visible()
    expect(tab.locator('[data-field="views.today"]')).to_have_text("4")
    ranking = tab.locator("table.ranking tbody tr")
    expect(ranking.first).to_contain_text("tan-lap")
    expect(ranking).to_have_count(3)
    expect(tab.locator('[data-field="sites.tan-lap.online"]')).to_have_text("3")
    expect(tab.locator("#report")).to_be_visible()
    clock.advance(3)  # past the group cache
    district.hit({"site": "tan-lap", "path": "/"}, user_agent="e")
    tab.clock.run_for(11_000)  # one poll of the live figures
    expect(tab.locator('[data-field="sites.tan-lap.online"]')).to_have_text("4")
    expect(tab.locator('[data-field="online"]')).to_have_text("5")
    expect(tab.locator('[data-field="sites.tan-lap.views"]')).to_have_text("4")
    if SCREENSHOTS:
        tab.screenshot(path=str(Path(SCREENSHOTS) / "dashboard-group.png"), full_page=True)
    tab.get_by_role("link", name="tu-son").click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Xã Tú Sơn")
    assert errors == []


def test_a_group_token_session_sees_its_group_and_members_only(
    dashboard: tuple[Page, list[str]], district: Live
) -> None:
    """Signed in with a group token, the dashboard opens on the group, lists its member sites
    only, opens a member's page, and refuses a site outside the group."""
    tab, _ = dashboard
    token = district.admin("POST", "/api/v1/groups/son-dong/tokens", None)["token"]
    sign_in(tab, district, token)
    expect(tab).to_have_url(district.service + "/admin/groups/son-dong")
    expect(tab.locator(".who")).to_contain_text("son-dong")
    tab.goto(district.service + "/admin")
    expect(tab.locator("table.sites a")).to_have_text(["huyen-son-dong", "tu-son", "tan-lap"])
    expect(tab.get_by_role("link", name="Thêm trang web")).to_have_count(0)
    reply = tab.goto(district.service + "/admin/sites/tu-son")
    assert reply is not None and reply.status == 200
    reply = tab.goto(district.service + "/admin/sites/le-loi")
    assert reply is not None and reply.status == 403


@pytest.mark.parametrize("locale", ["vi-VN", "en-US"])
def test_the_sign_in_the_sites_and_a_group_fit_a_tablet_a_laptop_and_a_phone(
    district: Live, browser: Browser, locale: str
) -> None:
    """In either language, nothing of the sign-in page, the sites list (a group's card, the
    sites in no group) or a group's page runs past its box from a tablet's 800 px to 1,600 px;
    at a phone's 400 px no page is wider than the screen (the English sites in no group, their
    table outside any card, widened the list to 419 px): a wide table scrolls in its card."""
    context = browser.new_context(locale=locale, user_agent=USER_AGENT)
    tab = context.new_page()
    tab.goto(district.service + "/admin/login")
    assert overflows(tab) == []
    tab.locator("#token").fill(ADMIN_TOKEN)
    tab.locator("#token").press("Enter")
    expect(tab.locator("table.sites")).to_have_count(2)  # the group's, and le-loi's
    assert overflows(tab) == []
    tab.goto(district.service + "/admin/groups/son-dong")
    expect(tab.locator("table.ranking tbody tr")).to_have_count(3)
    assert overflows(tab) == []
    context.close()
