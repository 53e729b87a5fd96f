"""HTTP handlers of the admin API (DESIGN §5): the bearer token, checked input, then the
admin services (statsvc/service/admin.py, auth.py, backfill.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from statsvc.core.backfill import DATE, load_document
from statsvc.core.errors import BadInput, Forbidden, Unauthorized, UnknownToken
from statsvc.core.pageview import check_site_id
from statsvc.http.appkeys import SETTINGS, SIGN_INS, STATS
from statsvc.http.body import json_reply, read_body
from statsvc.http.errors import Handler
from statsvc.http.requester import client_address
from statsvc.service import admin, auth, backfill
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService

MAX_SETTINGS_BODY = 16 * 1024
MAX_IMPORT_BODY = 16 * 1024 * 1024  # an import of 100,000 days, with room
SERIES_DAYS = 30  # the series without from and to: the last 30 days
PAGES_LIMIT = 10  # top pages, or sources, without a limit
FIRST_YEAR, LAST_YEAR = 1970, 9998  # the dates a query may name


def sign_in_address(request: web.Request) -> str:
    """Return the address a token is presented from (the API's or the sign-in form's), whose
    tally of tries limits it (SignInLimiter.judge)."""
    return client_address(request, request.app[SETTINGS].trusted_proxies)


async def bearer(request: web.Request) -> Principal:
    """Return who the request's bearer token is: the admin or a site's token; else 401 (429,
    the token not judged, while the client's address has ten tokens this minute that failed
    or are being judged)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    admin_token = request.app[SETTINGS].admin_token
    principal = None
    if scheme.lower() == "bearer" and given.strip():
        token = given.strip()
        principal = await request.app[SIGN_INS].judge(
            sign_in_address(request),
            lambda: auth.authenticate(request.app[STATS], admin_token, token),
            token,  # a client's requests at once with its token: judged once
        )
    if principal is None:
        closed = "" if admin_token else " (no STATSVC_ADMIN_TOKEN is set: only site tokens work)"
        raise Unauthorized(
            "unauthorized", "a valid admin or site bearer token is required" + closed
        )
    return principal


async def target_request(
    request: web.Request,
    part: str,
    check: Callable[[object], str],
    allowed: Callable[..., bool],
    *,
    write: bool,
) -> tuple[Principal, str]:
    """Authorize a request on the site (the group) in its URL's `part`, checked by `check`:
    401 without a valid token, 403 for a token `allowed` does not let read it (or change it);
    return who it is and the id."""
    principal = await bearer(request)
    target = check(request.match_info[part])
    if not allowed(principal, target, write=write):
        doing = "change" if write else "read"
        raise Forbidden("forbidden", f"this token may not {doing} {part} {target!r}")
    return principal, target


async def site_request(request: web.Request, *, write: bool) -> tuple[Principal, str]:
    """Authorize a request on the site of its URL: 401 without a valid token, 403 for a site
    token on another site or any change; return who it is and the site id."""
    return await target_request(request, "site", check_site_id, auth.allows, write=write)


async def list_sites(request: web.Request) -> web.Response:
    """List the site ids (a site token sees its own site only)."""
    principal = await bearer(request)
    ids = await request.app[STATS].site_ids()
    return json_reply({"sites": [i for i in ids if auth.allows(principal, i, write=False)]})


async def get_site(request: web.Request) -> web.Response:
    """Answer with one site's settings."""
    _, site_id = await site_request(request, write=False)
    site = await request.app[STATS].site(site_id)
    return json_reply(site.to_json())


async def put_site(request: web.Request) -> web.Response:
    """Create a site (201), or change the settings sent (200); answer with all its settings."""
    principal, site_id = await site_request(request, write=True)
    changes = json_object(await read_body(request, MAX_SETTINGS_BODY))
    settings = request.app[SETTINGS]
    site, created = await admin.save_settings(
        request.app[STATS],
        site_id,
        changes,
        principal,
        timezone=settings.timezone,
        locale=settings.locale,
    )
    return json_reply(site, status=201 if created else 200)


async def stats(request: web.Request) -> web.Response:
    """Answer with the site's counts and refused hits."""
    _, site_id = await site_request(request, write=False)
    return json_reply(await admin.site_stats(request.app[STATS], site_id))


async def pages(request: web.Request) -> web.Response:
    """Answer with the most viewed pages of a window."""
    _, site_id = await site_request(request, write=False)
    window = request.query.get("window", "today")
    limit = number(request, "limit", PAGES_LIMIT)
    return json_reply(await admin.top_pages(request.app[STATS], site_id, window, limit))


