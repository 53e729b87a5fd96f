"""Period reports (DESIGN §5 /report): views and visits of a range of local days, the
previous range of the same length and the change, the days, top pages and top sources.

A report is made of a list of sites: a site's report is the one-site case; a group's sums
its member sites, each counted in its own time zone, and ranks them ("sites"). The files
(CSV, XLSX) are statsvc.service.report_files'."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.core.calendar import local_day
from statsvc.core.errors import BadInput
from statsvc.core.periods import KINDS, Period, recent_periods, whole_months
from statsvc.core.referrer import name
from statsvc.core.site import Site
from statsvc.service import groups
from statsvc.service.counting import StatsService

TOP = 20  # pages, sources in a report
FORMATS = ("json", "csv", "xlsx")
GROUP_WEEK_START = "monday"  # a group's weeks (the instance has no week setting): Vietnam's


def check_format(name: str) -> str:
    """Return a report format, or raise BadInput (bad_format) for one not offered."""
    if name not in FORMATS:
        raise BadInput("bad_format", f"format must be one of {', '.join(FORMATS)}")
    return name


async def site_report(stats: StatsService, site_id: str, period: Period) -> dict[str, Any]:
    """Return the report of one site (404 for an unknown site)."""
    site = await stats.site(site_id)
    report = await sites_report(stats, [site], period, timezone=site.timezone)
    return {"site": site.id, "name": site.name or site.id, **report}


async def group_report(
    stats: StatsService, group_id: str, period: Period, *, timezone: str
) -> dict[str, Any]:
    """Return the report of a group: its distinct member sites' (nested groups resolved,
    each site once) summed and ranked; `timezone` is the instance's, which named the
    period. Raise UnknownGroup (404)."""
    group = await groups.get_group(stats, group_id)
    sites = await groups.member_sites(stats, group_id)
    report = await sites_report(stats, sites, period, timezone=timezone, ranked=True)
    return {"group": group.id, "name": group.name or group.id, **report}


async def sites_report(
    stats: StatsService, sites: list[Site], period: Period, *, timezone: str, ranked: bool = False
) -> dict[str, Any]:
    """Return the report of the sum of `sites` (each in its own zone) over `period`; with
    `ranked` (a group), the sites ranked by views. Raise BadInput for a reversed range or one
    that reaches before the figures kept."""
    if period.start > period.end:
        raise BadInput("invalid_range", "from must not be after to")
    todays = [local_day(stats.now(), site.zone) for site in sites]
    # a group of no sites is bounded as any report: by the day of the report's own zone
    bounds = todays or [local_day(stats.now(), ZoneInfo(timezone))]
    for today in bounds:
        _check_kept(stats, period, today)
    # days to come hold nothing yet: the period ends today (the latest of the sites'), so that
    # this month so far is compared with as many days before it, not with a whole month
    last = max(bounds)
    if period.end > last:
        period = Period(period.start, max(period.start, last))
    previous = period.previous()
    days, earlier = period.days(), previous.days()
    figures = await asyncio.gather(
        *(stats.store.day_figures(site.id, days + earlier) for site in sites)
    )
    pages = await asyncio.gather(
        *(_top_pages(stats, site, period, today) for site, today in zip(sites, todays, strict=True))
    )
    summed = [
        (sum(site[n][0] for site in figures), sum(site[n][1] for site in figures))
        for n in range(len(days) + len(earlier))
    ]
    per_day, per_earlier = summed[: len(days)], summed[len(days) :]
    views, visits = sum(v for v, _ in per_day), sum(u for _, u in per_day)
    kept = all(previous.start >= _earliest(stats, today) for today in todays)
    before_views = sum(v for v, _ in per_earlier) if kept else None
    before_visits = sum(u for _, u in per_earlier) if kept else None
    report: dict[str, Any] = {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "timezone": timezone,
        "views": views,
        "visits": visits,
        "previous": {
            "from": previous.start.isoformat(),
            "to": previous.end.isoformat(),
            "views": before_views,
            "visits": before_visits,
        },
        "change": {"views": change(views, before_views), "visits": change(visits, before_visits)},
        "days": [
            {"date": day.isoformat(), "views": v, "visits": u}
            for day, (v, u) in zip(days, per_day, strict=True)
        ],
        "pages": _merged_pages(sites, pages),
        "sources": await _top_sources(stats, sites, period),
    }
    if ranked:
        report["sites"] = _ranked(sites, figures, len(days))
    return report


def change(now: int, before: int | None) -> float | None:
    """Return the change from `before` to `now` in percent, one decimal; None when there is
    nothing to compare with (no figures kept, or none at all before)."""
    if not before:
        return None
    return round((now - before) * 100 / before, 1)


def _earliest(stats: StatsService, today: date) -> date:
    """Return the oldest local day whose figures are sure to be kept."""
    return today - timedelta(days=stats.store.limits.retention_days)


def _check_kept(stats: StatsService, period: Period, today: date) -> None:
    """Refuse a period whose day figures, or page tallies, are no longer kept."""
    refused = refusal(stats, period, today)
    if refused is not None:
        raise refused


def refusal(stats: StatsService, period: Period, today: date) -> BadInput | None:
    """Return why a report of `period` cannot be made on local day `today`, or None."""
    limits = stats.store.limits
    earliest = _earliest(stats, today)
    if period.start < earliest or period.length > limits.retention_days + 1:
        return BadInput(
            "range_too_long",
            f"figures of a day are kept {limits.retention_days} days: "
            f"from must be {earliest.isoformat()} or later, and the range at most "
            f"{limits.retention_days + 1} days long",
        )
    _, days = whole_months(period, today)
    page_earliest = today - timedelta(days=limits.page_days_kept)
    if days and days[0] < page_earliest:
        return BadInput(
            "range_too_long",
            f"the pages of single days are kept {limits.page_days_kept} days: a range that "
            f"reaches before {page_earliest.isoformat()} must cover whole months (the "
            "current month up to today)",
        )
    return None


def offered_periods(
    stats: StatsService, sites: list[Site], zone: ZoneInfo, week_start: str
) -> dict[str, list[Period]]:
    """Return, for each kind of calendar period of the calendar of `zone` (a site's own; a
    group's, the instance's), the ones a report of `sites` can be made of: the current one
    (up to today) and the earlier ones whose figures are kept for every site, newest first."""
    today = local_day(stats.now(), zone)
    todays = {today, *(local_day(stats.now(), site.zone) for site in sites)}
    earliest = _earliest(stats, today)
    return {
        kind: [
            period
            for period in recent_periods(kind, today, week_start, earliest)
            if all(refusal(stats, period, day) is None for day in todays)
        ]
        for kind in KINDS
    }


async def _top_pages(
    stats: StatsService, site: Site, period: Period, today: date
) -> list[tuple[str, int]]:
    """Return a site's top pages of the period: its whole months' tallies and its other
    days', summed in the store in one call."""
    months, days = whole_months(period, today)
    if not months and not days:  # a period still to come
        return []
    return await stats.store.page_views(site.id, days=days, months=months, limit=TOP)


