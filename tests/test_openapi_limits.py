"""The limits and lists openapi.yaml states are the code's: each is pinned to its constant."""

from __future__ import annotations

import re
from typing import Any

import pytest

from statsvc import __version__
from statsvc.core.backfill import EXPORT_FORMAT, IMPORT_ID
from statsvc.core.box import MAX_PAD, MAX_TITLE, METRICS, ROWS, THEMES
from statsvc.core.calendar import WEEK_STARTS
from statsvc.core.pageview import MAX_BODY, MAX_URL, PAGE_VIEW_ID
from statsvc.core.reasons import REASONS
from statsvc.core.site import (
    HOSTNAME,
    LOCALES,
    MAX_ADDRESS,
    MAX_DOMAINS,
    MAX_EXCLUDE_IPS,
    MAX_NAME,
    MAX_QUERY_KEYS,
    ONLINE_WINDOW_RANGE,
    QUERY_KEY,
    SITE_ID,
)
from statsvc.http.admin_api import MAX_IMPORT_BODY, PAGES_LIMIT, SERIES_DAYS
from statsvc.http.assets import ASSET_FILES, SHORT_CACHE, load_asset
from statsvc.http.cookies import SESSION_COOKIE
from statsvc.http.dashboard import CHART_DAYS
from statsvc.http.middleware import CORS_PREFLIGHT
from statsvc.http.openapi import document
from statsvc.service.admin import MAX_LIMIT, MAX_SERIES_DAYS, WINDOWS
from statsvc.service.signin_limit import FAILURES_PER_MINUTE
from statsvc.store import AUDIT_CAP

Where = tuple[str | int, ...]


def at(*where: str | int) -> Any:
    """Return the part of the document at `where`: keys, and in a list an index or the `name`
    of an item (a parameter)."""
    part: Any = document()
    for key in where:
        if isinstance(part, list) and isinstance(key, str):
            (part,) = [item for item in part if item.get("name") == key]
        else:
            part = part[key]
    return part


def schema(name: str, *keys: str | int) -> Where:
    """Return the place of `keys` in a schema of the components."""
    return ("components", "schemas", name, *keys)


def operation(path: str, method: str, *keys: str | int) -> Where:
    """Return the place of `keys` in an operation."""
    return ("paths", path, method, *keys)


def parameter(path: str, name: str, *keys: str) -> Where:
    """Return the place of `keys` in a parameter of a GET."""
    return operation(path, "get", "parameters", name, *keys)


def pinned(constant: str, expected: Any, where: Where) -> Any:
    """Return a row of the table: the value the code gives a place of the document."""
    return pytest.param(where, expected, id=f"{constant}: {'/'.join(map(str, where))}")


SETTINGS = "SiteSettings", "properties"
BADGE = "/api/v1/badge.svg"
PAGES = "/api/v1/sites/{site}/pages"
SERIES = "/api/v1/sites/{site}/series"
ROW = f"({'|'.join(ROWS)})"
SERIES_SUMMARY = (
    f"views, visits and refused hits per local day (at most {MAX_SERIES_DAYS} days;"
    f" default the last {SERIES_DAYS})"
)
PAGE_VIEW_BODY = (
    f"a JSON object of at most {MAX_BODY} bytes, as text/plain (a CORS simple request)"
    " or application/json"
)
COUNT = {"type": "integer", "minimum": 0}
STATIC = [name.removeprefix("static/") for name in ASSET_FILES if name.startswith("static/")]
SITE_PAGE = f"a site: numbers, online (live), {CHART_DAYS} days, top pages, refused hits, audit"

