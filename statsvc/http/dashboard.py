"""The dashboard at /admin: server-rendered pages over the admin service (statsvc.service).

Every /admin answer gets the security headers, and every /admin error is an HTML page (or,
for a visitor not signed in, a redirect to the sign-in form): edge() (http/middleware.py)
routes /admin requests through html_errors() instead of the JSON error middleware."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
import orjson
from aiohttp import web

from statsvc.core.chart import chart
from statsvc.core.errors import BadInput, Forbidden, TooManyAttempts, UnknownSite
from statsvc.core.pageview import check_site_id
from statsvc.core.reasons import REASONS
from statsvc.http import language, report_periods
from statsvc.http.admin_api import sign_in_address
from statsvc.http.appkeys import SETTINGS, SIGN_INS, STATS
from statsvc.http.audit_sentences import audit_rows
from statsvc.http.body import json_reply
from statsvc.http.cookies import COOKIE_PATH, LOGIN_COOKIE, SESSION_COOKIE, same_origin, set_cookie
from statsvc.http.errors import ApiError, Handler, problem_of
from statsvc.http.requester import public_origin
from statsvc.i18n import N_, _
from statsvc.service import admin, auth, backfill, sessions
from statsvc.service.auth import Principal
from statsvc.service.sessions import Session

WINDOWS = {  # the labels translated where they are shown, in the page's language
    "today": N_("Today"),
    "yesterday": N_("Yesterday"),
    "week": N_("This week"),
    "month": N_("This month"),
    "total": N_("All time"),
}
METRICS = {"views": N_("Views"), "visits": N_("Visits")}
REASON_LABELS = {  # the refusal reasons (statsvc.core.reasons) as the rejected-traffic table says
    "bot": N_("Bots"),
    "prefetch": N_("Prefetches"),
    "rate_limited": N_("Over a visitor's limit"),
    "origin": N_("From another domain"),
    "dnt": N_("Do Not Track"),
    "duplicate": N_("Sent twice"),
    "excluded": N_("From an excluded address"),
}
CHART_DAYS = 30
TOP_PAGES = 20
AUDIT_ENTRIES = 20
FORM = "application/x-www-form-urlencoded"
MAX_TOKEN = 512  # characters of a token typed into the sign-in form
LIVE_SECONDS = 10  # how often the page asks for the online figure
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make Chrome send "Origin: null"
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# the dashboard's pages say errors as a person reads them, in the page's language, by the
# code the error ladder (statsvc.http.errors) gives them; the JSON API's English messages are
# a developer's (README, API). A code not here shows the error's own message, translated
# (the dashboard's own errors are raised with a message of the catalogue).
PAGE_TEXT = {
    "unknown_site": N_("There is no site “{site}”."),
    "too_many_attempts": N_(
        "Too many failed sign-ins from your address: try again in {seconds} seconds."
    ),
    "store_unavailable": N_("The store does not answer; try again shortly."),
    "server_error": N_("Something went wrong on our side."),
    "not_found": N_("There is no such page."),
    "method_not_allowed": N_("This page cannot be used that way."),
    "unsupported_media_type": N_("Send the form as the page does."),
    "invalid_form": N_("The form could not be read."),
    "invalid_site": N_("That is not a site id: a site id has lowercase letters, digits, - and _."),
    "invalid_window": N_("There is no such window of time."),
    "body_too_large": N_("What was sent is too large."),
    "bad_request": N_("The request could not be read."),
    "request_timeout": N_("The form did not come in time."),
}


def proxy_warnings(app: web.Application) -> list[dict[str, str]]:
    """Return the signs of a misconfigured proxy this process saw in the last hour, for the
    dashboard's banner (widget/templates/admin_proxy_warning.html)."""
    seen = app[STATS].proxies.warnings()
    return [
        {"kind": str(kind), "address": sighting.address, "site": sighting.site}
        for kind, sighting in sorted(seen.items())
    ]


