"""The OpenAPI 3.1 document of every route, built from the limits the code enforces."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from aiohttp import web

from statsvc import __version__
from statsvc.core.backfill import EXPORT_FORMAT, IMPORT_ID
from statsvc.core.box import MAX_PAD, MAX_TITLE, METRICS, ROWS, THEMES
from statsvc.core.calendar import WEEK_STARTS
from statsvc.core.pageview import MAX_BODY, MAX_URL, PAGE_VIEW_ID
from statsvc.core.reasons import REASONS
from statsvc.core.site import (
    HOSTNAME,
    LOCALES,
    MAX_DOMAINS,
    MAX_NAME,
    MAX_QUERY_KEYS,
    ONLINE_WINDOW_RANGE,
    QUERY_KEY,
    SITE_ID,
)
from statsvc.http.admin_api import MAX_IMPORT_BODY, PAGES_LIMIT, SERIES_DAYS
from statsvc.http.assets import ASSET_FILES, load_asset
from statsvc.http.cookies import SESSION_COOKIE
from statsvc.service.admin import MAX_LIMIT, MAX_SERIES_DAYS, WINDOWS
from statsvc.store import AUDIT_CAP

Schema = dict[str, Any]
JSON = "application/json"


def ref(name: str) -> Schema:
    """Return a reference to a schema of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """Return a closed object schema: `required` properties must be there."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def count(description: str = "") -> Schema:
    """Return the schema of a count."""
    schema: Schema = {"type": "integer", "minimum": 0}
    if description:
        schema["description"] = description
    return schema


def json_reply(schema: Schema, description: str) -> Schema:
    """Return a response object with a JSON body."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Schema]:
    """Return the error responses of an operation: the JSON error shape for each status."""
    return {str(status): {"$ref": f"#/components/responses/E{status}"} for status in statuses}


def site_parameter(where: str = "path") -> Schema:
    """Return the `site` parameter, in the path or the query."""
    return {"name": "site", "in": where, "required": True, "schema": ref("SiteId")}


def path_parameter() -> Schema:
    """Return the optional `path` query parameter of counts and the badge."""
    return {
        "name": "path",
        "in": "query",
        "required": False,
        "description": "a page of the site (starts with /); its figures are added as `page`",
        "schema": {"type": "string", "pattern": "^/", "maxLength": MAX_URL},
    }


ADMIN: list[Schema] = [{"bearer": []}]
DASHBOARD: list[Schema] = [{"session": []}]
PAGE_VIEW_BODY: Schema = {
    "required": True,
    "description": f"a JSON object of at most {MAX_BODY} bytes, as text/plain (a CORS simple "
    "request) or application/json",
    "content": {
        "text/plain": {"schema": ref("PageView")},
        JSON: {"schema": ref("PageView")},
    },
}
PREFLIGHT: Schema = {
    "summary": "CORS preflight (any origin, no credentials)",
    "tags": ["public"],
    "responses": {"204": {"description": "the CORS headers, cached for a day"}},
}


