"""The dashboard's period report of a site or a group: the printable report page (A4) and
its CSV and XLSX downloads, in the page's language (the periods the site and group pages
offer are statsvc.http.report_periods')."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from statsvc.core.backfill import DATE
from statsvc.core.chart import chart
from statsvc.core.errors import BadInput
from statsvc.core.periods import Period
from statsvc.http.admin_api import FIRST_YEAR, LAST_YEAR
from statsvc.http.appkeys import SETTINGS, STATS
from statsvc.http.dashboard import site_session
from statsvc.http.dashboard_groups import group_session
from statsvc.http.report_api import report_reply
from statsvc.i18n import _, current, number
from statsvc.service import reports
from statsvc.service.sessions import Session

CHART_MOST_DAYS = 92  # a report of a quarter or less draws its days as bars


def _asked_period(request: web.Request) -> Period:
    """Return the period a report page is asked for: `period` ("from_to", the site page's
    choice) or `from` and `to` (a range typed in); else 400 in the page's language."""
    query = request.query
    first, _sep, last = query.get("period", "").partition("_")
    if not first:
        first, last = query.get("from", ""), query.get("to", "")
    try:
        if not (DATE.fullmatch(first) and DATE.fullmatch(last)):
            raise ValueError(first, last)
        period = Period(date.fromisoformat(first), date.fromisoformat(last))
        if not all(FIRST_YEAR <= d.year <= LAST_YEAR for d in (period.start, period.end)):
            raise ValueError(first, last)  # as the API's dates: ranges around them stay dates
    except ValueError:
        raise BadInput("invalid_date", _("Choose the dates of the report.")) from None
    return period


async def _report(
    request: web.Request, make: Callable[[Period], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """Return `make`'s report of the period asked, or an error page saying why."""
    period = _asked_period(request)
    try:
        return await make(period)
    except BadInput as exc:
        limits = request.app[STATS].store.limits
        if exc.code == "invalid_range":
            raise BadInput(exc.code, _("The report's first day is after its last.")) from None
        raise BadInput(
            exc.code,
            _(
                "The figures of that period are no longer kept: a report reaches back "
                "{days} days at most, and the pages of single days are kept {page_days} days, "
                "so an older period must be made of whole months."
            ).format(days=limits.retention_days, page_days=limits.page_days_kept),
        ) from None


async def _site_report(request: web.Request) -> tuple[Session, str, dict[str, Any]]:
    """Return the session, the site's page and its report of the period asked."""
    session, site_id = await site_session(request)
    stats = request.app[STATS]
    report = await _report(request, lambda period: reports.site_report(stats, site_id, period))
    return session, f"/admin/sites/{site_id}", report


async def _group_report(request: web.Request) -> tuple[Session, str, dict[str, Any]]:
    """Return the session, the group's page and its report of the period asked (the
    instance's time zone)."""
    session, group_id = await group_session(request)
    stats, zone = request.app[STATS], request.app[SETTINGS].timezone
    report = await _report(
        request, lambda period: reports.group_report(stats, group_id, period, timezone=zone)
    )
    return session, f"/admin/groups/{group_id}", report


@aiohttp_jinja2.template("admin_report.html")
async def report_page(request: web.Request) -> dict[str, Any]:
    """Show a site's report of a period as a page to read and print (A4)."""
    return _page(*await _site_report(request))


@aiohttp_jinja2.template("admin_report.html")
async def group_report_page(request: web.Request) -> dict[str, Any]:
    """Show a group's report of a period, its member sites ranked, as a page to print (A4)."""
    return _page(*await _group_report(request))


async def report_file(request: web.Request) -> web.Response:
    """Download a site's report of a period as CSV or XLSX, headed in the page's language."""
    _session, _home, report = await _site_report(request)
    form = reports.check_format(request.match_info["format"])
    return await report_reply(report, form, current())


async def group_report_file(request: web.Request) -> web.Response:
    """Download a group's report of a period as CSV or XLSX, headed in the page's language."""
    _session, _home, report = await _group_report(request)
    form = reports.check_format(request.match_info["format"])
    return await report_reply(report, form, current())


def _page(session: Session, home: str, report: dict[str, Any]) -> dict[str, Any]:
    """Return the report page's values: the report, its dates as dates, its changes as
    written, its chart, and where its files and its site's (or group's) page are."""
    query = f"from={report['from']}&to={report['to']}&lang={current()}"
    return {
        "session": session,
        "home": home,
        "back": _("Back to the group") if "group" in report else _("Back to the site"),
        "owner": report.get("group") or report["site"],
        "report": report,
        "first": date.fromisoformat(report["from"]),
        "last": date.fromisoformat(report["to"]),
        "previous_first": date.fromisoformat(report["previous"]["from"]),
        "previous_last": date.fromisoformat(report["previous"]["to"]),
        "change": {key: _change(value) for key, value in report["change"].items()},
        "change_heading": _("Change (%)"),  # not in the template: its gettext formats with %
        "days": [{**row, "date": date.fromisoformat(row["date"])} for row in report["days"]],
        "chart": chart(report["days"]) if len(report["days"]) <= CHART_MOST_DAYS else None,
        "csv": f"{home}/report.csv?{query}",
        "xlsx": f"{home}/report.xlsx?{query}",
    }


def _change(value: float | None) -> str:
    """Return a change in percent as the page writes it: signed, or a dash for none."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + number(value) + " %"
