"""Hostile requests (issue 6, "bad input"): each is a 4xx error in the project's shape or is
served normally, none is a 5xx or a traceback, and none changes a count it should not."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.__main__ import parser
from statsvc.app import create_app
from statsvc.core.site import SettingsError
from statsvc.settings import Settings, settings_from
from tests.helpers import (
    BEACON,
    COUNTS,
    HIT,
    PING,
    Client,
    FakeClock,
    Json,
    admin,
    on_demo,
    site_with_token,
)

BADGE = "/api/v1/badge.svg"
SITES = "/api/v1/sites"
JSON_TYPE = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADMIN = admin()
SITE_TOKEN = "site-token"  # stands for a read-only token of `walled`, made for each test
WALLED = "walled"  # a site that lists its domains: a forged Origin is refused there
SNAPSHOT_SITES = ("demo", WALLED)
LONG = "a" * 500
# invisible characters of a path, percent-encoded as a browser sends them, and raw
INVISIBLE_FORMS = [
    ("escaped-rlo", "%E2%80%AE"),  # U+202E RIGHT-TO-LEFT OVERRIDE
    ("escaped-zero-width-space", "%E2%80%8B"),
    ("escaped-bom", "%EF%BB%BF"),
    ("escaped-lrm", "%E2%80%8E"),
    ("escaped-line-separator", "%E2%80%A8"),
    ("escaped-soft-hyphen", "%C2%AD"),
    ("escaped-tag-character", "%F3%A0%80%81"),  # U+E0001 LANGUAGE TAG
    ("rlo", "\u202e"),
    ("zero-width-joiner", "\u200d"),
    ("paragraph-separator", "\u2029"),
]


@dataclass(frozen=True)
class Effect:
    """What a request may change: one counted view of a page, or one refused hit."""

    site: str
    path: str | None = None  # the page of a counted view ("": of no page)
    refused: str | None = None  # the reason of a refused hit


def counted(path: str, site: str = "demo") -> Effect:
    """One view of `path` on `site` is counted."""
    return Effect(site, path=path)


def refused(reason: str, site: str = WALLED) -> Effect:
    """One hit on `site` is refused for `reason` (it shows in the refused-hit report)."""
    return Effect(site, refused=reason)


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
    case("hit-empty-body", "POST", HIT, 400, "empty_body", data=b"", headers=BEACON),
    case("ping-whitespace-body", "POST", PING, 400, "empty_body", data=b" \r\n\t", headers=BEACON),
    case("hit-form-encoded-as-text", "POST", HIT, 400, "invalid_json", data=b"site=demo&path=/"),
    case("hit-json-array", "POST", HIT, 400, "invalid_json", data=b'[{"site": "demo"}]'),
    case("hit-json-string", "POST", HIT, 400, "invalid_json", data=b'"demo"', headers=JSON_TYPE),
    case("hit-json-null", "POST", HIT, 400, "invalid_json", data=b"null", headers=BEACON),
    case("hit-trailing-garbage", "POST", HIT, 400, "invalid_json", data=on_demo(path="/") + "}{"),
    case(
        "hit-bom",
        "POST",
        HIT,
        400,
        "invalid_json",
        data=b"\xef\xbb\xbf" + on_demo(path="/").encode(),
    ),
    case("hit-utf-16", "POST", HIT, 400, "invalid_json", data=on_demo(path="/").encode("utf-16")),
    case("hit-deeply-nested-title", "POST", HIT, 400, "invalid_json", data=NESTED, headers=BEACON),
    # -- wrong types
    case("hit-site-number", "POST", HIT, 400, "invalid_site", data=on_demo(site=7, path="/")),
    case("hit-site-null", "POST", HIT, 400, "missing_site", data=on_demo(site=None, path="/")),
    case("hit-site-list", "POST", HIT, 400, "invalid_site", data=on_demo(site=["demo"], path="/")),
    case("hit-path-number", "POST", HIT, 400, "invalid_path", data=on_demo(path=1)),
    case("hit-path-bool", "POST", HIT, 400, "invalid_path", data=on_demo(path=True)),
    case("hit-url-object", "POST", HIT, 400, "invalid_url", data=on_demo(url={"href": "/"})),
    case("hit-no-url-or-path", "POST", HIT, 400, "missing_url", data=on_demo(title="x")),
    case("hit-id-number", "POST", HIT, 400, "invalid_id", data=on_demo(path="/", id=12345678)),
    case("hit-id-too-short", "POST", HIT, 400, "invalid_id", data=on_demo(path="/", id="abc")),
    case(
        "hit-id-with-colon", "POST", HIT, 400, "invalid_id", data=on_demo(path="/", id="abc:defgh")
    ),
    case("ping-path-null-and-no-url", "POST", PING, 400, "missing_url", data=on_demo(path=None)),
    # -- NaN, infinities and numbers where none belong
    case(
        "hit-id-NaN", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","path":"/","id":NaN}'
    ),
    case(
        "hit-id-infinity", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","id":-Infinity}'
    ),
    case("hit-huge-number", "POST", HIT, 400, "invalid_json", data=b'{"site":"demo","path":1e999}'),
    case("hit-negative-site", "POST", HIT, 400, "invalid_site", data=on_demo(site=-1, path="/")),
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
    case("hit-path-bell", "POST", HIT, 400, "invalid_path", data=on_demo(path="/a\u0007b")),
    case(
        "hit-path-newline", "POST", HIT, 400, "invalid_path", data=on_demo(path="/a\nSet-Cookie: x")
    ),
    case(
        "hit-url-escaped-newline", "POST", HIT, 400, "invalid_path", data=on_demo(path="/a%0d%0ab")
    ),
    case(
        "hit-site-with-newline",
        "POST",
        HIT,
        400,
        "invalid_site",
        data=on_demo(site="demo\n", path="/"),
    ),
    case(
        "hit-url-del-char", "POST", HIT, 400, "invalid_url", data=on_demo(url="https://x.vn/\x7f")
    ),
    # -- javascript: and data: URLs, and other schemes
    case(
        "hit-javascript-url",
        "POST",
        HIT,
        400,
        "invalid_url",
        data=on_demo(url="javascript:alert(1)"),
    ),
    case(
        "hit-javascript-mixed-case",
        "POST",
        HIT,
        400,
        "invalid_url",
        data=on_demo(url=" JaVaScRiPt:alert(1)//"),
    ),
    case(
        "hit-data-url",
        "POST",
        HIT,
        400,
        "invalid_url",
        data=on_demo(url="data:text/html,<script>alert(1)</script>"),
    ),
    case("hit-file-url", "POST", HIT, 400, "invalid_url", data=on_demo(url="file:///etc/passwd")),
    case("hit-url-without-host", "POST", HIT, 400, "invalid_url", data=on_demo(url="https:///a")),
    case(
        "hit-url-odd-port-counts-its-page",
        "POST",
        HIT,
        200,
        data=on_demo(url="http://x.vn:99999999/a"),
        effect=counted("/a"),
    ),
    case("hit-url-bad-ipv6", "POST", HIT, 400, "invalid_url", data=on_demo(url="http://[::1/a")),
    case(
        "hit-javascript-path",
        "POST",
        HIT,
        400,
        "invalid_path",
        data=on_demo(path="javascript:alert(1)"),
    ),
    # -- oversized paths and titles
    case(
        "hit-path-over-2048", "POST", HIT, 400, "invalid_path", data=on_demo(path="/" + "a" * 2048)
    ),
    case(
        "ping-path-over-512-bytes",
        "POST",
        PING,
        400,
        "path_too_long",
        data=on_demo(path="/" + "ạ" * 200),
    ),
    case(
        "hit-dot-segments-over-512",
        "POST",
        HIT,
        400,
        "path_too_long",
        data=on_demo(path="/a/.." * 100 + "/" + "b" * 600),
    ),
    case(
        "hit-title-7-kib-ignored",
        "POST",
        HIT,
        200,
        data=on_demo(path="/t", title="t" * 7000),
        effect=counted("/t"),
    ),
    case(
        "hit-title-control-chars-ignored",
        "POST",
        HIT,
        200,
        data=on_demo(path="/t", title="\u0000\u001b[31m"),
        effect=counted("/t"),
    ),
    case(
        "hit-title-over-8-kib",
        "POST",
        HIT,
        413,
        "body_too_large",
        data=on_demo(path="/t", title="t" * 9000),
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
    case("hit-site-dot-dot", "POST", HIT, 400, "invalid_site", data=on_demo(site="../x", path="/")),
    case("hit-site-hash-tag", "POST", HIT, 400, "invalid_site", data=on_demo(site="{a}", path="/")),
    case("hit-site-star", "POST", HIT, 400, "invalid_site", data=on_demo(site="*", path="/")),
    case("hit-site-500-chars", "POST", HIT, 400, "invalid_site", data=on_demo(site=LONG, path="/")),
    case(
        "hit-site-upper-case", "POST", HIT, 400, "invalid_site", data=on_demo(site="DEMO", path="/")
    ),
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
    case("hit-patch", "PATCH", HIT, 405, "method_not_allowed", data=on_demo(path="/")),
    case("ping-delete", "DELETE", PING, 405, "method_not_allowed"),
    case("counts-post", "POST", COUNTS, 405, "method_not_allowed", data=on_demo(path="/")),
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
        data=on_demo(path="/o"),
        headers={"Origin": "https://evil.example"},
        effect=counted("/o"),
    ),
    case(
        "hit-forged-origin-walled-site",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, path="/o"),
        headers={"Origin": "https://evil.example"},
        effect=refused("origin"),
    ),
    case(
        "hit-null-origin-walled-site",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, path="/o"),
        headers={"Origin": "null"},
        effect=refused("origin"),
    ),
    case(
        "hit-null-origin-url-on-the-wall",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, url="https://tuson.example.vn/o"),
        headers={"Origin": "null"},
        effect=refused("origin"),
    ),
    case(
        "hit-no-origin-url-on-the-wall",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, url="https://tuson.example.vn/o"),
        effect=refused("origin"),
    ),
    case(
        "ping-null-origin-url-on-the-wall",
        "POST",
        PING,
        200,
        data=on_demo(site=WALLED, url="https://tuson.example.vn/o"),
        headers={"Origin": "null"},
    ),
    case(
        "badge-walled-referer-on-the-wall",
        "GET",
        f"{BADGE}?site={WALLED}",
        200,
        headers={"Referer": "https://tuson.example.vn/b"},
        effect=counted("", site=WALLED),  # no path: the site's view, no page's
    ),
    case(
        "badge-walled-null-origin",
        "GET",
        f"{BADGE}?site={WALLED}&path=/b",
        200,
        headers={"Origin": "null", "Referer": "https://tuson.example.vn/b"},
        effect=refused("origin"),
    ),
    case(
        "badge-walled-no-referer",
        "GET",
        f"{BADGE}?site={WALLED}&path=/b",
        200,
        effect=refused("origin"),
    ),
    case(
        "hit-lookalike-origin-walled-site",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, path="/o"),
        headers={"Origin": "https://tuson.example.vn.evil.example"},
        effect=refused("origin"),
    ),
    case(
        "hit-javascript-referer-walled-site",
        "POST",
        HIT,
        200,
        data=on_demo(site=WALLED, path="/o"),
        headers={"Referer": "javascript:alert(1)"},
        effect=refused("origin"),
    ),
    case(
        "hit-forged-x-forwarded-for",
        "POST",
        HIT,
        200,
        data=on_demo(path="/x"),
        headers={"X-Forwarded-For": "203.0.113.9"},
        effect=counted("/x"),
    ),
    case(
        "hit-garbage-x-forwarded-for",
        "POST",
        HIT,
        200,
        data=on_demo(path="/x"),
        headers={"X-Forwarded-For": "' OR 1=1 --, ::1, " + "9.9.9.9," * 500},
        effect=counted("/x"),
    ),
    case(
        "badge-javascript-referer",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "javascript:alert(1)"},
        effect=counted(""),
    ),
    case(
        "ping-forged-origin-walled-site",
        "POST",
        PING,
        200,
        data=on_demo(site=WALLED, path="/o"),
        headers={"Origin": "https://evil.example"},
    ),
    # -- large headers that aiohttp still reads (the ones it refuses: test_bad_http_is_4xx)
    case(
        "hit-user-agent-8-kib",
        "POST",
        HIT,
        200,
        data=on_demo(path="/u"),
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
        data=on_demo(path="/"),
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
    case(
        "dashboard-4-kib-session-cookie",
        "GET",
        "/admin",
        303,
        headers={"Cookie": "statsvc_session=" + "s" * 4000},
    ),
    case(
        "dashboard-login-csrf-mismatch",
        "POST",
        "/admin/login",
        403,
        data=b"token=x&csrf=other",
        headers={**FORM, "Cookie": "statsvc_login=mine"},
    ),
    # -- a badge never reads its page from the Referer: whatever it says, without path the
    # view is the site's and no page's
    case(
        "badge-referer-escape-not-utf-8",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "https://x.vn/%FF"},
        effect=counted(""),
    ),
    case(
        "badge-referer-escaped-nul",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "https://x.vn/a%00"},
        effect=counted(""),
    ),
    case(
        "badge-referer-path-over-512-bytes",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "https://x.vn/" + "a" * 600},
        effect=counted(""),
    ),
    # -- invisible characters (format characters, line separators) make no page of their own
    *(
        case(f"hit-path-{name}", "POST", HIT, 400, "invalid_path", data=on_demo(path=f"/a{form}"))
        for name, form in INVISIBLE_FORMS
    ),
    case(
        "hit-path-raw-utf-8-rlo",
        "POST",
        HIT,
        400,
        "invalid_path",
        data='{"site": "demo", "path": "/a\u202eb"}'.encode(),
    ),
    case(
        "hit-url-raw-utf-8-line-separator",
        "POST",
        HIT,
        400,
        "invalid_path",
        data='{"site": "demo", "url": "https://x.vn/a\u2028b"}'.encode(),
    ),
    case(
        "hit-url-escaped-zero-width-space",
        "POST",
        HIT,
        400,
        "invalid_path",
        data=on_demo(url="https://x.vn/a%E2%80%8Bb"),
    ),
    case(
        "ping-path-escaped-bom", "POST", PING, 400, "invalid_path", data=on_demo(path="/a%EF%BB%BF")
    ),
    case("counts-path-rlo", "GET", f"{COUNTS}?site=demo&path=/a%E2%80%AE", 400, "invalid_path"),
    case(
        "counts-path-escaped-rlo",
        "GET",
        f"{COUNTS}?site=demo&path=/a%25E2%2580%25AE",
        400,
        "invalid_path",
    ),
    case("badge-path-lrm", "GET", f"{BADGE}?site=demo&path=/a%E2%80%8E", 400, "invalid_path"),
    case(
        "badge-referer-paragraph-separator",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "https://x.vn/a%E2%80%A9"},
        effect=counted(""),
    ),
    case(
        "badge-referer-dot-segments",
        "GET",
        f"{BADGE}?site=demo",
        200,
        headers={"Referer": "https://x.vn/a/../../b"},
        effect=counted(""),
    ),
]


def _html_page(text: str) -> bool:
    return text.lstrip().lower().startswith("<!doctype html")


@pytest.fixture
async def site_token(client: Client) -> str:
    """Create `walled` (which lists its domains) and return a read-only token of it."""
    return await site_with_token(client, WALLED, {"domains": ["tuson.example.vn"]})


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
        if effect.path:  # "": a view of the site and of no page (a badge without path)
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
        method, url, data=data, headers={**BEACON, **headers}, allow_redirects=False
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


# -- requests aiohttp refuses before any middleware runs -----------------------------------


@dataclass(frozen=True)
class RawReply:
    """A reply read off a socket."""

    status: int
    content_type: str
    body: bytes


async def exchange(client: Client, head: bytes, body: bytes = b"", chunks: int = 0) -> RawReply:
    """Send `head` then `body` (and `chunks` chunks of 64 KiB) byte for byte; return the
    reply, read within a few seconds whatever of the body the server left unread."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head + body)
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
        for _ in range(chunks):
            writer.write(chunk)
        async with asyncio.timeout(5):
            reply_head = await reader.readuntil(b"\r\n\r\n")
            lines = reply_head.decode("latin-1").split("\r\n")
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            reply_body = await reader.readexactly(int(fields.get("Content-Length", "0")))
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    content_type = fields.get("Content-Type", "").split(";")[0]
    return RawReply(int(lines[0].split()[1]), content_type, reply_body)