LIMITS = [
    pinned("SITE_ID", f"^{SITE_ID.pattern}$", schema("SiteId", "pattern")),
    pinned(
        "PAGE_VIEW_ID",
        f"^{PAGE_VIEW_ID.pattern}$",
        schema("PageView", "properties", "id", "pattern"),
    ),
    pinned("MAX_URL", MAX_URL, schema("PageView", "properties", "path", "maxLength")),
    pinned("MAX_URL", MAX_URL, parameter("/api/v1/counts", "path", "schema", "maxLength")),
    pinned("MAX_URL", MAX_URL, parameter(BADGE, "path", "schema", "maxLength")),
    pinned(
        "MAX_BODY", PAGE_VIEW_BODY, operation("/api/v1/hit", "post", "requestBody", "description")
    ),
    pinned(
        "MAX_BODY", PAGE_VIEW_BODY, operation("/api/v1/ping", "post", "requestBody", "description")
    ),
    pinned("LOCALES", list(LOCALES), schema("Counts", "properties", "locale", "enum")),
    pinned(
        "LOCALES", list(LOCALES), schema("HitReply", "oneOf", 0, "properties", "locale", "enum")
    ),
    pinned(
        "LOCALES", list(LOCALES), schema("HitReply", "oneOf", 1, "properties", "locale", "enum")
    ),
    pinned("LOCALES", list(LOCALES), schema("Stats", "properties", "locale", "enum")),
    pinned("LOCALES", list(LOCALES), schema(*SETTINGS, "locale", "enum")),
    pinned("LOCALES", list(LOCALES), parameter(BADGE, "lang", "schema", "enum")),
    pinned(
        "REASONS", list(REASONS), schema("HitReply", "oneOf", 0, "properties", "reason", "enum")
    ),
    pinned("REASONS", {reason: COUNT for reason in REASONS}, schema("Rejected", "properties")),
    pinned("REASONS", list(REASONS), schema("Rejected", "required")),
    pinned("WINDOWS", list(WINDOWS), schema("TopPages", "properties", "window", "enum")),
    pinned("WINDOWS", list(WINDOWS), parameter(PAGES, "window", "schema", "enum")),
    pinned("WINDOWS", list(WINDOWS), parameter("/admin/sites/{site}", "window", "schema", "enum")),
    pinned("MAX_LIMIT", MAX_LIMIT, parameter(PAGES, "limit", "schema", "maximum")),
    pinned("PAGES_LIMIT", f"default {PAGES_LIMIT}", parameter(PAGES, "limit", "description")),
    pinned(
        "AUDIT_CAP",
        AUDIT_CAP,
        parameter("/api/v1/sites/{site}/audit", "limit", "schema", "maximum"),
    ),
    pinned("MAX_SERIES_DAYS, SERIES_DAYS", SERIES_SUMMARY, operation(SERIES, "get", "summary")),
    pinned(
        "MAX_SERIES_DAYS, SERIES_DAYS",
        SERIES_SUMMARY,
        operation(SERIES, "get", "responses", "200", "description"),
    ),
    pinned(
        "MAX_IMPORT_BODY",
        f"at most {MAX_IMPORT_BODY} bytes",
        operation("/api/v1/sites/{site}/import", "post", "requestBody", "description"),
    ),
    pinned(
        "IMPORT_ID",
        f"^{IMPORT_ID.pattern}$",
        schema("Import", "properties", "import_id", "pattern"),
    ),
    pinned("EXPORT_FORMAT", EXPORT_FORMAT, schema("Import", "properties", "format", "const")),
    pinned("EXPORT_FORMAT", EXPORT_FORMAT, schema("Export", "properties", "format", "const")),
    pinned("MAX_NAME", MAX_NAME, schema(*SETTINGS, "name", "maxLength")),
    pinned("HOSTNAME", f"^{HOSTNAME.pattern}$", schema(*SETTINGS, "domains", "items", "pattern")),
    pinned("MAX_DOMAINS", MAX_DOMAINS, schema(*SETTINGS, "domains", "maxItems")),
    pinned("WEEK_STARTS", list(WEEK_STARTS), schema(*SETTINGS, "week_start", "enum")),
    pinned(
        "ONLINE_WINDOW_RANGE", ONLINE_WINDOW_RANGE[0], schema(*SETTINGS, "online_window", "minimum")
    ),
    pinned(
        "ONLINE_WINDOW_RANGE", ONLINE_WINDOW_RANGE[1], schema(*SETTINGS, "online_window", "maximum")
    ),
    pinned(
        "QUERY_KEY", f"^{QUERY_KEY.pattern}$", schema(*SETTINGS, "query_keys", "items", "pattern")
    ),
    pinned("MAX_QUERY_KEYS", MAX_QUERY_KEYS, schema(*SETTINGS, "query_keys", "maxItems")),
    pinned("MAX_EXCLUDE_IPS", MAX_EXCLUDE_IPS, schema(*SETTINGS, "exclude_ips", "maxItems")),
    pinned("MAX_ADDRESS", MAX_ADDRESS, schema(*SETTINGS, "exclude_ips", "items", "maxLength")),
    pinned("METRICS", list(METRICS), parameter(BADGE, "metric", "schema", "enum")),
    pinned("ROWS", f"^{ROW}(,{ROW})*$", parameter(BADGE, "rows", "schema", "pattern")),
    pinned("MAX_PAD", f"0 to {MAX_PAD}", parameter(BADGE, "pad", "description")),
    pinned("THEMES", list(THEMES), parameter(BADGE, "theme", "schema", "enum")),
    pinned("MAX_TITLE", MAX_TITLE, parameter(BADGE, "title", "schema", "maxLength")),
    pinned("ASSET_FILES", STATIC, parameter("/static/{name}", "name", "schema", "examples")),
    pinned("SESSION_COOKIE", SESSION_COOKIE, ("components", "securitySchemes", "session", "name")),
    pinned("CHART_DAYS", SITE_PAGE, operation("/admin/sites/{site}", "get", "summary")),
]


