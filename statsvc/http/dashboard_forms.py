"""The dashboard's forms of an admin session: create a site, change its settings, make and
revoke read-only tokens (the import of an old counter's figures is dashboard_import.py).

Each change is a form post checked as the sign-out is (from our own origin, with the
session's CSRF value), done by the same service functions as the admin API
(statsvc.service.admin and auth, which write the audit trail), then a redirect (303) to the
site's page with a one-line confirmation (`?done=`, a word the page turns into a sentence).
A site token's session is read-only: its forms are not shown and its posts are 403. Bad
input shows the form again, as it was typed, with a message by each field (400), and
changes nothing.

Messages are English msgids translated where the page shows them (`_()` in the
templates), N_() only marks them here for extraction; an error's is translated where it is
raised (the page's language is in force then: dashboard.html_errors)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import aiohttp_jinja2
from aiohttp import web

from statsvc.core.config import DEFAULT_TIMEZONE
from statsvc.core.errors import Conflict, Forbidden, UnknownSite, UnknownToken
from statsvc.core.pageview import check_site_id
from statsvc.core.site import MAX_NAME, SettingsError, Site, is_site_id, new_site
from statsvc.http.appkeys import SETTINGS, STATS
from statsvc.http.cookies import same_origin
from statsvc.http.dashboard import _form, require_session
from statsvc.i18n import N_, _, moment
from statsvc.service import admin, auth, sessions
from statsvc.service.sessions import Session

Problem = tuple[str, dict[str, object]]  # a message (msgid) and its %(name)s values
Problems = dict[str, Problem]  # by field name; "form" for the form as a whole
LIST_FIELDS = ("domains", "exclude_ips")  # one entry a line
SITE_FIELDS = (
    "name",
    "domains",
    "timezone",
    "week_start",
    "locale",
    "online_window",
    "exclude_ips",
)
MAX_NUMBER = 9  # digits of a whole number typed into a field


FIELD_PROBLEMS: dict[str, str] = {
    "id": N_("Use 1 to 63 lowercase letters, digits, - or _, starting with a letter or digit."),
    "name": N_("Use at most %(most)s characters, without control characters."),
    "domains": N_("“%(entry)s” is not a host name such as xatuson.gov.vn."),
    "timezone": N_("Choose a time zone from the list, such as Asia/Ho_Chi_Minh."),
    "week_start": N_("Choose Monday or Sunday."),
    "locale": N_("Choose Vietnamese or English."),
    "online_window": N_("Enter a whole number of seconds from 30 to 3600."),
    "exclude_ips": N_("“%(entry)s” is not an IP address or a CIDR range such as 203.0.113.0/24."),
}
HOST_BITS = N_("“%(entry)s” has host bits set: the range is %(range)s.")
TOO_MANY_LINES = N_("Too many lines: list fewer entries.")
SITE_EXISTS = N_("There is a site with this id already.")
TOO_MANY_TOKENS = N_("This site has as many tokens as it may have: revoke one first.")
EXPIRED = N_("This form has expired or comes from elsewhere: open it again.")
NO_TOKEN = N_("The site “%(site)s” has no token “%(token)s”.")
FORBIDDEN = N_("A site token is read-only: sign in with the admin token to change anything.")


# -- shared by the dashboard's forms ---------------------------------------------------------


async def admin_session(request: web.Request) -> Session:
    """Return the request's session if it is the admin's; a site token's is read-only (403)."""
    session = await require_session(request)
    if not auth.allows(session.principal, None, write=True):
        raise Forbidden("forbidden", _(FORBIDDEN))
    return session


async def admin_site(request: web.Request) -> tuple[Session, Site]:
    """Return the admin's session and the site of the URL (404 if there is none)."""
    session = await admin_session(request)
    site_id = check_site_id(request.match_info["site"])
    return session, await request.app[STATS].site(site_id)


def check_post(request: web.Request, session: Session, form: Mapping[str, object]) -> None:
    """Refuse (403) a post from another origin or without the session's CSRF value."""
    if not same_origin(request) or not sessions.csrf_matches(session.csrf, form.get("csrf")):
        raise Forbidden("forbidden", _(EXPIRED))