def request_head(method: str, path: str, *fields: bytes) -> bytes:
    """Return a request head with a Host header and `fields`."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: statsvc.test", *fields]
    return b"\r\n".join(lines) + b"\r\n\r\n"


HIT_BODY = b'{"site": "demo", "path": "/"}'
AIOHTTP_REFUSED = [
    pytest.param(b"GARBAGE\r\n\r\n", id="malformed-request-line"),
    pytest.param(request_head("BREW", HIT), id="unknown-method-token"),
    pytest.param(
        request_head("GET", "/api/v1/counts?site=demo", b"X-A: " + b"a" * 8191),
        id="header-line-over-8190-bytes",
    ),
    pytest.param(
        request_head("GET", "/api/v1/counts?site=" + "a" * 8200), id="request-line-over-8190-bytes"
    ),
    pytest.param(
        request_head("GET", COUNTS, *(b"X-%d: 1" % n for n in range(200))), id="too-many-headers"
    ),
    pytest.param(
        request_head("POST", HIT, b"Transfer-Encoding: chunked") + b"zz\r\n{}\r\n0\r\n\r\n",
        id="invalid-chunk-size",
    ),
    pytest.param(
        request_head("POST", HIT, b"Transfer-Encoding: chunked") + b"f" * 20 + b"\r\n",
        id="chunk-size-overflow",
    ),
    pytest.param(
        request_head("POST", HIT, b"Content-Length: 3", b"Transfer-Encoding: chunked")
        + b"0\r\n\r\n",
        id="content-length-and-chunked",
    ),
    pytest.param(
        request_head("POST", HIT, b"Content-Length: 29", b"Content-Length: 30") + HIT_BODY,
        id="two-content-lengths",
    ),
    pytest.param(request_head("POST", HIT, b"Content-Length: -1"), id="negative-content-length"),
    pytest.param(
        request_head("POST", HIT, b"Transfer-Encoding: gzip"), id="unknown-transfer-encoding"
    ),
    pytest.param(request_head("GET", COUNTS, b"X A: 1"), id="space-in-header-name"),
    pytest.param(request_head("GET", COUNTS, b"X-A: a\x00b"), id="nul-in-header-value"),
    pytest.param(request_head("GET", COUNTS, b"X-A: 1", b" folded"), id="obsolete-line-folding"),
    pytest.param(b"GET /api/v1/counts?site=demo HTTP/1.1\nHost: x\n\n", id="bare-line-feeds"),
    pytest.param(b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", id="unknown-http-version"),
    pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", id="http2-preface"),
    pytest.param(
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40, id="tls-on-plain-port"
    ),
]


@pytest.mark.parametrize("raw", AIOHTTP_REFUSED)
async def test_bad_http_is_4xx_without_a_traceback(
    client: Client, site_token: str, raw: bytes
) -> None:
    """A request aiohttp's parser refuses is its plain-text 400 (no hook exists to answer
    it in JSON), never a 5xx or a traceback, and changes no count."""
    before = await snapshot(client)
    reply = await exchange(client, raw)
    assert reply.status == 400
    assert reply.content_type == "text/plain"
    assert b"Traceback" not in reply.body
    assert await snapshot(client) == before


# -- huge bodies ---------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024
JSON_PUT = (
    b"Content-Type: application/json",
    b"Authorization: Bearer " + admin()["Authorization"][7:].encode(),
)
HUGE = [
    # (method, path, extra head fields, status when declared, status when chunked)
    pytest.param("POST", HIT, (b"Content-Type: text/plain",), 413, 413, id="hit"),
    pytest.param("POST", PING, (b"Content-Type: application/json",), 413, 413, id="ping"),
    pytest.param("GET", f"{COUNTS}?site=demo", (), 413, 200, id="counts-reads-no-body"),
    pytest.param("GET", f"{BADGE}?site=demo&count=0", (), 413, 200, id="badge-reads-no-body"),
    pytest.param("PUT", f"{SITES}/demo", JSON_PUT, 413, 413, id="put-site"),
    pytest.param("POST", f"{SITES}/demo/tokens", JSON_PUT, 413, 201, id="tokens-reads-no-body"),
    pytest.param(
        "POST",
        "/admin/login",
        (b"Content-Type: application/x-www-form-urlencoded",),
        413,
        413,
        id="dashboard-login",
    ),
]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
@pytest.mark.parametrize(("method", "path", "fields", "declared", "streamed"), HUGE)
async def test_a_huge_body_is_refused_before_it_is_read(
    client: Client,
    site_token: str,
    method: str,
    path: str,
    fields: tuple[bytes, ...],
    declared: int,
    streamed: int,
    chunked: bool,
) -> None:
    """A 10 MB body is 413 (JSON; HTML on the dashboard) as soon as its declared length or
    its first bytes past the route's limit are in, not once all of it came; a route that
    reads no body answers a streamed one normally; no count changes."""
    before = await snapshot(client)
    if chunked:  # 1 MiB of the 10 MB is sent: the reply must not wait for the rest
        head = request_head(method, path, *fields, b"Transfer-Encoding: chunked")
        reply = await exchange(client, head, chunks=16)
    else:  # 64 KiB of the 10 MB declared is sent
        head = request_head(method, path, *fields, b"Content-Length: %d" % TEN_MB)
        reply = await exchange(client, head, b" " * 64 * 1024)
    assert reply.status == (streamed if chunked else declared), reply.body[:300]
    if reply.status == 413:
        html = path.startswith("/admin")
        assert reply.content_type == ("text/html" if html else "application/json")
        if not html:
            assert json.loads(reply.body)["error"]["code"] == "body_too_large"
    assert await snapshot(client) == before


async def test_the_import_keeps_its_own_larger_limit(client: Client) -> None:
    """An import may be far larger than a hit (1 MiB is read and applied), but one that
    declares more than 16 MiB is 413 at once."""
    document = json.dumps({"import_id": "big", "total": {"views": 5, "visits": 3}}).encode()
    large = document + b" " * (1024 * 1024)
    response = await client.post(f"{SITES}/demo/import", data=large, headers=ADMIN)
    assert response.status == 200, await response.text()
    assert (await response.json())["imported"] is True
    head = request_head(
        "POST", f"{SITES}/demo/import", JSON_PUT[1], b"Content-Length: %d" % (17 * 1024 * 1024)
    )
    reply = await exchange(client, head, b" " * 64 * 1024)
    assert reply.status == 413
    assert json.loads(reply.body)["error"]["code"] == "body_too_large"


# -- slow clients --------------------------------------------------------------------------

CLIENT_TIMEOUT = 0.5  # seconds: the bound, shortened for the test (75 s by default)


@pytest.fixture
async def impatient(aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock) -> Client:
    """A client of an app that gives a client half a second to send a request's head or body."""
    return await aiohttp_client(
        create_app(replace(settings, client_timeout=CLIENT_TIMEOUT), clock=clock)
    )