async def html_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer an /admin request in the page's language, with the security headers; its
    errors as HTML pages."""
    token = language.enter(request, await language.get_page(request))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:  # a redirect
            exc.headers.update(SECURITY_HEADERS)
            language.keep(request, exc)
            raise
        response = _error_page(request, exc)
    except Exception as exc:
        response = _error_page(request, exc)
    finally:
        language.leave(token)
    response.headers.update(SECURITY_HEADERS)
    language.keep(request, response)
    return response


def _error_page(request: web.Request, exc: Exception) -> web.Response:
    problem = problem_of(request, exc)
    response = _error(request, problem.status, _page_text(problem.code, problem.message, exc))
    response.headers.update(problem.headers)
    return response


def _page_text(code: str, message: str, exc: Exception) -> str:
    """Return an error's text on a dashboard page."""
    text = PAGE_TEXT.get(code)
    if text is None:
        return _(message)
    site = exc.site if isinstance(exc, UnknownSite) else ""
    seconds = exc.retry_after if isinstance(exc, TooManyAttempts) else 0
    return _(text).format(site=site, seconds=seconds)


def _error(request: web.Request, status: int, message: str) -> web.Response:
    context = {"status": status, "message": message}
    return aiohttp_jinja2.render_template("admin_error.html", request, context, status=status)


async def _current(request: web.Request) -> Session | None:
    """Return the session of the request's cookie, if it has one that still holds."""
    admin_token = request.app[SETTINGS].admin_token
    return await sessions.current(
        request.app[STATS], admin_token, request.cookies.get(SESSION_COOKIE)
    )


async def require_session(request: web.Request) -> Session:
    """Return the request's session, or send the browser to the sign-in form."""
    session = await _current(request)
    if session is None:
        raise web.HTTPSeeOther("/admin/login")
    return session


async def readable_session(
    request: web.Request,
    part: str,
    check: Callable[[object], str],
    may_read: Callable[..., bool],
    refusal: str,
) -> tuple[Session, str]:
    """Return the session and the id in the URL's `part` (a site, a group), checked by
    `check`, which `may_read` tells the session's token may read; else 403 with `refusal`
    (its `{part}` filled in)."""
    session = await require_session(request)
    target = check(request.match_info[part])
    if not may_read(session.principal, target, write=False):
        raise Forbidden("forbidden", refusal.format_map({part: target}))
    return session, target


async def site_session(request: web.Request) -> tuple[Session, str]:
    """Return the session and the site of the URL, which the session's token may read."""
    refusal = _("This token may not read the site “{site}”.")
    return await readable_session(request, "site", check_site_id, auth.allows, refusal)


async def signin_form(request: web.Request) -> web.Response:
    """Show the sign-in form (or go to the dashboard when signed in already)."""
    if await _current(request) is not None:
        raise web.HTTPSeeOther("/admin")
    return _signin(request, None, 200)


def _signin(request: web.Request, problem: str | None, status: int) -> web.Response:
    csrf = sessions.new_csrf()
    context = {"csrf": csrf, "problem": problem}
    response = aiohttp_jinja2.render_template("admin_signin.html", request, context, status=status)
    set_cookie(request, response, LOGIN_COOKIE, csrf)
    return response


async def _form(request: web.Request) -> Mapping[str, object]:
    """Return the fields of a posted form: our forms only, URL-encoded (never multipart)."""
    if request.content_type != FORM:
        raise ApiError(415, "unsupported_media_type", "Send the form as the page does.")
    try:
        return await request.post()
    except (ValueError, web.RequestPayloadError):
        raise BadInput("invalid_form", "The form could not be read.") from None