def text(form: Mapping[str, object], name: str) -> str:
    """Return a text field of a posted form ("" when absent or not text)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def posted(
    form: Mapping[str, object], names: tuple[str, ...], shown: dict[str, str]
) -> dict[str, str]:
    """Return the fields `shown` with what the form sent of them (a field not sent keeps
    its value: a browser sends them all)."""
    return shown | {name: text(form, name) for name in names if name in form}


def lines(value: str) -> list[str]:
    """Return the entries of a one-a-line field."""
    return [line.strip() for line in value.splitlines() if line.strip()]


def first_problem(problems: Problems, order: tuple[str, ...]) -> str | None:
    """Return the field whose problem comes first on the page (it gets the focus)."""
    return next((name for name in order if name in problems), None)


def done(site_id: str, what: str) -> web.HTTPSeeOther:
    """Return the redirect to the site's page that confirms a change in one line."""
    return web.HTTPSeeOther(f"/admin/sites/{site_id}?done={what}")


# -- sites -----------------------------------------------------------------------------------


@cache
def zone_choices() -> tuple[str, ...]:
    """Return the time zones of the form's list: the instance's default zone first (most
    sites are in Vietnam), then A to Z."""
    return (DEFAULT_TIMEZONE, *sorted((available_timezones() | {"UTC"}) - {DEFAULT_TIMEZONE}))


def site_values(site: Site) -> dict[str, str]:
    """Return a site's settings as the form's fields show them."""
    values = {
        "id": site.id,
        "name": site.name,
        "timezone": site.timezone,
        "week_start": site.week_start,
        "locale": site.locale,
        "online_window": str(site.online_window),
    }
    for name in LIST_FIELDS:
        values[name] = "\n".join(getattr(site, name))
    return values


def site_changes(values: dict[str, str], base: Site) -> tuple[dict[str, Any], Problems]:
    """Return the settings of the form that differ from `base`, as the admin API takes them,
    each checked by the site model; or the problems of the fields it refuses."""
    changes: dict[str, Any] = {}
    problems: Problems = {}
    for name in SITE_FIELDS:
        typed = values.get(name, "")
        value: Any = lines(typed) if name in LIST_FIELDS else typed.strip()
        if name == "online_window":
            if not (value.isascii() and value.isdigit() and len(value) <= MAX_NUMBER):
                problems[name] = (FIELD_PROBLEMS[name], {})
                continue
            value = int(value)
        try:
            checked = base.updated({name: value})
        except SettingsError:
            problems[name] = _setting_problem(base, name, value)
            continue
        if getattr(checked, name) != getattr(base, name):
            changes[name] = value
    return changes, problems


def _setting_problem(base: Site, name: str, value: Any) -> Problem:
    """Return the message of a setting the model refuses; of a list, its first bad entry."""
    if name in LIST_FIELDS:
        for entry in value:
            try:
                base.updated({name: [entry]})
            except SettingsError:
                return _entry_problem(name, entry)
        return TOO_MANY_LINES, {}
    return FIELD_PROBLEMS[name], {"most": MAX_NAME} if name == "name" else {}


def _entry_problem(name: str, entry: str) -> Problem:
    """Return the message of a list's entry the model refuses: of an address range written
    with its host bits set (10.1.2.3/8), the range it means."""
    if name == "exclude_ips":
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            pass
        else:
            return HOST_BITS, {"entry": entry[:80], "range": str(network)}
    return FIELD_PROBLEMS[name], {"entry": entry[:80]}


def _site_form(
    request: web.Request,
    session: Session,
    site_id: str | None,
    values: dict[str, str],
    problems: Problems,
) -> web.Response:
    context = {
        "session": session,
        "site_id": site_id,
        "values": values,
        "problems": problems,
        "first": first_problem(problems, ("id", *SITE_FIELDS)),
        "zones": zone_choices(),
    }
    status = 400 if problems else 200
    return aiohttp_jinja2.render_template("admin_site_form.html", request, context, status=status)


def _defaults(request: web.Request) -> Site:
    """Return a new site's settings (its name is "": left so, the site is named by its id)."""
    settings = request.app[SETTINGS]
    return new_site("", settings.timezone, settings.locale)