def _schemas() -> dict[str, Schema]:
    figures = obj({w: count() for w in ("today", "yesterday", "week", "month", "total")})
    site_counts = {
        "site": ref("SiteId"),
        "date": {"type": "string", "format": "date", "description": "the site's local day"},
        "timezone": {"type": "string"},
        "locale": {"enum": list(LOCALES)},
        "online": count("distinct visitors seen within the online window"),
        "views": ref("Figures"),
        "visits": ref("Figures"),
    }
    page = obj({"today": count(), "total": count(), "online": count()})
    return {
        "SiteId": {"type": "string", "pattern": f"^{SITE_ID.pattern}$", "examples": ["demo"]},
        "Error": obj(
            {
                "error": obj(
                    {
                        "code": {"type": "string", "description": "a stable machine name"},
                        "message": {"type": "string", "description": "for people"},
                    }
                )
            }
        ),
        "Figures": figures,
        "Counts": obj(
            site_counts,
            {"path": {"type": "string"}, "page": page},
        ),
        "HitReply": {
            "oneOf": [
                obj(
                    {
                        **site_counts,
                        "path": {"type": "string"},
                        "counted": {"type": "boolean"},
                        "page": page,
                    },
                    {
                        "reason": {
                            "enum": list(REASONS),
                            "description": "why the view was not counted",
                        }
                    },
                ),
                obj(
                    {
                        **site_counts,
                        "path": {"type": "string"},
                        "counted": {
                            "const": "queued",
                            "description": "the store cannot be reached: the view is kept and"
                            " counted when it answers; no figure can be read meanwhile",
                        },
                        "online": {"type": "null"},
                        "views": {"type": "null"},
                        "visits": {"type": "null"},
                        "page": {"type": "null"},
                    }
                ),
            ]
        },
        "PingReply": obj({"online": count(), "page": obj({"online": count()})}),
        "PageView": {
            "type": "object",
            "properties": {
                "site": ref("SiteId"),
                "url": {
                    "type": "string",
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+",
                    "description": "the page's absolute http(s) URL",
                    "examples": ["https://tuson.example.vn/tin-tuc/a?x=1#top"],
                },
                "path": {
                    "type": "string",
                    "pattern": "^/",
                    "maxLength": MAX_URL,
                    "description": "instead of url",
                },
                "id": {
                    "type": "string",
                    "pattern": f"^{PAGE_VIEW_ID.pattern}$",
                    "description": "the page view's random id: a repeated id is not counted",
                },
                "referrer": {"type": "string", "description": "accepted and ignored"},
                "title": {"type": "string", "description": "accepted and ignored"},
            },
            "required": ["site"],
            "anyOf": [{"required": ["url"]}, {"required": ["path"]}],
        },
        "Rejected": obj({reason: count() for reason in REASONS}),
        "Stats": obj(
            {
                **site_counts,
                "rejected": obj(
                    {w: ref("Rejected") for w in ("today", "yesterday", "week", "month")}
                ),
            }
        ),
        "PageFigures": obj({"path": {"type": "string"}, "views": count()}),
        "TopPages": obj(
            {
                "window": {"enum": list(WINDOWS)},
                "date": {"type": "string", "format": "date"},
                "pages": {"type": "array", "items": ref("PageFigures")},
            }
        ),
        "Series": obj(
            {
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "days": {
                    "type": "array",
                    "items": obj(
                        {
                            "date": {"type": "string", "format": "date"},
                            "views": count(),
                            "visits": count(),
                            "rejected": ref("Rejected"),
                        }
                    ),
                },
            }
        ),
        "Audit": obj(
            {
                "site": ref("SiteId"),
                "entries": {
                    "type": "array",
                    "items": obj(
                        {
                            "at": {"type": "string", "format": "date-time"},
                            "by": {"type": "string", "description": "a token id, or admin"},
                            "action": {
                                "enum": ["import", "settings", "token_create", "token_revoke"]
                            },
                            "detail": {"type": "object"},
                        }
                    ),
                },
            }
        ),
        "Totals": obj({"views": count(), "visits": count()}),
        "ImportDay": obj(
            {"date": {"type": "string", "format": "date"}, "views": count(), "visits": count()},
            {"rejected": {"type": "object", "additionalProperties": count()}},
        ),
        "Import": obj(
            {"import_id": {"type": "string", "pattern": f"^{IMPORT_ID.pattern}$"}},
            {
                "total": {"anyOf": [ref("Totals"), {"type": "null"}]},
                "days": {"type": "array", "items": ref("ImportDay")},
                "pages": {"type": "array", "items": ref("PageFigures")},
                "format": {"const": EXPORT_FORMAT},
                "site": {"type": "object"},
                "exported_at": {"type": "string"},
            },
        ),
        "Export": obj(
            {
                "format": {"const": EXPORT_FORMAT},
                "import_id": {"type": "string"},
                "exported_at": {"type": "string", "format": "date-time"},
                "site": ref("SiteSettings"),
                "total": ref("Totals"),
                "days": {"type": "array", "items": ref("ImportDay")},
                "pages": {"type": "array", "items": ref("PageFigures")},
            }
        ),
        "Imported": {
            "oneOf": [
                obj(
                    {
                        "imported": {"const": True},
                        "import_id": {"type": "string"},
                        "views": count(),
                        "visits": count(),
                        "days": count(),
                        "days_total_only": count(),
                        "pages": count(),
                    }
                ),
                obj(
                    {
                        "imported": {"const": False},
                        "reason": {"const": "already_imported"},
                        "import_id": {"type": "string"},
                    }
                ),
            ]
        },
        "NewToken": obj(
            {
                "token_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                "token": {"type": "string", "description": "shown this once only"},
            }
        ),
        "Tokens": obj(
            {
                "site": ref("SiteId"),
                "tokens": {
                    "type": "array",
                    "items": obj(
                        {
                            "token_id": {"type": "string"},
                            "created_at": {"type": "string", "format": "date-time"},
                            "created_by": {"type": "string"},
                        }
                    ),
                },
            }
        ),
        "SiteSettings": {
            "type": "object",
            "properties": {
                "id": ref("SiteId"),
                "name": {"type": "string", "maxLength": MAX_NAME},
                "domains": {
                    "type": "array",
                    "items": {"type": "string", "pattern": f"^{HOSTNAME.pattern}$"},
                    "maxItems": MAX_DOMAINS,
                    "description": "hostnames allowed to count (subdomains too); empty: any",
                },
                "timezone": {
                    "type": "string",
                    "description": "an IANA time zone",
                    "examples": ["Asia/Ho_Chi_Minh", "UTC"],
                },
                "week_start": {"enum": list(WEEK_STARTS)},
                "locale": {"enum": list(LOCALES)},
                "online_window": {
                    "type": "integer",
                    "minimum": ONLINE_WINDOW_RANGE[0],
                    "maximum": ONLINE_WINDOW_RANGE[1],
                },
                "query_keys": {
                    "type": "array",
                    "items": {"type": "string", "pattern": f"^{QUERY_KEY.pattern}$"},
                    "maxItems": MAX_QUERY_KEYS,
                },
                "respect_dnt": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    }


def _site_settings_reply() -> Schema:
    settings = _schemas()["SiteSettings"]
    return {**settings, "required": list(settings["properties"])}


def _paths() -> dict[str, Schema]:
    text = {"text/plain": {"schema": {"type": "string"}}}
    rows = f"({'|'.join(ROWS)})"
    static = [name.removeprefix("static/") for name in ASSET_FILES if name.startswith("static/")]
    return {
        "/": {
            "get": {
                "summary": "the landing page: the live box, a sample portal, the snippet builder",
                "tags": ["pages"],
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {}}},
                },
            }
        },
        "/widget.js": {
            "get": {
                "summary": "the embed script (ETag, gzip, cached 5 minutes)",
                "tags": ["pages"],
                "responses": {
                    "200": {"description": "JavaScript", "content": {"text/javascript": {}}},
                    "304": {"description": "not modified (If-None-Match)"},
                },
            }
        },
        "/widget.{version}.js": {
            "get": {
                "summary": "the embed script at its immutable URL (the version is its ETag)",
                "tags": ["pages"],
                "parameters": [
                    {
                        "name": "version",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "pattern": "^[0-9a-f]{16}$",
                            "examples": [load_asset("widget.js").etag],
                        },
                    }
                ],
                "responses": {
                    "200": {"description": "JavaScript", "content": {"text/javascript": {}}},
                    "304": {"description": "not modified (If-None-Match)"},
                    **errors(404),
                },
            }
        },
        "/static/{name}": {
            "get": {
                "summary": "the landing page's own script and style sheet",
                "tags": ["pages"],
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "examples": static},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {"text/javascript": {}, "text/css": {}},
                    },
                    "304": {"description": "not modified (If-None-Match)"},
                    **errors(404),
                },
            }
        },
        "/api/v1/hit": {
            "post": {
                "summary": "count one page view and answer with the counts",
                "tags": ["public"],
                "requestBody": PAGE_VIEW_BODY,
                "responses": {
                    "200": json_reply(ref("HitReply"), "the counts, counted or not"),
                    **errors(400, 404, 408, 413, 415, 503),
                },
            },
            "options": PREFLIGHT,
        },
        "/api/v1/ping": {
            "post": {
                "summary": "heartbeat: keep the visitor online",
                "tags": ["public"],
                "requestBody": PAGE_VIEW_BODY,
                "responses": {
                    "200": json_reply(ref("PingReply"), "the online figures"),
                    **errors(400, 404, 408, 413, 415, 503),
                },
            },
            "options": PREFLIGHT,
        },
        "/api/v1/counts": {
            "get": {
                "summary": "a site's counts (and a page's, given path), counting nothing",
                "tags": ["public"],
                "parameters": [site_parameter("query"), path_parameter()],
                "responses": {
                    "200": json_reply(ref("Counts"), "the counts"),
                    **errors(400, 404, 413, 503),
                },
            },
            "options": PREFLIGHT,
        },
        "/api/v1/badge.svg": {
            "get": {
                "summary": "the box as an SVG image; counts a view unless count=0",
                "tags": ["public"],
                "parameters": [
                    site_parameter("query"),
                    path_parameter(),
                    _query("count", {"enum": ["0", "1", "false", "true"]}),
                    _query("lang", {"enum": list(LOCALES)}),
                    _query("metric", {"enum": list(METRICS)}),
                    _query("rows", {"type": "string", "pattern": f"^{rows}(,{rows})*$"}),
                    _query("pad", {"type": "string", "pattern": "^[0-9]{1,2}$"}, f"0 to {MAX_PAD}"),
                    _query("theme", {"enum": list(THEMES)}),
                    _query("title", {"type": "string", "maxLength": MAX_TITLE}),
                ],
                "responses": {
                    "200": {"description": "the box", "content": {"image/svg+xml": {}}},
                    **errors(400, 404, 413, 503),
                },
            },
            "options": PREFLIGHT,
        },
        "/api/v1/sites": {
            "get": {
                "summary": "list the site ids",
                "tags": ["admin"],
                "security": ADMIN,
                "responses": {
                    "200": json_reply(
                        obj({"sites": {"type": "array", "items": ref("SiteId")}}), "site ids"
                    ),
                    **errors(401, 429, 503),
                },
            }
        },
        "/api/v1/sites/{site}": {
            "parameters": [site_parameter()],
            "get": {
                "summary": "a site's settings",
                "tags": ["admin"],
                "security": ADMIN,
                "responses": {
                    "200": json_reply(_site_settings_reply(), "the settings"),
                    **errors(400, 401, 403, 404, 429, 503),
                },
            },
            "put": {
                "summary": "create a site (201) or change the settings sent (200)",
                "tags": ["admin"],
                "security": ADMIN,
                "requestBody": {
                    "required": False,
                    "content": {JSON: {"schema": ref("SiteSettings")}},
                },
                "responses": {
                    "200": json_reply(_site_settings_reply(), "changed: all the settings"),
                    "201": json_reply(_site_settings_reply(), "created: all the settings"),
                    **errors(400, 401, 403, 408, 413, 429, 503),
                },
            },
        },
        **_admin_paths(),
        **_dashboard_paths(),
        "/healthz": {
            "get": {
                "summary": "the process is alive",
                "tags": ["operations"],
                "responses": {
                    "200": json_reply(
                        obj({"status": {"const": "ok"}, "version": {"type": "string"}}), "alive"
                    )
                },
            }
        },
        "/readyz": {
            "get": {
                "summary": "the store answers",
                "tags": ["operations"],
                "responses": {
                    "200": json_reply(
                        obj(
                            {
                                "status": {"const": "ready"},
                                "store": {"const": "up"},
                                "buffered": count("hits kept through an outage, still to count"),
                            }
                        ),
                        "ready",
                    ),
                    **errors(503),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (a bearer token when STATSVC_METRICS_TOKEN is set)",
                "tags": ["operations"],
                "security": [{}, {"bearer": []}],
                "responses": {"200": {"description": "Prometheus text format", "content": text}},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "this document",
                "tags": ["operations"],
                "responses": {"200": json_reply({"type": "object"}, "OpenAPI 3.1")},
            }
        },
    }


