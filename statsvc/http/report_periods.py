"""The periods of a report that the dashboard's site and group pages offer, named in the
page's language."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.core.calendar import local_day
from statsvc.core.periods import Period
from statsvc.core.site import Site
from statsvc.i18n import N_, _
from statsvc.i18n import day as written_day
from statsvc.service import reports
from statsvc.service.counting import StatsService

KIND_LABELS = {
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
    "quarter": N_("Quarter"),
    "year": N_("Year"),
}


def period_choices(
    stats: StatsService, sites: list[Site], zone: ZoneInfo, week_start: str
) -> list[dict[str, Any]]:
    """Return a page's choice of report periods of `sites` in the calendar of `zone` (the
    site's, or for a group the instance's): each kind with its periods' values ("from_to")
    and labels, the current one first."""
    today = local_day(stats.now(), zone)
    return [
        {
            "kind": kind,
            "label": KIND_LABELS[kind],
            "periods": [
                {"value": f"{p.start}_{p.end}", "label": _period_label(kind, p, today)}
                for p in periods
            ],
        }
        for kind, periods in reports.offered_periods(stats, sites, zone, week_start).items()
        if periods
    ]


def _period_label(kind: str, period: Period, today: date) -> str:
    """Return how a period is named in the choice, in the page's language."""
    start = period.start
    if kind == "day":
        label = written_day(start)
    elif kind == "week":
        label = _("Week {first} to {last}").format(
            first=written_day(start), last=written_day(period.end)
        )
    elif kind == "month":
        label = _("Month {month}/{year}").format(month=start.month, year=start.year)
    elif kind == "quarter":
        label = _("Quarter {quarter}/{year}").format(
            quarter=(start.month - 1) // 3 + 1, year=start.year
        )
    else:
        label = _("Year {year}").format(year=start.year)
    if period.end == today and kind != "day":
        label = _("{period} (up to today)").format(period=label)
    return label
