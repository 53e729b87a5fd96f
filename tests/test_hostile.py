"""Hostile requests (issue 6, "bad input"): each is a 4xx error in the project's shape or is
served normally, none is a 5xx or a traceback, and none changes a count it should not."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request

from tests.conftest import admin

Client = TestClient[Request, Application]
Json = dict[str, Any]

HIT, PING, COUNTS, BADGE = "/api/v1/hit", "/api/v1/ping", "/api/v1/counts", "/api/v1/badge.svg"
SITES = "/api/v1/sites"
TEXT = {"Content-Type": "text/plain;charset=UTF-8"}  # what the widget's beacon sends
JSON_TYPE = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADMIN = admin()
SITE_TOKEN = "site-token"  # stands for a read-only token of `walled`, made for each test
WALLED = "walled"  # a site that lists its domains: a forged Origin is refused there
SNAPSHOT_SITES = ("demo", WALLED)
LONG = "a" * 500


@dataclass(frozen=True)
class Effect:
    """What a request may change: one counted view of a page, or one refused hit."""

    site: str
    path: str | None = None  # the page of a counted view
    refused: str | None = None  # the reason of a refused hit


def counted(path: str, site: str = "demo") -> Effect:
    """One view of `path` on `site` is counted."""
    return Effect(site, path=path)


def refused(reason: str, site: str = WALLED) -> Effect:
    """One hit on `site` is refused for `reason` (it shows in the refused-hit report)."""
    return Effect(site, refused=reason)


def body(**fields: object) -> str:
    """Return a hit body for the demo site with `fields` (site overridable)."""
    return json.dumps({"site": "demo", **fields})


def case(
    name: str,
    method: str,
    url: str,
    status: int,
    code: str | None = None,
    *,
    data: str | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    effect: Effect | None = None,
) -> Any:
    """One row of the table: the request and what it must answer and change."""
    return pytest.param(method, url, dict(headers or {}), data, status, code, effect, id=name)


NESTED = b'{"site": "demo", "path": "/", "title": ' + b"[" * 3000 + b"]" * 3000 + b"}"
CASES = [
    # -- empty and non-JSON bodies
    case("hit-empty-body", "POST", HIT, 400, "empty_body", data=b"", headers=TEXT),
    case("ping-whitespace-body", "POST", PING, 400, "empty_body", data=b" \r\n\t", headers=TEXT),
    case("hit-form-encoded-as-text", "POST", HIT, 400, "invalid_json", data=b"site=demo&path=/"),
    case("hit-json-array", "POST", HIT, 400, "invalid_json", data=b'[{"site": "demo"}]'),
    case("hit-json-string", "POST", HIT, 400, "invalid_json", data=b'"demo"', headers=JSON_TYPE),
    case("hit-json-null", "POST", HIT, 400, "invalid_json", data=b"null", headers=TEXT),
    case("hit-trailing-garbage", "POST", HIT, 400, "invalid_json", data=body(path="/") + "}{"),
    case(
        "hit-bom", "POST", HIT, 400, "invalid_json", data=b"\xef\xbb\xbf" + body(path="/").encode()
    ),
    case("hit-utf-16", "POST", HIT, 400, "invalid_json", data=body(path="/").encode("utf-16")),
    case("hit-deeply-nested-title", "POST", HIT, 400, "invalid_json", data=NESTED, headers=TEXT),
    # -- wrong types
    case("hit-site-number", "POST", HIT, 400, "invalid_site", data=body(site=7, path="/")),
    case("hit-site-null", "POST", HIT, 400, "missing_site", data=body(site=None, path="/")),
    case("hit-site-list", "POST", HIT, 400, "invalid_site", data=body(site=["demo"], path="/")),
    case("hit-path-number", "POST", HIT, 400, "invalid_path", data=body(path=1)),
    case("hit-path-bool", "POST", HIT, 400, "invalid_path", data=body(path=True)),
    case("hit-url-object", "POST", HIT, 400, "invalid_url", data=body(url={"href": "/"})),
    case("hit-no-url-or-path", "POST", HIT, 400, "missing_url", data=body(title="x")),
    case("hit-id-number", "POST", HIT, 400, "invalid_id", data=body(path="/", id=12345678)),
    case("hit-id-too-short", "POST", HIT, 400, "invalid_id", data=body(path="/", id="abc")),
    case("hit-id-with-colon", "POST", HIT, 400, "invalid_id", data=body(path="/", id="abc:defgh")),
    case("ping-path-null-and-no-url", "POST", PING, 400, "missing_url", data=body(path=None)),
    # -- NaN, infinities and numbers where none belong
    case(
        "hit-id-NaN", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","path":"/","id":NaN}'
    ),
    case(
        "hit-id-infinity", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","id":-Infinity}'
    ),
    case("hit-huge-number", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","path":1e999}'),
    case("hit-negative-site", "POST", HIT, 400, "invalid_site", data=body(site=-1, path="/")),
    # -- invalid UTF-8 and control characters
    case(
        "hit-latin-1-bytes", "POST", HIT, 400, "invalid_json", data=b'{"site":"d\xe9mo","path":"/"}'
    ),
    case(
        "ping-truncated-utf-8",
        "POST",
        PING,
        400,
        "invalid_json",
        data=b'{"site":"demo","path":"/\xe1\xba"}',
    ),
    case("hit-path-bell", "POST", HIT, 400, "invalid_path", data=body(path="/a\u0007b")),
    case("hit-path-newline", "POST", HIT, 400, "invalid_path", data=body(path="/a\nSet-Cookie: x")),
    case("hit-url-escaped-newline", "POST", HIT, 400, "invalid_path", data=body(path="/a%0d%0ab")),
    case(
        "hit-site-with-newline",
        "POST",
        HIT,
        400,
        "invalid_site",
        data=body(site="demo\n", path="/"),
    ),
    case("hit-url-del-char", "POST", HIT, 400, "invalid_url", data=body(url="https://x.vn/\x7f")),
    # -- javascript: and data: URLs, and other schemes
    case(
        "hit-javascript-url", "POST", HIT, 400, "invalid_url", data=body(url="javascript:alert(1)")
    ),
    case(
        "hit-javascript-mixed-case",
        "POST",
        HIT,
        400,
        "invalid_url",
        data=body(url=" JaVaScRiPt:alert(1)//"),
    ),
    case(
        "hit-data-url",
        "POST",
        HIT,
        400,
        "invalid_url",
        data=body(url="data:text/html,<script>alert(1)</script>"),
    ),
    case("hit-file-url", "POST", HIT, 400, "invalid_url", data=body(url="file:///etc/passwd")),
    case("hit-url-without-host", "POST", HIT, 400, "invalid_url", data=body(url="https:///a")),
    case(
        "hit-url-odd-port-counts-its-page",
        "POST",
        HIT,
        200,
        data=body(url="http://x.vn:99999999/a"),
        effect=counted("/a"),
    ),
    case("hit-url-bad-ipv6", "POST", HIT, 400, "invalid_url", data=body(url="http://[::1/a")),
    case(
        "hit-javascript-path",
        "POST",
        HIT,
        400,
        "invalid_path",
        data=body(path="javascript:alert(1)"),
    ),
    # -- oversized paths and titles
    case("hit-path-over-2048", "POST", HIT, 400, "invalid_path", data=body(path="/" + "a" * 2048)),
    case(
        "ping-path-over-512-bytes",
        "POST",
        PING,
        400,
        "path_too_long",
        data=body(path="/" + "ạ" * 200),
    ),
    case(
        "hit-dot-segments-over-512",
        "POST",
        HIT,
        400,
        "path_too_long",
        data=body(path="/a/.." * 100 + "/" + "b" * 600),
    ),
    case(
        "hit-title-7-kib-ignored",
        "POST",
        HIT,
        200,
        data=body(path="/t", title="t" * 7000),
        effect=counted("/t"),
    ),
    case(
        "hit-title-control-chars-ignored",
        "POST",
        HIT,
        200,
        data=body(path="/t", title="\u0000\u001b[31m"),
        effect=counted("/t"),
    ),
    case(
        "hit-title-over-8-kib",
        "POST",
        HIT,
        413,
        "body_too_large",
        data=body(path="/t", title="t" * 9000),
    ),
    case(
        "badge-title-too-long", "GET", f"{BADGE}?site=demo&title={'t' * 300}", 400, "invalid_title"
    ),
    case(
        "badge-path-too-long", "GET", f"{BADGE}?site=demo&path=/{'p' * 2100}", 400, "invalid_path"
    ),
    case(
        "counts-path-over-512-bytes",
        "GET",
        f"{COUNTS}?site=demo&path=/{'p' * 600}",
        400,
        "path_too_long",
    ),
    # -- invalid site ids, in bodies, queries and URLs
    case("hit-site-dot-dot", "POST", HIT, 400, "invalid_site", data=body(site="../x", path="/")),
    case("hit-site-hash-tag", "POST", HIT, 400, "invalid_site", data=body(site="{a}", path="/")),
    case("hit-site-star", "POST", HIT, 400, "invalid_site", data=body(site="*", path="/")),
    case("hit-site-500-chars", "POST", HIT, 400, "invalid_site", data=body(site=LONG, path="/")),
    case("hit-site-upper-case", "POST", HIT, 400, "invalid_site", data=body(site="DEMO", path="/")),
    case("counts-site-dot-dot", "GET", f"{COUNTS}?site=../x", 400, "invalid_site"),
    case("counts-site-star", "GET", f"{COUNTS}?site=*", 400, "invalid_site"),
    case("counts-site-empty", "GET", f"{COUNTS}?site=", 400, "invalid_site"),
    case("counts-first-site-wins", "GET", f"{COUNTS}?site=demo&site=*", 200),
    case("badge-site-hash-tag", "GET", f"{BADGE}?site=%7Ba%7D", 400, "invalid_site"),
    case("badge-site-500-chars", "GET", f"{BADGE}?site={LONG}", 400, "invalid_site"),
    case("badge-no-site", "GET", BADGE, 400, "invalid_site"),
    case(
        "admin-site-dot-dot-escaped", "GET", f"{SITES}/..%2Fx", 400, "invalid_site", headers=ADMIN
    ),
    case(
        "admin-site-hash-tag-no-route",
        "GET",
        f"{SITES}/%7Ba%7D/stats",
        404,
        "not_found",
        headers=ADMIN,
    ),
    case("admin-site-star", "GET", f"{SITES}/*/export", 400, "invalid_site", headers=ADMIN),
    case(
        "admin-site-500-chars",
        "PUT",
        f"{SITES}/{LONG}",
        400,
        "invalid_site",
        data=b"{}",
        headers=ADMIN,
    ),
    case("admin-tokens-site-star", "POST", f"{SITES}/*/tokens", 400, "invalid_site", headers=ADMIN),
    # -- duplicate keys: the last one wins, as in browsers' JSON.parse
    case(
        "hit-duplicate-site-last-unknown",
        "POST",
        HIT,
        404,
        "unknown_site",
        data=b'{"site":"demo","site":"nosuch","path":"/"}',
    ),
    case(
        "hit-duplicate-site-last-valid",
        "POST",
        HIT,
        200,
        data=b'{"site":"nosuch","site":"demo","path":"/d"}',
        effect=counted("/d"),
    ),
    case(
        "hit-duplicate-path",
        "POST",
        HIT,
        200,
        data=b'{"site":"demo","path":"x","path":"/d"}',
        effect=counted("/d"),
    ),
    case(
        "put-duplicate-key-last-invalid",
        "PUT",
        f"{SITES}/demo",
        400,
        "invalid_setting",
        data=b'{"online_window":60,"online_window":-1}',
        headers=ADMIN,
    ),
    # -- wrong methods
    case("hit-get", "GET", HIT, 405, "method_not_allowed"),
    case("hit-patch", "PATCH", HIT, 405, "method_not_allowed", data=body(path="/")),
    case("ping-delete", "DELETE", PING, 405, "method_not_allowed"),
    case("counts-post", "POST", COUNTS, 405, "method_not_allowed", data=body(path="/")),
    case("badge-post", "POST", f"{BADGE}?site=demo", 405, "method_not_allowed"),
    case("badge-head-counts-nothing", "HEAD", f"{BADGE}?site=demo", 405),
    case("sites-put-on-list", "PUT", SITES, 405, "method_not_allowed", data=b"{}", headers=ADMIN),
    case("import-get", "GET", f"{SITES}/demo/import", 405, "method_not_allowed", headers=ADMIN),
    case("export-post", "POST", f"{SITES}/demo/export", 405, "method_not_allowed", headers=ADMIN),
    # -- forged Origin, Referer and X-Forwarded-For
    case(
        "hit-forged-origin-open-site",
        "POST",
        HIT,
        200,
        data=body(path="/o"),
        headers={"Origin": "https://evil.example"},
        effect=counted("/o"),
    ),
    case(
        "hit-forged-origin-walled-site",
        "POST",
        HIT,
        200,
        data=body(site=WALLED, path="/o"),
        headers={"Origin": "https://evil.example"},
        effect=refused("origin"),
    ),
    case(
        "hit-null-origin-walled-site",
        "POST",
        HIT,
        200,
        data=body(site=WALLED, path="/o"),
        headers={"Origin": "null"},
        effect=refused("origin"),
    ),
    case(
        "hit-lookalike-origin-walled-site",
        "POST",
        HIT,
        200,
        data=body(site=WALLED, path="/o"),
        headers={"Origin": "https://tuson.example.vn.evil.example"},
        effect=refused("origin"),
    ),
    case(
        "hit-javascript-referer-walled-site",
        "POST",
        HIT,
        200,
        data=body(site=WALLED, path="/o"),
        headers={"Referer": "javascript:alert(1)"},
        effect=refused("origin"),
    ),
    case(
        "hit-forged-x-forwarded-for",
        "POST",
        HIT,
        200,
        data=body(path="/x"),
        headers={"X-Forwarded-For": "203.0.113.9"},
        effect=counted("/x"),
    ),
    case(
        "hit-garbage-x-forwarded-for",
        "POST",
        HIT,
        200,
        data=body(path="/x"),
        headers={"X-Forwarded-For": "' OR 1=1 --, ::1, " + "9.9.9.9," * 500},
        effect=counted("/x"),
    ),
    case(
        "badge-javascript-referer",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "javascript:alert(1)"},
        effect=counted("/"),
    ),
    case(
        "ping-forged-origin-walled-site",
        "POST",
        PING,
        200,
        data=body(site=WALLED, path="/o"),
        headers={"Origin": "https://evil.example"},
    ),
    # -- large headers that aiohttp still reads (the ones it refuses: test_bad_http_is_4xx)
    case(
        "hit-user-agent-8-kib",
        "POST",
        HIT,
        200,
        data=body(path="/u"),
        headers={"User-Agent": "u" * 8000},
        effect=counted("/u"),
    ),
    case(
        "admin-authorization-8-kib",
        "GET",
        SITES,
        401,
        "unauthorized",
        headers={"Authorization": "Bearer " + "x" * 8000},
    ),
    case(
        "hit-content-length-lies-short",
        "POST",
        HIT,
        400,
        "invalid_json",
        data=body(path="/"),
        headers={"Content-Length": "5"},
    ),
    # -- the badge's own options
    case("badge-count-maybe", "GET", f"{BADGE}?site=demo&count=maybe", 400, "invalid_count"),
    case("badge-pad-negative", "GET", f"{BADGE}?site=demo&pad=-1&count=0", 400, "invalid_pad"),
    case(
        "badge-theme-javascript",
        "GET",
        f"{BADGE}?site=demo&theme=javascript:x",
        400,
        "invalid_theme",
    ),
    case(
        "badge-rows-unknown",
        "GET",
        f"{BADGE}?site=demo&rows=online,%3Cscript%3E",
        400,
        "invalid_rows",
    ),
    case("badge-path-not-utf-8", "GET", f"{BADGE}?site=demo&path=/%25FF", 400, "invalid_path"),
    case(
        "counts-path-escaped-newline", "GET", f"{COUNTS}?site=demo&path=/%250a", 400, "invalid_path"
    ),
    case(
        "audit-limit-huge",
        "GET",
        f"{SITES}/demo/audit?limit=99999999999",
        400,
        "invalid_limit",
        headers=ADMIN,
    ),
    case("badge-relative-path", "GET", f"{BADGE}?site=demo&path=..%2Fetc", 400, "invalid_path"),
    # -- the admin API without, or with the wrong, token
    case("sites-no-token", "GET", SITES, 401, "unauthorized"),
    case(
        "sites-basic-auth",
        "GET",
        SITES,
        401,
        "unauthorized",
        headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    case(
        "sites-bearer-empty",
        "GET",
        SITES,
        401,
        "unauthorized",
        headers={"Authorization": "Bearer "},
    ),
    case(
        "import-no-token",
        "POST",
        f"{SITES}/demo/import",
        401,
        "unauthorized",
        data=b'{"import_id":"x","total":{"views":9,"visits":9}}',
    ),
    case("export-no-token", "GET", f"{SITES}/demo/export", 401, "unauthorized"),
    case("tokens-no-token", "POST", f"{SITES}/demo/tokens", 401, "unauthorized"),
    case("put-no-token", "PUT", f"{SITES}/demo", 401, "unauthorized", data=b'{"online_window":60}'),
    case(
        "site-token-on-other-site",
        "GET",
        f"{SITES}/demo/stats",
        403,
        "forbidden",
        headers={"Authorization": f"Bearer {SITE_TOKEN}"},
    ),
    case(
        "site-token-import",
        "POST",
        f"{SITES}/{WALLED}/import",
        403,
        "forbidden",
        data=b'{"import_id":"x","total":{"views":9,"visits":9}}',
        headers={"Authorization": f"Bearer {SITE_TOKEN}"},
    ),
    case(
        "site-token-makes-token",
        "POST",
        f"{SITES}/{WALLED}/tokens",
        403,
        "forbidden",
        headers={"Authorization": f"Bearer {SITE_TOKEN}"},
    ),
    # -- the admin API with the token and bad input
    case("import-empty-body", "POST", f"{SITES}/demo/import", 400, None, data=b"", headers=ADMIN),
    case(
        "import-array",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_json",
        data=b"[]",
        headers=ADMIN,
    ),
    case(
        "import-deeply-nested",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_json",
        data=b'{"a":' * 100_000,
        headers=ADMIN,
    ),
    case(
        "import-not-utf-8",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_json",
        data=b'{"import_id":"\xff"}',
        headers=ADMIN,
    ),
    case(
        "import-negative-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":-5,"visits":0}}',
        headers=ADMIN,
    ),
    case(
        "import-NaN-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":NaN,"visits":0}}',
        headers=ADMIN,
    ),
    case(
        "import-float-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":1.5,"visits":0}}',
        headers=ADMIN,
    ),
    case(
        "import-huge-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":1e400,"visits":0}}',
        headers=ADMIN,
    ),
    case(
        "import-bool-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":true,"visits":true}}',
        headers=ADMIN,
    ),
    case(
        "import-bad-date",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_date",
        data=b'{"import_id":"x","days":[{"date":"2026-02-30","views":1,"visits":1}]}',
        headers=ADMIN,
    ),
    case(
        "import-visits-over-views",
        "POST",
        f"{SITES}/demo/import",
        400,
        "invalid_import",
        data=b'{"import_id":"x","total":{"views":1,"visits":2}}',
        headers=ADMIN,
    ),
    case(
        "import-unknown-site",
        "POST",
        f"{SITES}/nosuch/import",
        404,
        "unknown_site",
        data=b"{}",
        headers=ADMIN,
    ),
    case(
        "put-negative-online-window",
        "PUT",
        f"{SITES}/demo",
        400,
        "invalid_setting",
        data=b'{"online_window":-300}',
        headers=ADMIN,
    ),
    case(
        "put-timezone-traversal",
        "PUT",
        f"{SITES}/demo",
        400,
        "invalid_setting",
        data=b'{"timezone":"../../../etc/passwd"}',
        headers=ADMIN,
    ),
    case(
        "put-domains-javascript",
        "PUT",
        f"{SITES}/demo",
        400,
        "invalid_setting",
        data=b'{"domains":["javascript:alert(1)"]}',
        headers=ADMIN,
    ),
    case(
        "put-name-object",
        "PUT",
        f"{SITES}/demo",
        400,
        "invalid_setting",
        data=b'{"name":{"$gt":""}}',
        headers=ADMIN,
    ),
    case("put-empty-body-on-existing", "PUT", f"{SITES}/demo", 200, data=b"", headers=ADMIN),
    case(
        "pages-limit-negative",
        "GET",
        f"{SITES}/demo/pages?limit=-1",
        400,
        "invalid_limit",
        headers=ADMIN,
    ),
    case(
        "pages-limit-NaN",
        "GET",
        f"{SITES}/demo/pages?limit=NaN",
        400,
        "invalid_limit",
        headers=ADMIN,
    ),
    case(
        "pages-limit-unicode-digits",
        "GET",
        f"{SITES}/demo/pages?limit=%D9%A3",
        400,
        "invalid_limit",
        headers=ADMIN,
    ),
    case(
        "pages-window-unknown",
        "GET",
        f"{SITES}/demo/pages?window=forever",
        400,
        "invalid_window",
        headers=ADMIN,
    ),
    case(
        "series-bad-month",
        "GET",
        f"{SITES}/demo/series?from=2026-13-01",
        400,
        "invalid_date",
        headers=ADMIN,
    ),
    case(
        "series-negative-year",
        "GET",
        f"{SITES}/demo/series?from=-001-01-01",
        400,
        "invalid_date",
        headers=ADMIN,
    ),
    case(
        "series-reversed",
        "GET",
        f"{SITES}/demo/series?from=2026-11-02&to=2026-11-01",
        400,
        "invalid_range",
        headers=ADMIN,
    ),
    case(
        "revoke-unknown-token",
        "DELETE",
        f"{SITES}/demo/tokens/{LONG}",
        404,
        "unknown_token",
        headers=ADMIN,
    ),
    # -- the dashboard's forms: HTML errors by design
    case("admin-login-json", "POST", "/admin/login", 415, data=b'{"token":"x"}', headers=JSON_TYPE),
    case("admin-login-no-csrf", "POST", "/admin/login", 403, data=b"token=x", headers=FORM),
    case(
        "admin-login-not-utf-8",
        "POST",
        "/admin/login",
        403,
        data=b"token=%FF%FE&csrf=%C0",
        headers=FORM,
    ),
    case(
        "admin-login-over-64-kib",
        "POST",
        "/admin/login",
        413,
        data=b"token=" + b"x" * 70_000,
        headers=FORM,
    ),
    case(
        "admin-login-multipart",
        "POST",
        "/admin/login",
        415,
        data=b"--x--",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    ),
    case("admin-logout-no-session", "POST", "/admin/logout", 303, data=b"csrf=x", headers=FORM),
    case("dashboard-site-hash-tag-no-route", "GET", "/admin/sites/%7Ba%7D", 404),
    case("dashboard-site-star-no-session", "GET", "/admin/sites/*", 303),
    case("admin-post-to-page", "POST", "/admin", 405, data=b"x=1", headers=FORM),
]


def _html_page(text: str) -> bool:
    return text.lstrip().lower().startswith("<!doctype html")


@pytest.fixture
async def site_token(client: Client) -> str:
    """Create `walled` (which lists its domains) and return a read-only token of it."""
    response = await client.put(
        f"{SITES}/{WALLED}", json={"domains": ["tuson.example.vn"]}, headers=ADMIN
    )
    assert response.status == 201, await response.text()
    response = await client.post(f"{SITES}/{WALLED}/tokens", headers=ADMIN)
    assert response.status == 201, await response.text()
    token: str = (await response.json())["token"]
    return token


async def snapshot(client: Client) -> Json:
    """Return every figure a request could change: the sites, and each one's counts, online
    figure, refused-hit report and page totals."""
    response = await client.get(SITES, headers=ADMIN)
    figures: Json = {"sites": (await response.json())["sites"]}
    for site in SNAPSHOT_SITES:
        stats = await (await client.get(f"{SITES}/{site}/stats", headers=ADMIN)).json()
        pages = await (
            await client.get(f"{SITES}/{site}/pages?window=total&limit=100", headers=ADMIN)
        ).json()
        figures[site] = {
            "views": stats["views"],
            "visits": stats["visits"],
            "online": stats["online"],
            "rejected": stats["rejected"],
            "pages": {page["path"]: page["views"] for page in pages["pages"]},
        }
    return figures


def expected(before: Json, effect: Effect | None) -> Json:
    """Return the snapshot after `effect`: a counted view is +1 in every window of views and
    (a first visitor) visits, online and its page; a refused hit +1 in the report only."""
    after: Json = copy.deepcopy(before)
    if effect is None:
        return after
    figures = after[effect.site]
    windows = ("today", "week", "month", "total")
    if effect.path is not None:
        for metric in ("views", "visits"):
            for window in windows:
                figures[metric][window] += 1
        figures["online"] = 1
        figures["pages"][effect.path] = figures["pages"].get(effect.path, 0) + 1
    if effect.refused is not None:
        for window in ("today", "week", "month"):
            figures["rejected"][window][effect.refused] += 1
    return after


@pytest.mark.parametrize(("method", "url", "headers", "data", "status", "code", "effect"), CASES)
async def test_hostile_request_is_answered_without_5xx_and_counts_only_as_stated(
    client: Client,
    site_token: str,
    method: str,
    url: str,
    headers: dict[str, str],
    data: str | bytes | None,
    status: int,
    code: str | None,
    effect: Effect | None,
) -> None:
    """Each hostile request gets its stated status (a 4xx in the error shape, or served
    normally), never a 5xx or a traceback, and changes no count but the one stated."""
    if headers.get("Authorization") == f"Bearer {SITE_TOKEN}":
        headers = {**headers, "Authorization": f"Bearer {site_token}"}
    before = await snapshot(client)
    response = await client.request(
        method, url, data=data, headers={**TEXT, **headers}, allow_redirects=False
    )
    text = await response.text(errors="replace")
    assert response.status == status, text[:500]
    assert "Traceback" not in text
    if url.startswith("/admin"):
        if status >= 400:
            assert response.content_type == "text/html"
            assert _html_page(text)
    elif status >= 400 and method != "HEAD":
        assert response.content_type == "application/json", text[:500]
        reply = json.loads(text)
        assert set(reply) == {"error"}
        assert set(reply["error"]) == {"code", "message"}
        assert isinstance(reply["error"]["message"], str)
        assert reply["error"]["message"]
        if code is not None:
            assert reply["error"]["code"] == code
    assert await snapshot(client) == expected(before, effect)


def test_the_table_has_at_least_60_distinct_cases() -> None:
    """The hostile table holds at least 60 cases, each with its own id."""
    ids = [param.id for param in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)