def _admin(summary: str, reply: Schema, *statuses: int, **more: Any) -> Schema:
    """Return an admin operation on a site: its bearer security and the usual errors."""
    responses = more.pop("responses", None) or {"200": json_reply(reply, summary)}
    return {
        "summary": summary,
        "tags": ["admin"],
        "security": ADMIN,
        **more,
        "responses": {**responses, **errors(400, 401, 403, 404, *statuses, 429, 503)},
    }


def _admin_paths() -> dict[str, Schema]:
    site = [site_parameter()]

    def limit(most: int) -> Schema:
        return {"type": "integer", "minimum": 1, "maximum": most}

    day = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    return {
        "/api/v1/sites/{site}/stats": {
            "parameters": site,
            "get": _admin("the site's counts, and its refused hits by reason", ref("Stats")),
        },
        "/api/v1/sites/{site}/pages": {
            "parameters": site,
            "get": _admin(
                "the most viewed pages of a window, most viewed first",
                ref("TopPages"),
                parameters=[
                    _query("window", {"enum": list(WINDOWS), "default": "today"}),
                    _query("limit", limit(MAX_LIMIT), f"default {PAGES_LIMIT}"),
                ],
            ),
        },
        "/api/v1/sites/{site}/series": {
            "parameters": site,
            "get": _admin(
                f"views, visits and refused hits per local day (at most {MAX_SERIES_DAYS} days;"
                f" default the last {SERIES_DAYS})",
                ref("Series"),
                parameters=[_query("from", day), _query("to", day, "default: the site's today")],
            ),
        },
        "/api/v1/sites/{site}/audit": {
            "parameters": site,
            "get": _admin(
                "the site's audit trail, newest first",
                ref("Audit"),
                parameters=[_query("limit", limit(AUDIT_CAP), "default 100")],
            ),
        },
        "/api/v1/sites/{site}/export": {
            "parameters": site,
            "get": _admin("everything needed to rebuild the site's numbers", ref("Export")),
        },
        "/api/v1/sites/{site}/import": {
            "parameters": site,
            "post": _admin(
                "add an older counter's figures (or an export), once per import_id",
                ref("Imported"),
                408,
                409,
                413,
                requestBody={
                    "required": True,
                    "description": f"at most {MAX_IMPORT_BODY} bytes",
                    "content": {JSON: {"schema": ref("Import")}},
                },
            ),
        },
        "/api/v1/sites/{site}/tokens": {
            "parameters": site,
            "get": _admin("the site's read-only tokens, without secrets", ref("Tokens")),
            "post": _admin(
                "make a read-only token of the site (shown once)",
                ref("NewToken"),
                409,
                responses={"201": json_reply(ref("NewToken"), "the new token")},
            ),
        },
        "/api/v1/sites/{site}/tokens/{token_id}": {
            "parameters": [
                *site,
                {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "delete": _admin(
                "revoke a token at once",
                {},
                responses={"204": {"description": "revoked"}},
            ),
        },
    }


def _page(summary: str, *statuses: int, **more: Any) -> Schema:
    """Return a dashboard operation: HTML (or a redirect to the sign-in form), HTML errors."""
    html = {"text/html": {"schema": {"type": "string"}}}
    responses: dict[str, Schema] = {
        "200": {"description": "the page", "content": html},
        "303": {"description": "to the sign-in form (not signed in), or after a form"},
        **more.pop("responses", {}),
    }
    for status in statuses:
        responses[str(status)] = {"description": ERROR_STATUSES[status], "content": html}
    return {
        "summary": summary,
        "tags": ["dashboard"],
        "security": DASHBOARD,
        **more,
        "responses": responses,
    }


def _dashboard_paths() -> dict[str, Schema]:
    site = [site_parameter()]
    site_errors = (400, 403, 404, 503)
    live = obj({"online": count(), "views": ref("Figures"), "visits": ref("Figures")})

    def form(fields: dict[str, Schema]) -> Schema:
        schema = obj(fields)
        return {"content": {"application/x-www-form-urlencoded": {"schema": schema}}}

    text = {"type": "string"}
    return {
        "/admin": {"get": _page("the sites the session may read, with today's figures", 503)},
        "/admin/login": {
            "get": {**_page("the sign-in form (sets the form's CSRF cookie)"), "security": []},
            "post": {
                **_page(
                    "sign in with a token: a session cookie (HttpOnly, SameSite=Strict)",
                    400,
                    401,
                    403,
                    415,
                    429,
                    503,
                    requestBody=form({"csrf": text, "token": text}),
                ),
                "security": [],
            },
        },
        "/admin/logout": {
            "post": _page("end the session", 400, 403, 415, 503, requestBody=form({"csrf": text}))
        },
        "/admin/sites/{site}": {
            "parameters": site,
            "get": _page(
                "a site: numbers, online (live), 30 days, top pages, refused hits, audit",
                *site_errors,
                parameters=[_query("window", {"enum": list(WINDOWS), "default": "today"})],
            ),
        },
        "/admin/sites/{site}/live": {
            "parameters": site,
            "get": _page(
                "the figures the site page polls: online now and the windows",
                *site_errors,
                responses={"200": json_reply(live, "the live figures")},
            ),
        },
        "/admin/sites/{site}/export": {
            "parameters": site,
            "get": _page(
                "the site's export document, as a file to save",
                *site_errors,
                responses={"200": json_reply(ref("Export"), "Content-Disposition: attachment")},
            ),
        },
    }


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


ERROR_STATUSES = {
    400: "bad input: the code names it",
    401: "a valid bearer token is required",
    403: "the token may not do this",
    404: "no such site, or no such file",
    408: "the body did not come within the client timeout",
    409: "conflict",
    413: "the body is too large",
    415: "send the body as application/json or text/plain",
    429: "too_many_attempts: ten failed tokens from this address this minute; see Retry-After",
    503: "the store does not answer",
}


@cache
def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "statsvc",
            "version": __version__,
            "summary": "Visit statistics with an embeddable counter widget",
            "description": 'Every error is `{"error": {"code", "message"}}` with a 4xx '
            "status, or 503 `store_unavailable`.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [
            {"name": "public", "description": "no auth, CORS open to any origin"},
            {"name": "admin", "description": "Authorization: Bearer TOKEN"},
            {"name": "operations"},
            {"name": "pages"},
            {"name": "dashboard", "description": "HTML pages; a session cookie from sign-in"},
        ],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {
                f"E{status}": json_reply(ref("Error"), text)
                for status, text in ERROR_STATUSES.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "STATSVC_ADMIN_TOKEN, or a site's read-only token",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
    }


@cache
def _body() -> bytes:
    return orjson.dumps(document())


async def openapi_json(request: web.Request) -> web.Response:
    """Serve the OpenAPI document."""
    return web.Response(
        body=_body(), content_type=JSON, headers={"Cache-Control": "public, max-age=300"}
    )
