"""The dashboard's period report: the periods a site page offers (dashboard.site), the
printable report page (A4) and its CSV and XLSX downloads, in the page's language."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from statsvc.core.backfill import DATE
from statsvc.core.chart import chart
from statsvc.core.errors import BadInput
from statsvc.core.periods import Period
from statsvc.http.admin_api import FIRST_YEAR, LAST_YEAR
from statsvc.http.appkeys import STATS
from statsvc.http.dashboard import site_session as _site_session
from statsvc.http.report_api import report_reply
from statsvc.i18n import _, current, number
from statsvc.service import reports

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


async def _report(request: web.Request, site_id: str) -> dict[str, Any]:
    """Return the site's report of the period asked, or an error page saying why."""
    period = _asked_period(request)
    stats = request.app[STATS]
    try:
        return await reports.site_report(stats, site_id, period)
    except BadInput as exc:
        limits = stats.store.limits
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


@aiohttp_jinja2.template("admin_report.html")
async def report_page(request: web.Request) -> dict[str, Any]:
    """Show a site's report of a period as a page to read and print (A4)."""
    session, site_id = await _site_session(request)
    report = await _report(request, site_id)
    site = await request.app[STATS].site(site_id)
    query = f"from={report['from']}&to={report['to']}&lang={current()}"
    return {
        "session": session,
        "site": site,
        "report": report,
        "first": date.fromisoformat(report["from"]),
        "last": date.fromisoformat(report["to"]),
        "previous_first": date.fromisoformat(report["previous"]["from"]),
        "previous_last": date.fromisoformat(report["previous"]["to"]),
        "change": {key: _change(value) for key, value in report["change"].items()},
        "change_heading": _("Change (%)"),  # not in the template: its gettext formats with %
        "days": [{**row, "date": date.fromisoformat(row["date"])} for row in report["days"]],
        "chart": chart(report["days"]) if len(report["days"]) <= CHART_MOST_DAYS else None,
        "csv": f"/admin/sites/{site_id}/report.csv?{query}",
        "xlsx": f"/admin/sites/{site_id}/report.xlsx?{query}",
    }


async def report_file(request: web.Request) -> web.Response:
    """Download a site's report of a period as CSV or XLSX, headed in the page's language."""
    _session, site_id = await _site_session(request)
    form = reports.check_format(request.match_info["format"])
    report = await _report(request, site_id)
    return await report_reply(report, form, current())


def _change(value: float | None) -> str:
    """Return a change in percent as the page writes it: signed, or a dash for none."""
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + number(value) + " %"