def _merged_pages(sites: list[Site], pages: list[list[tuple[str, int]]]) -> list[dict[str, Any]]:
    """Return the top pages of all sites: a page of a group names its site."""
    if len(sites) == 1:
        return [{"path": path, "views": views} for path, views in pages[0]]
    rows = [
        (views, site.id, path)
        for site, top in zip(sites, pages, strict=True)
        for path, views in top
    ]
    rows.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [{"site": site, "path": path, "views": views} for views, site, path in rows[:TOP]]


def _ranked(
    sites: list[Site], figures: list[list[tuple[int, int]]], length: int
) -> list[dict[str, Any]]:
    """Return the sites with their views and visits of the period, most views first."""
    rows = [
        (sum(v for v, _ in days[:length]), sum(u for _, u in days[:length]), site)
        for site, days in zip(sites, figures, strict=True)
    ]
    rows.sort(key=lambda row: (-row[0], row[2].id))
    return [
        {"site": site.id, "name": site.name or site.id, "views": views, "visits": visits}
        for views, visits, site in rows
    ]


async def _top_sources(
    stats: StatsService, sites: list[Site], period: Period
) -> list[dict[str, Any]]:
    """Return the top sources of the period by visits, [{"source", "name", "visits"}], ties
    by source: one site's from the store's sum of its days; a group's summed over its sites
    (each site's all, so that a source below one site's top 20 still adds up)."""
    days = period.days()
    limit = TOP if len(sites) == 1 else None
    found = await asyncio.gather(*(stats.store.top_sources(s.id, days, limit) for s in sites))
    visits: Counter[str] = Counter()
    for pairs in found:
        for source, count in pairs:
            visits[source] += count
    top = sorted(visits.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP]
    return [{"source": source, "name": name(source), "visits": n} for source, n in top]
