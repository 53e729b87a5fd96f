"""What an operator reads, in Vietnamese by default and in English by choice: the sign-in,
dashboard, landing and error pages (the switch, the lang cookie, Accept-Language,
STATSVC_LOCALE), the audit trail as sentences, and the command line's help and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc import i18n
from statsvc.app import create_app
from statsvc.http.audit_sentences import sentence
from statsvc.settings import Settings
from tests.helpers import Client, FakeClock, admin, put_site, sign_in, site_with_token

PAGES = {  # a page, and a text it shows in each language
    "/admin/login": ("Đăng nhập", "Sign in"),
    "/": ("Đoạn mã của bạn", "Your snippet"),
    "/admin/nowhere": ("Không tìm thấy trang này.", "There is no such page."),
}


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_vietnamese_by_default(client: Client, path: str) -> None:
    """Without a choice or an Accept-Language, a page is in the instance's language, vi."""
    reply = await client.get(path)
    html = await reply.text()
    assert '<html lang="vi">' in html
    assert PAGES[path][0] in html
    assert PAGES[path][1] not in html


@pytest.mark.parametrize("path", PAGES)
async def test_the_switch_shows_english_and_the_cookie_keeps_it(client: Client, path: str) -> None:
    """?lang=en shows the page in English and sets a lang cookie (SameSite=Lax, whole site)
    that keeps English on the next page; ?lang=vi goes back."""
    reply = await client.get(path, params={"lang": "en"})
    html = await reply.text()
    assert '<html lang="en">' in html
    assert PAGES[path][1] in html
    cookie = reply.cookies["lang"]
    assert (cookie.value, cookie["samesite"], cookie["path"]) == ("en", "Lax", "/")
    assert '<html lang="en">' in await (await client.get(path)).text()
    back = await client.get(path, params={"lang": "vi"})
    assert '<html lang="vi">' in await back.text()
    assert '<html lang="vi">' in await (await client.get(path)).text()


async def test_every_page_links_to_itself_in_each_language(client: Client) -> None:
    """The switch (VI | EN) keeps the page and its other query parameters."""
    await sign_in(client)
    html = await (await client.get("/admin/sites/demo?window=week")).text()
    assert 'href="/admin/sites/demo?window=week&amp;lang=vi" hreflang="vi"' in html
    assert 'href="/admin/sites/demo?window=week&amp;lang=en" hreflang="en"' in html
    assert 'hreflang="vi" lang="vi" title="Tiếng Việt" aria-current="true">VI</a>' in html


@pytest.mark.parametrize(
    ("header", "lang"), [("en-US,en;q=0.9", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "vi")]
)
async def test_accept_language_chooses_when_nothing_was_chosen(
    client: Client, header: str, lang: str
) -> None:
    """A browser's Accept-Language picks the language when no switch was used; a chosen
    language (the cookie) wins over it."""
    reply = await client.get("/admin/login", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in await reply.text()
    other = "vi" if lang == "en" else "en"
    client.session.cookie_jar.update_cookies({"lang": other})
    reply = await client.get("/admin/login", headers={"Accept-Language": header})
    assert f'<html lang="{other}">' in await reply.text()


async def test_statsvc_locale_sets_the_default(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """An instance with STATSVC_LOCALE=en shows its pages in English by default."""
    client = await aiohttp_client(create_app(replace(settings, locale="en"), clock=clock))
    assert '<html lang="en">' in await (await client.get("/admin/login")).text()


async def test_the_dashboard_writes_numbers_dates_and_the_audit_trail_per_language(
    client: Client, clock: FakeClock
) -> None:
    """A site page: numbers grouped per language, the date dd/mm/yyyy in Vietnamese, the
    audit trail as sentences at the site's local time."""
    await put_site(client, "demo", {"timezone": "Asia/Ho_Chi_Minh"})
    document = {"import_id": "old-1", "total": {"views": 13457, "visits": 5000}}
    reply = await client.post("/api/v1/sites/demo/import", json=document, headers=admin())
    assert reply.status == 200, await reply.text()
    await sign_in(client)
    vi = await (await client.get("/admin/sites/demo")).text()
    assert 'data-field="views.total">13.457<' in vi
    assert "Nhập số liệu từ bộ đếm cũ: +13.457 lượt xem, +5.000 lượt truy cập" in vi
    assert "Sửa cài đặt trang web: múi giờ Asia/Ho_Chi_Minh" in vi
    assert "Thời gian (Asia/Ho_Chi_Minh)" in vi
    assert "26/11/2026 ·" in vi  # today, in the site's zone
    assert '<td class="when">26/11/2026 ' in vi
    assert '"detail"' not in vi and "{&#34;" not in vi  # no JSON
    en = await (await client.get("/admin/sites/demo", params={"lang": "en"})).text()
    assert 'data-field="views.total">13,457<' in en
    assert "Imported figures from an old counter: +13,457 views, +5,000 visits" in en
    assert "Changed the site&#39;s settings: time zone Asia/Ho_Chi_Minh" in en
    assert "Nov 26, 2026 ·" in en


@pytest.mark.parametrize(
    ("entry", "vi", "en"),
    [
        (
            {"action": "settings", "detail": {"created": True, "name": "Xã Tú Sơn"}},
            "Tạo trang web: tên “Xã Tú Sơn”",
            "Created the site: name “Xã Tú Sơn”",
        ),
        (
            {"action": "settings", "detail": {"created": False, "week_start": "sunday"}},
            "Sửa cài đặt trang web: ngày bắt đầu tuần Chủ nhật",
            "Changed the site's settings: week starts on Sunday",
        ),
        (
            {"action": "settings", "detail": {"domains": ["a.vn", "b.vn"], "respect_dnt": True}},
            "Sửa cài đặt trang web: tên miền a.vn, b.vn; tôn trọng Do Not Track có",
            "Changed the site's settings: domains a.vn, b.vn; respect Do Not Track yes",
        ),
        (
            {"action": "token_create", "detail": {"token_id": "ab12"}},
            "Tạo mã truy cập chỉ đọc (ab12)",
            "Made a read-only token (ab12)",
        ),
        (
            {"action": "token_revoke", "detail": {"token_id": "ab12"}},
            "Thu hồi mã truy cập chỉ đọc ab12",
            "Revoked the read-only token ab12",
        ),
        (
            {"action": "import", "detail": {"views": 1, "visits": 0, "days": 1, "pages": 0}},
            "Nhập số liệu từ bộ đếm cũ: +1 lượt xem, 1 ngày",
            "Imported figures from an old counter: +1 view, 1 day",
        ),
        (
            {
                "action": "import",
                "detail": {
                    "views": 13457,
                    "visits": 9000,
                    "days": 30,
                    "pages": 12,
                    "source": {"kind": "vinaora", "from": "mysql://root@db/joomla"},
                },
            },
            "Chuyển số liệu từ Vinaora Visitors Counter (mysql://root@db/joomla): "
            "+13.457 lượt xem, +9.000 lượt truy cập, 30 ngày, 12 trang",
            "Moved figures from Vinaora Visitors Counter (mysql://root@db/joomla): "
            "+13,457 views, +9,000 visits, 30 days, 12 pages",
        ),
        (
            {"action": "purge", "detail": {}},
            "Thay đổi khác (purge)",
            "Other change (purge)",
        ),
    ],
)
def test_each_audit_action_is_a_sentence(entry: dict[str, object], vi: str, en: str) -> None:
    """Every audit action reads as one sentence in each language; one the dashboard does not
    know reads as a generic one."""
    for locale, expected in (("vi", vi), ("en", en)):
        token = i18n.use(locale)
        try:
            assert sentence(entry) == expected
        finally:
            i18n.reset(token)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `statsvc ARGS` with only these locale variables set."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES") and not k.startswith("STATSVC_")
    }
    command = [sys.executable, "-m", "statsvc", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=kept | env, check=False
    )