async def test_a_client_trickling_its_head_is_cut_off_while_others_are_served(
    impatient: Client,
) -> None:
    """A client that sends its request head a byte at a time (slowloris) is disconnected
    once the client timeout has passed since it connected; other requests are answered
    meanwhile."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(impatient.host, impatient.port)
    started = loop.time()
    writer.write(b"POST /api/v1/hit HTTP/1.1\r\nHost: statsvc.test\r\nX-Slow: ")
    served = 0
    try:
        async with asyncio.timeout(4 * CLIENT_TIMEOUT + 1):
            while True:
                writer.write(b"a")
                with contextlib.suppress(TimeoutError):
                    if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                        break  # the server closed the connection
                response = await impatient.get(f"{COUNTS}?site=demo")
                assert response.status == 200
                served += 1
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    assert CLIENT_TIMEOUT - 0.05 <= loop.time() - started < 3 * CLIENT_TIMEOUT + 0.5
    assert served >= 3


async def test_a_body_that_does_not_come_in_time_is_408(impatient: Client) -> None:
    """A hit whose body stalls after its head is 408 request_timeout in the error shape once
    the client timeout has passed, and counts nothing."""
    head = request_head("POST", HIT, b"Content-Type: text/plain", b"Content-Length: 100")
    reply = await exchange(impatient, head, HIT_BODY[:10])
    assert reply.status == 408
    assert reply.content_type == "application/json"
    assert json.loads(reply.body)["error"]["code"] == "request_timeout"
    counts = await (await impatient.get(f"{COUNTS}?site=demo")).json()
    assert counts["views"]["total"] == 0


@pytest.mark.parametrize(("value", "seconds"), [(None, 75), ("30", 30), ("3600", 3600)])
def test_the_client_timeout_is_set_from_the_environment(value: str | None, seconds: int) -> None:
    """STATSVC_CLIENT_TIMEOUT sets the client timeout, 75 s without it."""
    env = {} if value is None else {"STATSVC_CLIENT_TIMEOUT": value}
    assert settings_from(env, parser().parse_args(["serve"])).client_timeout == seconds


@pytest.mark.parametrize("value", ["0", "3601", "-1", "1.5", "soon"])
def test_a_client_timeout_out_of_range_is_refused(value: str) -> None:
    """A STATSVC_CLIENT_TIMEOUT that is not a whole number of seconds from 1 to 3600 is refused."""
    with pytest.raises(SettingsError) as refused:
        settings_from({"STATSVC_CLIENT_TIMEOUT": value}, parser().parse_args(["serve"]))
    assert refused.value.field == "STATSVC_CLIENT_TIMEOUT"
