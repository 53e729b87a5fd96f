"""The dashboard's forms over HTTP (no browser): create a site, change its settings, make and
revoke tokens, import old figures with a preview; each through the admin service (checked
here through the admin API), CSRF-protected, in the audit trail, closed to a site token's
session, and bad input told by its field with nothing changed."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import FormData

from statsvc import i18n
from tests.helpers import (
    Client,
    Json,
    admin_request,
    figures,
    ok,
    post_hit,
    put_site,
    sign_in,
    site_with_token,
)

SITE_FORM = {
    "id": "xa-tuson",
    "name": "Xã Tú Sơn",
    "domains": "xatuson.gov.vn\r\nwww.xatuson.gov.vn\r\n",
    "timezone": "Asia/Ho_Chi_Minh",
    "week_start": "sunday",
    "locale": "en",
    "online_window": "120",
    "exclude_ips": "203.0.113.7\r\n2001:db8::/32\r\n",
}


@pytest.fixture
def client(client: Client) -> Client:
    """The test client, its pages in English (the lang cookie of the switch): these tests read
    the forms' English; tests/test_languages.py and the browser test read the Vietnamese."""
    client.session.cookie_jar.update_cookies({"lang": "en"})
    return client


CSV = "date,views,visits\n2026-11-26,5,3\n2026-11-24,10,4\n2026-11-02,7,7\n2026-10-30,2,1\n"


def problem_of(page: str, field: str) -> str:
    """Return the message shown by a field of a form page (failing if there is none)."""
    found = re.search(rf'<p class="field-problem" id="f-{field}-problem">([^<]*)</p>', page)
    assert found is not None, page
    return html.unescape(found.group(1))


def field_tag(page: str, field: str) -> str:
    """Return the HTML tag of a form field."""
    found = re.search(rf'<(?:input|textarea|select) id="f-{field}"[^>]*>', page)
    assert found is not None, page
    return found.group(0)


async def audit(client: Client, site: str) -> list[Json]:
    """Return the site's audit trail, newest first, through the admin API."""
    entries: list[Json] = (await ok(client, "GET", f"/api/v1/sites/{site}/audit"))["entries"]
    return entries