async def signin(request: web.Request) -> web.Response:
    """Sign in with a token from the form; open a session and go to the dashboard."""
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(request) or not expected:
        raise Forbidden("forbidden", _("Sign in from the sign-in page."))
    if not sessions.csrf_matches(expected, form.get("csrf")):
        raise Forbidden("forbidden", _("The sign-in form expired: sign in again."))
    sent = form.get("token")
    token = sent.strip() if isinstance(sent, str) else ""

    async def open_session() -> tuple[Principal, str] | None:
        if not 0 < len(token) <= MAX_TOKEN:
            return None  # no token at all, or too long to be one: a failed try too
        admin_token = request.app[SETTINGS].admin_token
        return await sessions.sign_in(request.app[STATS], admin_token, token)

    opened = await request.app[SIGN_INS].judge(sign_in_address(request), open_session)
    if opened is None:
        return _signin(request, _("That token is not valid."), 401)
    principal, session_id = opened
    target = "/admin"
    if principal.group is not None:
        target = f"/admin/groups/{principal.group}"
    elif principal.site is not None:
        target = f"/admin/sites/{principal.site}"
    response = web.HTTPSeeOther(target)
    set_cookie(request, response, SESSION_COOKIE, session_id)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    raise response


async def signout(request: web.Request) -> web.Response:
    """End the session (a form post carrying its CSRF token) and go to the sign-in form."""
    session = await require_session(request)
    form = await _form(request)
    if not same_origin(request) or not sessions.csrf_matches(session.csrf, form.get("csrf")):
        raise Forbidden("forbidden", _("Sign out from a dashboard page."))
    await sessions.sign_out(request.app[STATS], session)
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    raise response


@aiohttp_jinja2.template("admin_site.html")
async def site(request: web.Request) -> dict[str, Any]:
    """Show one site: its numbers, online (live), 30 days, top pages and sources, refused hits,
    audit."""
    session, site_id = await site_session(request)
    window = request.query.get("window", "today")
    if window not in WINDOWS:
        raise BadInput("invalid_window", f"window must be one of {', '.join(WINDOWS)}")
    service = request.app[STATS]
    settings = await service.site(site_id)
    today = await admin.local_today(service, site_id)
    stats, top, sources, days, trail = await asyncio.gather(
        admin.site_stats(service, site_id),
        admin.top_pages(service, site_id, window, TOP_PAGES),
        admin.sources(service, site_id, window, TOP_PAGES),
        admin.series(service, site_id, today - timedelta(days=CHART_DAYS - 1), today),
        admin.audit(service, site_id, AUDIT_ENTRIES),
    )
    base = public_origin(request, request.app[SETTINGS].trusted_proxies)
    return {
        "session": session,
        "site": settings,
        "stats": stats,
        "window": window,
        "today": today,
        "windows": WINDOWS,
        "metrics": METRICS,
        "pages": top["pages"],
        "sources": sources["sources"],
        "chart": chart(days["days"]),
        "reasons": [(reason, REASON_LABELS.get(reason, reason)) for reason in REASONS],
        "audit": audit_rows(trail, settings.zone),
        "snippet": (
            f'<div id="thong-ke"></div>\n<script src="{base}/widget.js" data-site="{site_id}"'
            ' data-target="#thong-ke" async></script>'
        ),
        "live_seconds": LIVE_SECONDS,
        "report_periods": report_periods.period_choices(
            service, [settings], settings.zone, settings.week_start
        ),
        "done": request.query.get("done"),  # the change just made (dashboard_forms.done)
    }


async def live(request: web.Request) -> web.Response:
    """Answer the figures the site page updates live: online now and today's."""
    _, site_id = await site_session(request)
    counts = await request.app[STATS].counts(site_id, None)
    body = {"online": counts["online"], "views": counts["views"], "visits": counts["visits"]}
    return json_reply(body)


async def export(request: web.Request) -> web.Response:
    """Download the site's export document (GET /api/v1/sites/{site}/export) as a file."""
    _, site_id = await site_session(request)
    document = await backfill.export_site(request.app[STATS], site_id)
    name = f"statsvc-{site_id}-{document['exported_at'][:10]}.json"
    return web.Response(
        body=orjson.dumps(document, option=orjson.OPT_INDENT_2),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