@pytest.mark.parametrize(("where", "expected"), LIMITS)
def test_the_document_states_the_code_limit(where: Where, expected: Any) -> None:
    """The document states at `where` the value the code derives from its constant."""
    assert at(*where) == expected


PREFLIGHT_AGE = CORS_PREFLIGHT["Access-Control-Max-Age"]
E429 = "too_many_attempts: ten failed tokens"
WORDS = [
    (E429, FAILURES_PER_MINUTE, 10, ("components", "responses", "E429", "description")),
    (
        E429,
        FAILURES_PER_MINUTE,
        10,
        operation("/admin/login", "post", "responses", "429", "description"),
    ),
    (
        "cached 5 minutes",
        SHORT_CACHE,
        "public, max-age=300",
        operation("/widget.js", "get", "summary"),
    ),
    *[
        (
            "cached for a day",
            PREFLIGHT_AGE,
            "86400",
            operation(path, "options", "responses", "204", "description"),
        )
        for path in ("/api/v1/hit", "/api/v1/ping", "/api/v1/counts", BADGE)
    ],
]


@pytest.mark.parametrize(("words", "value", "meant", "where"), WORDS)
def test_the_document_words_a_limit_as_the_code_has_it(
    words: str, value: object, meant: object, where: Where
) -> None:
    """A limit the document states in words is there, and the code's value is what they say."""
    assert words in at(*where)
    assert value == meant


@pytest.mark.parametrize(
    "where",
    [
        operation("/api/v1/sites/{site}", "get", "responses", "200"),
        operation("/api/v1/sites/{site}", "put", "responses", "200"),
        operation("/api/v1/sites/{site}", "put", "responses", "201"),
    ],
)
def test_a_settings_reply_is_the_settings_schema(where: Where) -> None:
    """A reply of all the settings is SiteSettings with every property required, limits and all."""
    settings = at(*schema("SiteSettings"))
    reply = at(*where, "content", "application/json", "schema")
    assert reply == {**settings, "required": list(settings["properties"])}


def test_the_pad_pattern_admits_every_pad() -> None:
    """The badge's pad pattern admits every pad from 0 to MAX_PAD."""
    pattern = at(*parameter(BADGE, "pad", "schema", "pattern"))
    assert all(re.search(pattern, str(pad)) for pad in range(MAX_PAD + 1))


def test_the_widget_version_is_the_form_the_code_makes() -> None:
    """The versioned widget URL's pattern fits the version the code makes, and its example."""
    version = at(*parameter("/widget.{version}.js", "version", "schema"))
    assert re.search(version["pattern"], load_asset("widget.js").etag)
    assert all(re.search(version["pattern"], example) for example in version["examples"])


def test_the_version_is_the_package_version() -> None:
    """The document's info.version is statsvc's __version__."""
    assert document()["info"]["version"] == __version__
