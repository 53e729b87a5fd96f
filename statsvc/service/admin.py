"""The admin service of DESIGN §5: a site's figures, pages, series, audit trail and
settings. Who may do what is statsvc.service.auth's; imports and exports are
statsvc.service.backfill's. Callers check `auth.allows` first. Errors: BadInput, Conflict,
UnknownSite (statsvc.core.errors)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from statsvc.core.calendar import kept_days, local_day, windows_at
from statsvc.core.errors import BadInput
from statsvc.core.reasons import REASONS
from statsvc.core.referrer import name
from statsvc.core.site import SettingsError, is_site_id, new_site
from statsvc.service.audit import audit_entry, iso
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService
from statsvc.store import AUDIT_CAP

WINDOWS = ("today", "yesterday", "week", "month", "total")
MAX_LIMIT = 1000  # pages or audit entries in one reply
MAX_SERIES_DAYS = 400  # days in one series


async def site_stats(stats: StatsService, site_id: str) -> dict[str, Any]:
    """Return the site's counts of DESIGN §3 and its refused hits by window and reason."""
    body = await stats.counts(site_id, None)
    site = await stats.site(site_id)
    windows = windows_at(stats.now(), site.zone, site.week_start)
    month = windows.month_days()
    days = sorted({*month, *windows.week, windows.yesterday})
    tallies = dict(zip(days, await stats.store.rejected(site_id, days), strict=True))
    body["rejected"] = {
        "today": _summed(tallies, [windows.today]),
        "yesterday": _summed(tallies, [windows.yesterday]),
        "week": _summed(tallies, windows.week),
        "month": _summed(tallies, month),
    }
    return body


async def top_pages(stats: StatsService, site_id: str, window: str, limit: int) -> dict[str, Any]:
    """Return the most viewed pages of a window (DESIGN §5 /pages)."""
    if window not in WINDOWS:
        raise BadInput("invalid_window", f"window must be one of {', '.join(WINDOWS)}")
    _check_limit(limit, MAX_LIMIT)
    site = await stats.site(site_id)
    windows = windows_at(stats.now(), site.zone, site.week_start)
    store = stats.store
    if window == "total":
        pages = await store.page_views(site_id, limit=limit)
    elif window == "month":
        pages = await store.page_views(site_id, month=windows.month, limit=limit)
    else:
        days = {"today": (windows.today,), "yesterday": (windows.yesterday,)}.get(window)
        pages = await store.page_views(site_id, days=days or windows.week, limit=limit)
    return {
        "window": window,
        "date": windows.today.isoformat(),
        "pages": [{"path": path, "views": views} for path, views in pages],
    }


async def sources(stats: StatsService, site_id: str, window: str, limit: int) -> dict[str, Any]:
    """Return the sources of a window's visits, most visits first (DESIGN §5 /sources), each
    with the name people know it by. Sources are kept by day only: `total` is every day still
    kept (the retention), the month window the month's days up to today."""
    if window not in WINDOWS:
        raise BadInput("invalid_window", f"window must be one of {', '.join(WINDOWS)}")
    _check_limit(limit, MAX_LIMIT)
    site = await stats.site(site_id)
    windows = windows_at(stats.now(), site.zone, site.week_start)
    days = {
        "today": [windows.today],
        "yesterday": [windows.yesterday],
        "week": list(windows.week),
        "month": windows.month_days(),
    }.get(window) or kept_days(windows.today, stats.store.limits.retention_days)
    found = await stats.store.top_sources(site_id, days, limit)
    return {
        "window": window,
        "date": windows.today.isoformat(),
        "sources": [
            {"source": source, "name": name(source), "visits": visits} for source, visits in found
        ],
    }


async def local_today(stats: StatsService, site_id: str) -> date:
    """Return the site's local date now."""
    site = await stats.site(site_id)
    return local_day(stats.now(), site.zone)


async def series(stats: StatsService, site_id: str, start: date, end: date) -> dict[str, Any]:
    """Return views, visits and refused hits per local day from `start` to `end`."""
    if start > end:
        raise BadInput("invalid_range", "from must not be after to")
    if (end - start).days >= MAX_SERIES_DAYS:
        raise BadInput("invalid_range", f"a series spans at most {MAX_SERIES_DAYS} days")
    await stats.site(site_id)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    figures = await stats.store.day_figures(site_id, days)
    tallies = await stats.store.rejected(site_id, days)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "days": [
            {
                "date": day.isoformat(),
                "views": views,
                "visits": visits,
                "rejected": _summed({day: tally}, [day]),
            }
            for day, (views, visits), tally in zip(days, figures, tallies, strict=True)
        ],
    }


async def audit(stats: StatsService, site_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Return the latest entries of a site's audit trail, newest first."""
    _check_limit(limit, AUDIT_CAP)
    await stats.site(site_id)
    return await stats.store.audit(site_id, limit)


async def save_settings(
    stats: StatsService,
    site_id: str,
    changes: dict[str, Any],
    by: Principal,
    *,
    timezone: str,
    locale: str,
) -> tuple[dict[str, Any], bool]:
    """Create a site (with the default `timezone` and `locale`) or change the settings sent;
    return all its settings and whether it is new."""
    if not is_site_id(site_id):
        raise BadInput("invalid_site", "a site id matches ^[a-z0-9][a-z0-9_-]{0,62}$")
    current = await stats.store.get_site(site_id)
    try:
        site = (current or new_site(site_id, timezone, locale)).updated(changes)
    except SettingsError as exc:
        raise BadInput("invalid_setting", f"{exc.field}: {exc}") from exc  # the CLI translates it
    settings = site.to_json()
    changed = {name: settings[name] for name in changes if name != "id"}
    entry = audit_entry(iso(stats.now()), by, "settings", {"created": current is None, **changed})
    await stats.save_site(site, entry)
    return settings, current is None


def _summed(tallies: dict[date, dict[str, int]], days: Iterable[date]) -> dict[str, int]:
    """Return the refused hits of these days by reason, every known reason present."""
    total = dict.fromkeys(REASONS, 0)
    for day in days:
        for reason, n in tallies[day].items():
            total[reason] = total.get(reason, 0) + n
    return total


def _check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise BadInput("invalid_limit", f"limit must be from 1 to {most}")