async def sources(request: web.Request) -> web.Response:
    """Answer with the sources of a window's visits, most visits first."""
    _, site_id = await site_request(request, write=False)
    window = request.query.get("window", "today")
    limit = number(request, "limit", PAGES_LIMIT)
    return json_reply(await admin.sources(request.app[STATS], site_id, window, limit))


async def series(request: web.Request) -> web.Response:
    """Answer with views, visits and refused hits per local day from `from` to `to`."""
    _, site_id = await site_request(request, write=False)
    stats = request.app[STATS]
    end = day(request, "to") or await admin.local_today(stats, site_id)
    start = day(request, "from") or end - timedelta(days=SERIES_DAYS - 1)
    return json_reply(await admin.series(stats, site_id, start, end))


async def audit(request: web.Request) -> web.Response:
    """Answer with the latest entries of the site's audit trail, newest first."""
    _, site_id = await site_request(request, write=False)
    entries = await admin.audit(request.app[STATS], site_id, number(request, "limit", 100))
    return json_reply({"site": site_id, "entries": entries})


async def export(request: web.Request) -> web.Response:
    """Answer with the export document of the site."""
    _, site_id = await site_request(request, write=False)
    return json_reply(await backfill.export_site(request.app[STATS], site_id))


async def import_counts(request: web.Request) -> web.Response:
    """Add an older counter's figures (or an export) to the site, once per import id; its
    body is decoded in a thread, in steps (core.backfill.load_document), off the event loop."""
    principal, site_id = await site_request(request, write=True)
    await request.app[STATS].site(site_id)  # an unknown site is 404 before a long read
    body = await read_body(request, MAX_IMPORT_BODY)
    document = await asyncio.to_thread(load_document, body or b"{}")
    reply = await backfill.import_counts(request.app[STATS], site_id, document, principal)
    return json_reply(reply)


async def create_token(request: web.Request) -> web.Response:
    """Make a read-only token of the site; answer with it, the one time it is shown."""
    principal, site_id = await site_request(request, write=True)
    return json_reply(await auth.create_token(request.app[STATS], site_id, principal), status=201)


def token_routes(
    part: str,
    authorize: Callable[..., Awaitable[tuple[Principal, str]]],
    list_of: Callable[[StatsService, str], Awaitable[list[dict[str, str]]]],
    revoke: Callable[[StatsService, str, str, Principal], Awaitable[bool]],
) -> tuple[Handler, Handler]:
    """Return the handlers listing and revoking the tokens of a site (a group: `part`), the
    admin's only: the list without secrets; a revoke 204, or 404 for no such token."""

    async def list_tokens(request: web.Request) -> web.Response:
        """List the owner's tokens, without their secrets (the admin's only)."""
        _, owner = await authorize(request, write=True)
        return json_reply({part: owner, "tokens": await list_of(request.app[STATS], owner)})

    async def revoke_token(request: web.Request) -> web.Response:
        """Revoke one of the owner's tokens at once: 204, or 404 if it has no such token."""
        principal, owner = await authorize(request, write=True)
        token_id = request.match_info["token_id"]
        if not await revoke(request.app[STATS], owner, token_id, principal):
            raise UnknownToken("unknown_token", f"{part} {owner!r} has no token {token_id[:40]!r}")
        return web.Response(status=204)

    return list_tokens, revoke_token


list_tokens, revoke_token = token_routes("site", site_request, auth.list_tokens, auth.revoke_token)


def number(request: web.Request, name: str, default: int) -> int:
    """Return a whole-number query parameter, or `default` when it is absent."""
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadInput(f"invalid_{name}", f"{name} must be a whole number")
    return int(text)


def day(request: web.Request, name: str) -> date | None:
    """Return a date query parameter (YYYY-MM-DD), or None when it is absent."""
    text = request.query.get(name)
    if text is None:
        return None
    try:
        if not DATE.fullmatch(text):
            raise ValueError(text)
        value = date.fromisoformat(text)
        if not FIRST_YEAR <= value.year <= LAST_YEAR:  # ranges around it stay within dates
            raise ValueError(text)
    except ValueError:
        raise BadInput(
            "invalid_date", f"{name} must be a date YYYY-MM-DD, {FIRST_YEAR} to {LAST_YEAR}"
        ) from None
    return value


def json_object(body: bytes) -> dict[str, Any]:
    """Return a request body that must be a JSON object; else 400."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise BadInput("invalid_json", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadInput("invalid_json", "the request body must be a JSON object")
    return data
