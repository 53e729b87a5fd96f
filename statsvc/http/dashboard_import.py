"""The dashboard's import of an old counter's figures (an admin session's): its totals and,
if any, a CSV of days (typed, pasted or uploaded; the `date,views,visits` of `statsvc
import`), first previewed (backfill.preview_import: each window before and after, the days
added), then applied (backfill.import_counts, as POST /api/v1/sites/{site}/import).

The import id is made when the form is first shown and carried through the preview to the
apply in a hidden field: applying twice (a double click, a reload) applies once, since an
import is applied once per id. The forms' plumbing is dashboard_forms.py's."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from statsvc.core.backfill import MAX_COUNT, parse_csv, parse_import
from statsvc.core.errors import BadInput, Conflict
from statsvc.core.site import Site
from statsvc.http.appkeys import SETTINGS, STATS
from statsvc.http.dashboard import FORM
from statsvc.http.dashboard_forms import (
    Problem,
    Problems,
    admin_site,
    check_post,
    done,
    first_problem,
    text,
)
from statsvc.http.errors import ApiError
from statsvc.i18n import N_
from statsvc.i18n import day as written_day
from statsvc.service import admin, backfill
from statsvc.service.sessions import Session

MULTIPART = "multipart/form-data"
MAX_IMPORT_FORM = 4 * 1024 * 1024  # 100,000 days of CSV, twice (typed and carried), with room
FIELDS = ("total_views", "total_visits", "days", "days_file")
# 13457, or grouped in threes: 13.457, 13,457, 13 457 (never 1.5 nor 12,34)
WHOLE = re.compile(r"[0-9]{1,3}(?:[ .,\u00a0\u202f][0-9]{3})*", re.ASCII)
GROUPING = re.compile(r"[ .,\u00a0\u202f]")
LINE = re.compile(r"line ([0-9]+)")

WHOLE_NUMBER = N_("Enter a whole number from 0 to 10,000,000,000, such as 13457.")
VISITS_OVER_VIEWS = N_("The visits cannot be more than the views.")
NOTHING = N_("Give a total, some days, or both.")
NOT_UTF8 = N_("The file is not UTF-8 text: save it as “CSV UTF-8”.")
BOTH = N_("Give the days in the box or as a file, not both.")
HEADER = N_("The first line must be the header date,views,visits.")
BAD_LINE = N_("Line %(line)s is not date,views,visits, such as 2026-11-25,98,35.")
TOO_MANY_DAYS = N_("At most 100,000 days in one import.")
NOT_A_DATE = N_("“%(date)s” is not a date YYYY-MM-DD.")
BAD_DAY = N_("On %(date)s the visits are more than the views, or a figure is too large.")
TWICE = N_("%(date)s is listed twice.")
AFTER_TODAY = N_("%(date)s is after the site's today, %(today)s.")
STALE = N_("This form is out of date: open the import page again.")
CONFLICT = N_("This import was applied before with other figures: open the import page again.")
TOO_LARGE = N_("With this import a figure would be larger than statsvc keeps exactly.")


def _new_id() -> str:
    return f"dashboard-{secrets.token_hex(8)}"


async def _large_form(request: web.Request) -> Mapping[str, object]:
    """Return the fields of a posted import form, URL-encoded or multipart (with a file), of
    at most MAX_IMPORT_FORM bytes, read within the client timeout."""
    if request.content_type not in (FORM, MULTIPART):
        raise ApiError(415, "unsupported_media_type", "Send the form as the page does.")
    try:
        async with asyncio.timeout(request.app[SETTINGS].client_timeout):
            return await request.clone(client_max_size=MAX_IMPORT_FORM).post()
    except (ValueError, web.RequestPayloadError):
        raise BadInput("invalid_form", "The form could not be read.") from None
    except TimeoutError:
        raise ApiError(408, "request_timeout", "The form did not come in time.") from None


def _whole(typed: str) -> int | None:
    """Return a whole number typed as plain digits or grouped in threes, or None."""
    typed = typed.strip()
    if not (typed.isascii() and typed.isdigit()) and not WHOLE.fullmatch(typed):
        return None
    digits = GROUPING.sub("", typed)
    if len(digits) > 11:
        return None
    number = int(digits)
    return number if number <= MAX_COUNT else None


def _values(form: Mapping[str, object]) -> tuple[dict[str, str], Problems]:
    """Return the form's fields as typed, an uploaded file's text in the days' box."""
    values = {name: text(form, name) for name in ("import_id", *FIELDS[:3])}
    problems: Problems = {}
    upload = form.get("days_file")
    if isinstance(upload, web.FileField):
        raw = upload.file.read()
        if raw and values["days"].strip():
            problems["days_file"] = (BOTH, {})
        elif raw:
            try:
                values["days"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                problems["days_file"] = (NOT_UTF8, {})
    return values, problems


def _document(values: dict[str, str], problems: Problems) -> dict[str, Any] | None:
    """Return the import document of the form's fields (as POST /import takes it), or None
    with the problems of the fields added to `problems`."""
    document: dict[str, Any] = {"import_id": values["import_id"]}
    if values["total_views"].strip() or values["total_visits"].strip():
        views, visits = _whole(values["total_views"] or "0"), _whole(values["total_visits"] or "0")
        if views is None:
            problems["total_views"] = (WHOLE_NUMBER, {})
        if visits is None:
            problems["total_visits"] = (WHOLE_NUMBER, {})
        elif views is not None and visits > views:
            problems["total_visits"] = (VISITS_OVER_VIEWS, {})
        document["total"] = {"views": views, "visits": visits}
    if values["days"].strip() and "days_file" not in problems:
        try:
            document["days"] = parse_csv(values["days"])
        except BadInput as exc:
            problems["days"] = _csv_problem(exc)
    if not problems and "total" not in document and "days" not in document:
        problems["total_views"] = (NOTHING, {})
    return None if problems else document


def _csv_problem(exc: BadInput) -> Problem:
    if exc.code == "too_many_rows":
        return TOO_MANY_DAYS, {}
    line = LINE.search(exc.message)
    return (BAD_LINE, {"line": int(line.group(1))}) if line else (HEADER, {})


def _import_problem(exc: BadInput, document: dict[str, Any], today: date) -> Problems:
    """Return the field and message of an import the service refused: a day's, found by
    checking each day alone with the same code; or the form's."""
    if exc.code == "invalid_import_id":
        return {"form": (STALE, {})}
    if exc.code == "too_many_rows":
        return {"days": (TOO_MANY_DAYS, {})}
    seen: set[date] = set()
    for row in document.get("days", ()):
        shown: dict[str, object] = {"date": str(row["date"])[:40]}
        try:
            day = parse_import({"import_id": "day", "days": [row]}).days[0].day
        except BadInput as alone:
            return {"days": (NOT_A_DATE if alone.code == "invalid_date" else BAD_DAY, shown)}
        if day in seen:
            return {"days": (TWICE, shown)}
        if day > today:
            return {"days": (AFTER_TODAY, shown | {"today": written_day(today)})}
        seen.add(day)
    return {"form": (STALE, {})}


def _import_form(
    request: web.Request,
    session: Session,
    site: Site,
    values: dict[str, str],
    problems: Problems,
    status: int = 400,
) -> web.Response:
    context = {
        "session": session,
        "site": site,
        "values": values,
        "problems": problems,
        "first": first_problem(problems, ("form", *FIELDS)),
    }
    return aiohttp_jinja2.render_template(
        "admin_import.html", request, context, status=status if problems else 200
    )


async def import_form(request: web.Request) -> web.Response:
    """Show the import form, with a new import id."""
    session, site = await admin_site(request)
    values = dict.fromkeys(FIELDS[:3], "") | {"import_id": _new_id()}
    return _import_form(request, session, site, values, {})


async def _refused(
    request: web.Request,
    session: Session,
    site: Site,
    values: dict[str, str],
    exc: BadInput,
    document: dict[str, Any],
) -> web.Response:
    """Show the form again with the problem of an import the service refused."""
    today = await admin.local_today(request.app[STATS], site.id)
    problems = await asyncio.to_thread(_import_problem, exc, document, today)
    return _import_form(request, session, site, values, problems)


async def _posted(
    request: web.Request,
) -> tuple[Session, Site, dict[str, str], dict[str, Any]] | web.Response:
    """Read a posted import form of an admin session (its CSRF checked): the session, the
    site, the values typed and the import document; or the form again with its problems."""
    session, site = await admin_site(request)
    form = await _large_form(request)
    check_post(request, session, form)
    values, problems = _values(form)
    document = await asyncio.to_thread(_document, values, problems)
    if document is None:
        return _import_form(request, session, site, values, problems)
    return session, site, values, document


async def preview(request: web.Request) -> web.Response:
    """Show what the import would change, window by window, with the button that applies
    it; or the form again with its problems."""
    posted = await _posted(request)
    if isinstance(posted, web.Response):
        return posted
    session, site, values, document = posted
    try:
        change = await backfill.preview_import(request.app[STATS], site.id, document)
    except BadInput as exc:
        return await _refused(request, session, site, values, exc, document)
    days = document.get("days", [])
    carried = {
        "import_id": document["import_id"],
        "total_views": str(document["total"]["views"]) if "total" in document else "",
        "total_visits": str(document["total"]["visits"]) if "total" in document else "",
        "days": "".join(f"{d['date']},{d['views']},{d['visits']}\n" for d in days),
    }
    if carried["days"]:
        carried["days"] = "date,views,visits\n" + carried["days"]
    for name in ("date", "first", "last"):  # shown as the page's language writes dates
        if change.get(name):
            change[name] = date.fromisoformat(change[name])
    context = {"session": session, "site": site, "change": change, "carried": carried}
    return aiohttp_jinja2.render_template("admin_import_preview.html", request, context)


async def apply(request: web.Request) -> web.Response:
    """Apply the previewed import (backfill.import_counts), once per import id."""
    posted = await _posted(request)
    if isinstance(posted, web.Response):
        return posted
    session, site, values, document = posted
    try:
        reply = await backfill.import_counts(
            request.app[STATS], site.id, document, session.principal
        )
    except BadInput as exc:
        return await _refused(request, session, site, values, exc, document)
    except Conflict as exc:
        problem = CONFLICT if exc.code == "import_conflict" else TOO_LARGE
        return _import_form(request, session, site, values, {"form": (problem, {})}, 409)
    raise done(site.id, "imported" if reply["imported"] else "already_imported")