@pytest.mark.parametrize(
    ("env", "usage", "text"),
    [
        ({}, "cách dùng: statsvc", "chạy dịch vụ HTTP"),
        ({"LANG": "vi_VN.UTF-8"}, "cách dùng: statsvc", "tạo, liệt kê hoặc thu hồi mã truy cập"),
        ({"LANG": "en_US.UTF-8"}, "usage: statsvc", "run the HTTP service"),
        ({"STATSVC_LOCALE": "en", "LANG": "vi_VN.UTF-8"}, "usage: statsvc", "options:"),
    ],
)
def test_the_command_help_is_in_its_language(env: dict[str, str], usage: str, text: str) -> None:
    """`statsvc --help` is Vietnamese by default and with LANG=vi_VN, English with an
    English LANG or STATSVC_LOCALE=en."""
    result = run("--help", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(usage)
    assert text in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LANG": "vi_VN.UTF-8"},
            "statsvc: STATSVC_RETENTION_DAYS: phải là số nguyên từ 31 đến 36.500",
        ),
        (
            {"LANG": "en_US.UTF-8"},
            "statsvc: STATSVC_RETENTION_DAYS: must be a whole number from 31 to 36,500",
        ),
    ],
)
def test_a_command_error_is_in_its_language(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    """A setting out of range stops the command with one line in its language."""
    result = run("site", "list", "--data-dir", str(tmp_path), STATSVC_RETENTION_DAYS="5", **env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [message]


async def test_a_form_refused_to_a_site_token_is_told_in_vietnamese(client: Client) -> None:
    """A site token's session posting a form gets the 403 page in the page's language
    (Vietnamese by default), its message from the catalogue; a token it cannot revoke too."""
    token = await site_with_token(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client, token)
    reply = await client.post("/admin/sites/tuson/tokens", data={"csrf": csrf})
    assert reply.status == 403
    page = await reply.text()
    assert "chỉ để đọc: hãy đăng nhập bằng mã quản trị" in page
    assert "A site token is read-only" not in page
    client.session.cookie_jar.clear()  # signed out: sign in as the admin
    csrf = await sign_in(client)
    reply = await client.post("/admin/sites/tuson/tokens/nope/revoke", data={"csrf": csrf})
    assert reply.status == 404
    assert "Trang web “tuson” không có mã truy cập “nope”." in await reply.text()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LANG": "vi_VN.UTF-8"},
            "statsvc: exclude_ips: exclude_ips có '10.1.2.3/8' với phần địa chỉ máy khác 0: "
            "dải đúng là '10.0.0.0/8'",
        ),
        (
            {"LANG": "en_US.UTF-8"},
            "statsvc: exclude_ips: exclude_ips has '10.1.2.3/8', whose host bits are set: "
            "the range is '10.0.0.0/8'",
        ),
    ],
)
def test_a_site_setting_refused_by_the_command_is_told_in_its_language(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    """`statsvc site add` with a setting the site model refuses says why in its language
    (the JSON API keeps the English of the same error)."""
    argv = ("site", "add", "xa", "--exclude-ip", "10.1.2.3/8", "--data-dir", str(tmp_path))
    result = run(*argv, **env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == message