async def new_site_form(request: web.Request) -> web.Response:
    """Show the form of a new site, with the instance's defaults."""
    session = await admin_session(request)
    values = site_values(_defaults(request)) | {"name": ""}
    return _site_form(request, session, None, values, {})


async def create_site(request: web.Request) -> web.Response:
    """Create a site from the form (admin.save_settings, as PUT /api/v1/sites/{site})."""
    session = await admin_session(request)
    form = await _form(request)
    check_post(request, session, form)
    base = _defaults(request)
    values = posted(form, ("id", *SITE_FIELDS), site_values(base) | {"name": ""})
    site_id = values["id"].strip()
    changes, problems = site_changes(values, base)
    if not is_site_id(site_id):
        problems["id"] = (FIELD_PROBLEMS["id"], {})
    elif await _exists(request, site_id):
        problems["id"] = (SITE_EXISTS, {})
    if problems:
        return _site_form(request, session, None, values, problems)
    settings = request.app[SETTINGS]
    await admin.save_settings(
        request.app[STATS],
        site_id,
        changes,
        session.principal,
        timezone=settings.timezone,
        locale=settings.locale,
    )
    raise done(site_id, "created")


async def _exists(request: web.Request, site_id: str) -> bool:
    try:
        await request.app[STATS].site(site_id)
    except UnknownSite:
        return False
    return True


async def settings_form(request: web.Request) -> web.Response:
    """Show a site's settings in the form."""
    session, site = await admin_site(request)
    return _site_form(request, session, site.id, site_values(site), {})


async def save_settings(request: web.Request) -> web.Response:
    """Save the settings of the form that changed (admin.save_settings)."""
    session, site = await admin_site(request)
    form = await _form(request)
    check_post(request, session, form)
    values = posted(form, SITE_FIELDS, site_values(site))
    changes, problems = site_changes(values, site)
    if problems:
        return _site_form(request, session, site.id, values, problems)
    if not changes:
        raise done(site.id, "unchanged")
    settings = request.app[SETTINGS]
    await admin.save_settings(
        request.app[STATS],
        site.id,
        changes,
        session.principal,
        timezone=settings.timezone,
        locale=settings.locale,
    )
    raise done(site.id, "saved")


# -- tokens ----------------------------------------------------------------------------------


async def _tokens_page(
    request: web.Request,
    session: Session,
    site: Site,
    made: dict[str, str] | None = None,
    problem: str | None = None,
) -> web.Response:
    listed = await auth.list_tokens(request.app[STATS], site.id)
    zone = ZoneInfo(site.timezone)
    context = {
        "session": session,
        "site": site,
        "tokens": [token | {"created": _when(token["created_at"], zone)} for token in listed],
        "made": made,
        "problem": problem,
    }
    status = 409 if problem else 200
    return aiohttp_jinja2.render_template("admin_tokens.html", request, context, status=status)


def _when(at: object, zone: ZoneInfo) -> str:
    """Return when a token was made, in the site's zone, as the page's language writes it."""
    try:
        return moment(datetime.fromisoformat(str(at)), zone)
    except ValueError:
        return str(at)


async def tokens(request: web.Request) -> web.Response:
    """List a site's read-only tokens, with a button to make one and one to revoke each."""
    session, site = await admin_site(request)
    return await _tokens_page(request, session, site)


async def make_token(request: web.Request) -> web.Response:
    """Make a read-only token (auth.create_token) and show it, on this reply only: it is
    never in a URL, a log or a later page."""
    session, site = await admin_site(request)
    check_post(request, session, await _form(request))
    try:
        made = await auth.create_token(request.app[STATS], site.id, session.principal)
    except Conflict:
        return await _tokens_page(request, session, site, problem=TOO_MANY_TOKENS)
    return await _tokens_page(request, session, site, made=made)


async def revoke_token(request: web.Request) -> web.Response:
    """Revoke a site's token at once (auth.revoke_token); 404 if it has no such token."""
    session, site = await admin_site(request)
    check_post(request, session, await _form(request))
    token_id = request.match_info["token_id"]
    if not await auth.revoke_token(request.app[STATS], site.id, token_id, session.principal):
        shown = {"site": site.id, "token": token_id[:40]}
        raise UnknownToken("unknown_token", _(NO_TOKEN) % shown)
    raise done(site.id, "revoked")