async def post(
    client: Client, path: str, data: Any, headers: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Post a form without following a redirect; return the status, Location and page."""
    reply = await client.post(path, data=data, headers=headers or {}, allow_redirects=False)
    return reply.status, reply.headers.get("Location", ""), await reply.text()


# -- sites -----------------------------------------------------------------------------------


async def test_an_admin_creates_a_site_from_the_form(client: Client) -> None:
    """The new-site form offers the time zones (Asia/Ho_Chi_Minh first); posted, it creates
    the site with its domains, zone, week start, locale and online window through the admin
    service, records it in the audit trail and confirms it on the site's page."""
    csrf = await sign_in(client)
    form = await (await client.get("/admin/new-site")).text()
    zones = re.findall(r'<option value="([^"]+)">', form.split('<datalist id="zones">')[1])
    assert zones[0] == "Asia/Ho_Chi_Minh"
    assert {"UTC", "Europe/Berlin", "America/New_York"} <= set(zones)
    assert 'list="zones"' in field_tag(form, "timezone")

    status, location, _ = await post(client, "/admin/new-site", {"csrf": csrf, **SITE_FORM})
    assert (status, location) == (303, "/admin/sites/xa-tuson?done=created")
    settings = await ok(client, "GET", "/api/v1/sites/xa-tuson")
    assert {k: settings[k] for k in ("name", "domains", "timezone", "week_start", "locale")} == {
        "name": "Xã Tú Sơn",
        "domains": ["xatuson.gov.vn", "www.xatuson.gov.vn"],
        "timezone": "Asia/Ho_Chi_Minh",
        "week_start": "sunday",
        "locale": "en",
    }
    assert settings["online_window"] == 120
    assert settings["exclude_ips"] == ["203.0.113.7", "2001:db8::/32"]
    [entry] = await audit(client, "xa-tuson")
    assert (entry["action"], entry["by"], entry["detail"]["created"]) == ("settings", "admin", True)
    page = await (await client.get(location)).text()
    assert 'role="status">The site was created.</p>' in page
    assert 'href="/admin/sites/xa-tuson/settings"' in page


async def test_a_site_without_a_name_is_named_by_its_id(client: Client) -> None:
    """Only the id is needed: the other fields keep the instance's defaults."""
    csrf = await sign_in(client)
    status, _, _ = await post(client, "/admin/new-site", {"csrf": csrf, "id": "phuong-1"})
    assert status == 303
    settings = await ok(client, "GET", "/api/v1/sites/phuong-1")
    assert (settings["name"], settings["domains"], settings["online_window"]) == (
        "phuong-1",
        [],
        300,
    )


async def test_the_settings_form_is_filled_and_saves_what_changed(client: Client) -> None:
    """A site's settings form shows its settings (the id fixed); saving sends only what
    changed to the audit trail, and saving it unchanged writes nothing."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "domains": ["tuson.vn"]})
    csrf = await sign_in(client)
    form = await (await client.get("/admin/sites/tuson/settings")).text()
    assert 'value="Tú Sơn"' in field_tag(form, "name")
    assert re.search(r'id="f-domains"[^>]*>tuson.vn</textarea>', form)
    assert 'id="f-id"' not in form  # the id is not a field
    values = {"csrf": csrf, "name": "Xã Tú Sơn", "domains": "tuson.vn", "timezone": "Asia/Bangkok"}
    values |= {"week_start": "monday", "locale": "vi", "online_window": "300", "id": "other"}
    status, location, _ = await post(client, "/admin/sites/tuson/settings", values)
    assert (status, location) == (303, "/admin/sites/tuson?done=saved")
    settings = await ok(client, "GET", "/api/v1/sites/tuson")
    assert (settings["id"], settings["name"], settings["timezone"]) == (
        "tuson",
        "Xã Tú Sơn",
        "Asia/Bangkok",
    )
    trail = await audit(client, "tuson")
    assert trail[0]["detail"] == {"created": False, "name": "Xã Tú Sơn", "timezone": "Asia/Bangkok"}

    status, location, _ = await post(client, "/admin/sites/tuson/settings", values)
    assert (status, location) == (303, "/admin/sites/tuson?done=unchanged")
    assert len(await audit(client, "tuson")) == len(trail)


BAD_SITE_FIELDS = [
    ("id", "", "Use 1 to 63 lowercase letters"),
    ("id", "Xa Tu Son", "Use 1 to 63 lowercase letters"),
    ("id", "x" * 64, "Use 1 to 63 lowercase letters"),
    ("id", "demo", "There is a site with this id already."),
    ("name", "n" * 201, "Use at most 200 characters"),
    ("name", "tab\x00null", "without control characters"),
    ("domains", "ok.vn\nnot a host!", "“not a host!” is not a host name"),
    ("domains", "\n".join(f"h{n}.vn" for n in range(51)), "Too many lines"),
    ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list"),
    ("timezone", "", "Choose a time zone from the list"),
    ("timezone", "asia/ho_chi_minh", "Choose a time zone from the list"),
    ("week_start", "friday", "Choose Monday or Sunday."),
    ("locale", "fr", "Choose Vietnamese or English."),
    ("online_window", "abc", "Enter a whole number of seconds from 30 to 3600."),
    ("online_window", "10", "Enter a whole number of seconds from 30 to 3600."),
    ("online_window", "-5", "Enter a whole number of seconds from 30 to 3600."),
    ("online_window", "1" * 40, "Enter a whole number of seconds from 30 to 3600."),
    ("online_window", "\uff11\uff12\uff10", "Enter a whole number of seconds from 30 to 3600."),
    ("exclude_ips", "203.0.113.7\n10.0.0.0/33", "“10.0.0.0/33” is not an IP address"),
    ("exclude_ips", "not-an-ip", "“not-an-ip” is not an IP address"),
    (
        "exclude_ips",
        "203.0.113.7/24",
        "“203.0.113.7/24” has host bits set: the range is 203.0.113.0/24.",
    ),
    ("exclude_ips", "10.1.2.3/8", "“10.1.2.3/8” has host bits set: the range is 10.0.0.0/8."),
    ("exclude_ips", "\n".join(f"10.0.{n // 256}.{n % 256}" for n in range(257)), "Too many"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_SITE_FIELDS)
async def test_a_bad_field_is_told_by_it_and_creates_nothing(
    client: Client, field: str, value: str, message: str
) -> None:
    """Bad input in the new-site form shows the form again (400) with a message by that
    field, linked to it and focused, what was typed kept, and nothing created."""
    csrf = await sign_in(client)
    before = await ok(client, "GET", "/api/v1/sites")
    status, _, page = await post(
        client, "/admin/new-site", {"csrf": csrf, **SITE_FORM, field: value}
    )
    assert status == 400
    assert message in problem_of(page, field)
    tag = field_tag(page, field)
    assert f'aria-describedby="f-{field}-hint f-{field}-problem"' in tag or (
        f'aria-describedby="f-{field}-problem"' in tag
    )
    assert 'aria-invalid="true"' in tag
    assert "autofocus" in tag
    assert page.count("autofocus") == 1
    if field in ("name", "domains", "timezone", "online_window") and "\x00" not in value:
        assert html.escape(value.split("\n")[-1]) in page  # what was typed, shown again
    assert await ok(client, "GET", "/api/v1/sites") == before
    assert (await admin_request(client, "GET", "/api/v1/sites/xa-tuson")).status == 404


async def test_a_bad_setting_changes_nothing_of_a_site(client: Client) -> None:
    """A bad field among good changes saves none of them."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    values = {"csrf": csrf, **SITE_FORM, "name": "Changed", "timezone": "Nowhere/Town"}
    status, _, page = await post(client, "/admin/sites/tuson/settings", values)
    assert status == 400
    assert "Choose a time zone" in problem_of(page, "timezone")
    assert (await ok(client, "GET", "/api/v1/sites/tuson"))["name"] == "Tú Sơn"
    assert len(await audit(client, "tuson")) == 1


async def test_a_huge_form_is_refused_whole(client: Client) -> None:
    """A form body past the dashboard's limit is a 413 page, and creates nothing."""
    csrf = await sign_in(client)
    reply = await client.post(
        "/admin/new-site", data={"csrf": csrf, "id": "big", "name": "x" * 100_000}
    )
    assert reply.status == 413
    assert reply.content_type == "text/html"
    assert (await admin_request(client, "GET", "/api/v1/sites/big")).status == 404


# -- who may post ----------------------------------------------------------------------------

POSTS = [
    ("/admin/new-site", {"id": "forged"}),
    ("/admin/sites/tuson/settings", {**SITE_FORM, "name": "Forged"}),
    ("/admin/sites/tuson/tokens", {}),
    ("/admin/sites/tuson/import/preview", {"import_id": "dashboard-1", "total_views": "9"}),
    ("/admin/sites/tuson/import", {"import_id": "dashboard-1", "total_views": "9"}),
]


@pytest.mark.parametrize(("path", "data"), POSTS)
@pytest.mark.parametrize(
    ("csrf", "headers"),
    [
        (None, {}),
        ("wrong", {}),
        ("session", {"Origin": "https://evil.example"}),
        ("session", {"Sec-Fetch-Site": "cross-site"}),
    ],
)
async def test_a_post_without_the_session_csrf_or_from_elsewhere_is_refused(
    client: Client, path: str, data: Json, csrf: str | None, headers: dict[str, str]
) -> None:
    """Every form post without the session's CSRF value, or from another origin, is a 403
    page and changes nothing."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    session_csrf = await sign_in(client)
    sent = dict(data)
    if csrf is not None:
        sent["csrf"] = session_csrf if csrf == "session" else csrf
    status, _, page = await post(client, path, sent, headers)
    assert status == 403
    assert "<!doctype html>" in page
    assert (await ok(client, "GET", "/api/v1/sites/tuson"))["name"] == "Tú Sơn"
    assert (await admin_request(client, "GET", "/api/v1/sites/forged")).status == 404
    assert len(await audit(client, "tuson")) == 1
    assert (await ok(client, "GET", "/api/v1/sites/tuson/tokens"))["tokens"] == []


async def test_a_site_token_session_stays_read_only(client: Client) -> None:
    """A site token's session sees no form, gets 403 for each, and its posts (with its own
    CSRF value) change nothing."""
    token = await site_with_token(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client, token)
    page = await (await client.get("/admin/sites/tuson")).text()
    assert "/settings" not in page
    assert "/tokens" not in page
    assert "/import" not in page
    assert "/admin/new-site" not in await (await client.get("/admin")).text()
    for path in (
        "/admin/new-site",
        "/admin/sites/tuson/settings",
        "/admin/sites/tuson/tokens",
        "/admin/sites/tuson/import",
    ):
        assert (await client.get(path)).status == 403, path
    for path, data in POSTS:
        status, _, _ = await post(client, path, {"csrf": csrf, **data})
        assert status == 403, path
    assert (await ok(client, "GET", "/api/v1/sites/tuson"))["name"] == "Tú Sơn"
    assert [e["action"] for e in await audit(client, "tuson")] == ["token_create", "settings"]


# -- tokens ----------------------------------------------------------------------------------


async def test_a_token_is_made_shown_once_and_revoked(client: Client) -> None:
    """Making a token shows it on the reply only (not in a URL, not on the list after); it
    reads the site through the API; revoked, it no longer does; both are in the audit."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    listing = await (await client.get("/admin/sites/tuson/tokens")).text()
    assert "No tokens yet." in listing
    reply = await client.post("/admin/sites/tuson/tokens", data={"csrf": csrf})
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    page = await reply.text()
    found = re.search(r'id="made-token" class="token" type="text" value="(svt_[^"]+)"', page)
    assert found is not None, page
    token = found.group(1)
    assert token not in str(reply.url)
    assert "shown only this once" in page
    assert (await admin_request(client, "GET", "/api/v1/sites/tuson/stats", token)).status == 200

    listing = await (await client.get("/admin/sites/tuson/tokens")).text()
    token_id = token.split(".")[1]
    assert f"<code>{token_id}</code>" in listing
    assert token not in listing
    status, location, _ = await post(
        client, f"/admin/sites/tuson/tokens/{token_id}/revoke", {"csrf": csrf}
    )
    assert (status, location) == (303, "/admin/sites/tuson?done=revoked")
    assert (await admin_request(client, "GET", "/api/v1/sites/tuson/stats", token)).status == 401
    assert [e["action"] for e in await audit(client, "tuson")][:2] == [
        "token_revoke",
        "token_create",
    ]
    status, _, _ = await post(
        client, f"/admin/sites/tuson/tokens/{token_id}/revoke", {"csrf": csrf}
    )
    assert status == 404


# -- imports ---------------------------------------------------------------------------------


async def import_page(client: Client, site: str = "tuson") -> str:
    """Open the import form; return its import id."""
    page = await (await client.get(f"/admin/sites/{site}/import")).text()
    found = re.search(r'name="import_id" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def carried(page: str) -> dict[str, str]:
    """Return the hidden fields of the preview's apply form."""
    form = page.split('action="/admin/sites/tuson/import"')[1].split("</form>")[0]
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }


def after(page: str) -> dict[str, int]:
    """Return the figures after the import, as the preview shows them."""
    cells = re.findall(r'data-field="([a-z]+\.[a-z]+)">([0-9,]+)<', page)
    return {name: int(value.replace(",", "")) for name, value in cells}


async def test_an_import_is_previewed_then_applied_once(client: Client) -> None:
    """The preview shows each window before and after (the days in the windows they fall
    in, the total at least the old total) and changes nothing; Apply adds exactly that,
    once: a second Apply of the same preview adds nothing more."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    await post_hit(client, {"site": "tuson", "path": "/"})
    csrf = await sign_in(client)
    import_id = await import_page(client)
    form = {"csrf": csrf, "import_id": import_id, "total_views": "13.457", "total_visits": "5012"}
    reply = await client.post("/admin/sites/tuson/import/preview", data=form | {"days": CSV})
    assert reply.status == 200
    page = await reply.text()
    # today 2026-11-26 (a Thursday; weeks from Monday 23rd): 5 + 10 this week, 7 more this
    # month; the old total includes its days
    assert after(page) == {
        "views.today": 6,
        "visits.today": 4,
        "views.yesterday": 0,
        "visits.yesterday": 0,
        "views.week": 16,
        "visits.week": 8,
        "views.month": 23,
        "visits.month": 15,
        "views.total": 13458,
        "visits.total": 5013,
    }
    assert "Days added: 4, from Oct 30, 2026 to Nov 26, 2026." in page
    counts = await ok(client, "GET", "/api/v1/sites/tuson/stats")
    assert counts["views"]["total"] == 1
    assert [e["action"] for e in await audit(client, "tuson")] == ["settings"]

    apply = carried(page)
    assert apply["import_id"] == import_id
    for _ in range(2):  # a double click
        status, location, _ = await post(client, "/admin/sites/tuson/import", apply)
        assert status == 303
    assert location == "/admin/sites/tuson?done=already_imported"
    counts = await ok(client, "GET", "/api/v1/sites/tuson/stats")
    assert counts["views"] == figures(6, 0, 16, 23, 13458)
    assert counts["visits"] == figures(4, 0, 8, 15, 5013)
    [entry] = [e for e in await audit(client, "tuson") if e["action"] == "import"]
    assert entry["detail"]["import_id"] == import_id
    assert (entry["detail"]["views"], entry["detail"]["days"]) == (13457, 4)


async def test_an_import_takes_a_csv_file(client: Client) -> None:
    """The days may come as an uploaded CSV file (with Excel's byte-order mark)."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    csrf = await sign_in(client)
    data = FormData()
    data.add_field("csrf", csrf)
    data.add_field("import_id", await import_page(client))
    data.add_field("days_file", ("\ufeff" + CSV).encode(), filename="old.csv")
    reply = await client.post("/admin/sites/tuson/import/preview", data=data)
    assert reply.status == 200
    page = await reply.text()
    assert after(page)["views.total"] == 24
    status, location, _ = await post(client, "/admin/sites/tuson/import", carried(page))
    assert (status, location) == (303, "/admin/sites/tuson?done=imported")
    assert (await ok(client, "GET", "/api/v1/sites/tuson/stats"))["views"]["total"] == 24


BAD_IMPORTS = [
    ({"total_views": "abc"}, "total_views", "Enter a whole number"),
    ({"total_views": "1" * 12}, "total_views", "Enter a whole number"),
    ({"total_views": "-3"}, "total_views", "Enter a whole number"),
    ({"total_views": "1.5"}, "total_views", "Enter a whole number"),
    ({"total_views": "12,34"}, "total_views", "Enter a whole number"),
    ({"total_views": "1.2345"}, "total_views", "Enter a whole number"),
    ({"total_views": "\u0661\u0662"}, "total_views", "Enter a whole number"),
    ({"total_views": "10", "total_visits": "11"}, "total_visits", "cannot be more than"),
    ({}, "total_views", "Give a total, some days, or both."),
    ({"days": "day,views\n2026-11-01,1,1"}, "days", "The first line must be the header"),
    ({"days": "date,views,visits\n2026-11-01,1"}, "days", "Line 2 is not date,views,visits"),
    ({"days": "date,views,visits\n2026-11-01,x,1"}, "days", "Line 2 is not"),
    ({"days": "date,views,visits\n2026-13-01,1,1"}, "days", "“2026-13-01” is not a date"),
    ({"days": "date,views,visits\n01/11/2026,1,1"}, "days", "“01/11/2026” is not a date"),
    ({"days": "date,views,visits\n2026-11-01,1,2"}, "days", "visits are more than the views"),
    ({"days": "date,views,visits\n2026-11-01,1,1\n2026-11-01,2,2"}, "days", "listed twice"),
    ({"days": "date,views,visits\n2026-11-27,1,1"}, "days", "after the site's today, Nov 26, 2026"),
    ({"days_file": b"date,views,visits\n\xff\xfe"}, "days_file", "not UTF-8"),
    ({"days_file": CSV.encode(), "days": CSV}, "days_file", "not both"),
    ({"import_id": "", "total_views": "5"}, "form", "out of date"),
    ({"import_id": "a b", "total_views": "5"}, "form", "out of date"),
]


@pytest.mark.parametrize("typed", ["13.457", "13 457", "13457", "13,457", "13\u202f457"])
async def test_an_imported_total_may_be_grouped_in_threes(client: Client, typed: str) -> None:
    """A total is plain digits or grouped in threes, with a dot, comma or space."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    form = {"csrf": csrf, "import_id": await import_page(client), "total_views": typed}
    reply = await client.post("/admin/sites/tuson/import/preview", data=form)
    assert reply.status == 200
    assert after(await reply.text())["views.total"] == 13457


@pytest.mark.parametrize(("fields", "field", "message"), BAD_IMPORTS)
@pytest.mark.parametrize("step", ["preview", "apply"])
async def test_a_bad_import_is_told_by_its_field_and_imports_nothing(
    client: Client, fields: dict[str, Any], field: str, message: str, step: str
) -> None:
    """Bad import input, at the preview or at the apply, shows the form again (400) with a
    message by the field and nothing imported."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    csrf = await sign_in(client)
    data = FormData()
    for name, value in {"csrf": csrf, "import_id": await import_page(client), **fields}.items():
        if isinstance(value, bytes):
            data.add_field(name, value, filename="old.csv")
        else:
            data.add_field(name, value)
    path = "/admin/sites/tuson/import" + ("/preview" if step == "preview" else "")
    reply = await client.post(path, data=data, allow_redirects=False)
    assert reply.status == 400
    page = await reply.text()
    if field == "form":
        assert message in html.unescape(page.split('id="f-form"')[1].split("</div>")[0])
    else:
        assert message in problem_of(page, field)
        assert "autofocus" in field_tag(page, field)
    assert (await ok(client, "GET", "/api/v1/sites/tuson/stats"))["views"]["total"] == 0
    assert [e["action"] for e in await audit(client, "tuson")] == ["settings"]


async def test_an_import_id_applied_with_other_figures_is_refused(client: Client) -> None:
    """Applying other figures under an import id already applied is refused (409), telling
    to start again, and adds nothing."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    form = {"csrf": csrf, "import_id": await import_page(client), "total_views": "100"}
    assert (await post(client, "/admin/sites/tuson/import", form))[0] == 303
    status, _, page = await post(client, "/admin/sites/tuson/import", form | {"total_views": "7"})
    assert status == 409
    assert "applied before with other figures" in html.unescape(page)
    assert (await ok(client, "GET", "/api/v1/sites/tuson/stats"))["views"]["total"] == 100


async def test_the_forms_of_an_unknown_site_are_error_pages(client: Client) -> None:
    """The forms of an unknown site are 404 pages, of an invalid id 400, never a 500."""
    await sign_in(client)
    for path in ("/admin/sites/nosuch/settings", "/admin/sites/nosuch/import"):
        reply = await client.get(path)
        assert reply.status == 404
        assert reply.content_type == "text/html"
    assert (await client.get("/admin/sites/Not!A!Site/tokens")).status == 400


async def test_days_older_than_kept_count_in_the_total_only(client: Client) -> None:
    """The preview says which days are older than the store keeps days: they add to the
    total and to no window, as the import then writes them."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    csrf = await sign_in(client)
    days = "date,views,visits\n2020-01-01,40,20\n2026-11-25,3,2\n"
    form = {"csrf": csrf, "import_id": await import_page(client), "days": days}
    page = await (await client.post("/admin/sites/tuson/import/preview", data=form)).text()
    assert "Days added: 2, from Jan 1, 2020 to Nov 25, 2026." in page
    assert "1 of them are older than statsvc keeps days" in page
    assert after(page)["views.total"] == 43
    assert after(page)["views.month"] == 3
    assert (await post(client, "/admin/sites/tuson/import", carried(page)))[0] == 303
    counts = await ok(client, "GET", "/api/v1/sites/tuson/stats")
    assert (counts["views"]["total"], counts["views"]["month"]) == (43, 3)


async def test_an_import_form_past_its_limit_is_refused_whole(client: Client) -> None:
    """An import form larger than 4 MiB is a 413 page, and imports nothing."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    rows = "".join(f"2026-11-{n % 25 + 1:02d},1,1\n" for n in range(300_000))
    form = {"csrf": csrf, "import_id": await import_page(client), "days": "date,views,visits\n"}
    reply = await client.post("/admin/sites/tuson/import/preview", data=form | {"days": rows})
    assert reply.status == 413
    assert reply.content_type == "text/html"
    assert (await ok(client, "GET", "/api/v1/sites/tuson/stats"))["views"]["total"] == 0


def switch_links(page: str) -> list[str]:
    """Return the hrefs of the page's language switch."""
    nav = page.split('<nav class="languages"')[1].split("</nav>")[0] if "languages" in page else ""
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', nav)]


async def test_the_switch_of_a_posted_page_opens_its_form_page(client: Client) -> None:
    """The language switch of a reply to a post (the import's preview, a new token) links
    to the form's page by GET (a link cannot post again): each opens (200)."""
    await put_site(client, "tuson", {"name": "Tú Sơn"})
    csrf = await sign_in(client)
    form = {"csrf": csrf, "import_id": await import_page(client), "total_views": "5"}
    replies = [
        await client.post("/admin/sites/tuson/import/preview", data=form),
        await client.post("/admin/sites/tuson/tokens", data={"csrf": csrf}),
    ]
    for reply, page_path in zip(
        replies, ("/admin/sites/tuson/import", "/admin/sites/tuson/tokens"), strict=True
    ):
        assert reply.status == 200
        links = switch_links(await reply.text())
        assert sorted(links) == [f"{page_path}?lang=en", f"{page_path}?lang=vi"]
        for link in links:
            assert (await client.get(link)).status == 200, link


async def test_the_token_list_dates_in_the_sites_zone(client: Client) -> None:
    """The token list writes when each token was made in the site's time zone, as the
    page's language writes dates (as the audit trail does), not as raw ISO UTC."""
    await put_site(client, "tuson", {"name": "Tú Sơn", "timezone": "Asia/Ho_Chi_Minh"})
    csrf = await sign_in(client)
    await client.post("/admin/sites/tuson/tokens", data={"csrf": csrf})
    [made] = (await ok(client, "GET", "/api/v1/sites/tuson/tokens"))["tokens"]
    listing = await (await client.get("/admin/sites/tuson/tokens")).text()
    token = i18n.use("en")
    try:
        shown = i18n.moment(
            datetime.fromisoformat(made["created_at"]), ZoneInfo("Asia/Ho_Chi_Minh")
        )
    finally:
        i18n.reset(token)
    assert f'<td class="when">{html.escape(shown)}</td>' in listing
    assert "(UTC)" not in listing
    assert made["created_at"].replace("T", " ").replace("Z", "") not in listing
