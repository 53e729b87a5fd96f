"""Imports of old counts and exports of a site (DESIGN §5 /import and /export): an import is
checked whole (statsvc.core.backfill) before anything is written, then written in one atomic
script run, once per import id. Checking and laying out a large import (100,000 days is
hundreds of milliseconds of work) runs in a thread, so that the event loop keeps answering
hits meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.core.backfill import (
    EXPORT_FORMAT,
    MAX_FIGURE,
    Day,
    Import,
    export_path,
    normalised,
    parse_import,
)
from statsvc.core.calendar import day_bounds, kept_days, local_day, windows_at
from statsvc.core.errors import BadInput, Conflict
from statsvc.core.site import Site
from statsvc.service.audit import audit_entry, iso
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService
from statsvc.store import ImportPlan

DAY = 86400


async def export_site(stats: StatsService, site_id: str) -> dict[str, Any]:
    """Return everything needed to rebuild a site's numbers: settings, totals, every day
    still kept (with its refused hits and its visits by source), page totals. Posted to
    /import of an empty site it gives the same stats."""
    site = await stats.site(site_id)
    store = stats.store
    now = stats.now()
    today = local_day(now, site.zone)
    kept = kept_days(today, store.limits.retention_days)
    figures = await store.month_days(site_id, sorted({d.strftime("%Y-%m") for d in kept}))
    tallies = dict(zip(kept, await store.rejected(site_id, kept), strict=True))
    sources = dict(zip(kept, await store.day_sources(site_id, kept), strict=True))
    days = []
    for day in sorted({*figures, *(d for d, tally in tallies.items() if tally)}):
        views, visits = figures.get(day, (0, 0))
        row: dict[str, Any] = {"date": day.isoformat(), "views": views, "visits": visits}
        if tallies.get(day):
            row["rejected"] = tallies[day]
        if sources.get(day):
            row["sources"] = sources[day]
        days.append(row)
    views, visits = await store.totals(site_id)
    pages = await store.page_views(site_id, limit=store.limits.page_cap + 1)  # and "(other)"
    exported_at = iso(now)
    return {
        "format": EXPORT_FORMAT,
        "import_id": f"export:{site_id}:{exported_at}",
        "exported_at": exported_at,
        "site": site.to_json(),
        "total": {"views": views, "visits": visits},
        "days": days,
        "pages": [{"path": export_path(path), "views": n} for path, n in pages],
    }


async def import_counts(
    stats: StatsService, site_id: str, document: object, by: Principal
) -> dict[str, Any]:
    """Add an import's figures to a site once per import id (see docs/api.md, "Import"): checked
    whole before anything is written, then written in one atomic script run."""
    site = await stats.site(site_id)
    imported = await asyncio.to_thread(lambda: normalised(parse_import(document), site.query_keys))
    return await apply_import(stats, site_id, imported, by)


async def apply_import(
    stats: StatsService,
    site_id: str,
    imported: Import,
    by: Principal,
    *,
    origin: dict[str, str] | None = None,
    ledger: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Add a checked import's figures to a site once per import id; its pages are as a hit
    counts them (statsvc.core.backfill.normalised, done once: it is not idempotent). A
    migration names its source (`origin`, in the audit entry) and keeps its ledger with the
    import (see statsvc.service.migrate)."""
    site = await stats.site(site_id)
    now = stats.now()
    retention = stats.store.limits.retention_days
    plan = await asyncio.to_thread(_plan, imported, site, now, retention, by, origin, ledger)
    outcome = await stats.store.apply_import(site_id, plan)
    if outcome == "same":
        return {"imported": False, "reason": "already_imported", "import_id": imported.import_id}
    if outcome == "different":
        raise Conflict("import_conflict", "this import_id was used for another import")
    if outcome == "too_large":
        raise Conflict(
            "too_large",
            f"with this import a figure would pass {MAX_FIGURE:,} (2^53 - 1), the largest "
            "that every reader holds exactly; nothing was written",
        )
    if outcome == "pages_exceed_total":
        raise BadInput(
            "pages_exceed_total", "a page's total views would exceed the site's total views"
        )
    return {"imported": True, **plan.entry["detail"]}


def _plan(
    imported: Import,
    site: Site,
    now: float,
    retention: int,
    by: Principal,
    origin: dict[str, str] | None,
    ledger: tuple[str, str] | None,
) -> ImportPlan:
    """Lay out a checked import as the store writes it, with its audit entry."""
    kept = _kept_days(imported, local_day(now, site.zone), retention)
    views, visits = imported.added()
    entry = audit_entry(
        iso(now),
        by,
        "import",
        {
            "import_id": imported.import_id,
            "views": views,
            "visits": visits,
            "days": len(kept),
            "days_total_only": len(imported.days) - len(kept),
            "pages": len(imported.pages),
        }
        | ({"source": origin} if origin else {}),
    )
    return ImportPlan(
        import_id=imported.import_id,
        digest=imported.digest(),
        entry=entry,
        views=views,
        visits=visits,
        months=_months(kept, site.zone, retention, now),
        rejected=[(d.day, d.rejected) for d in kept if d.rejected],
        pages=list(imported.pages),
        ledger=ledger,
        sources=tuple((d.day, d.sources) for d in kept if d.sources),
    )


def _kept_days(imported: Import, today: date, retention: int) -> list[Day]:
    """Return the days of an import the store keeps as days (the others count in the total
    only); raise BadInput for a day after the site's `today`."""
    if any(d.day > today for d in imported.days):
        raise BadInput("invalid_date", f"a day after the site's today ({today}) was sent")
    return [d for d in imported.days if (today - d.day).days <= retention]


def _months(
    days: list[Day], zone: ZoneInfo, retention: int, now: float
) -> list[tuple[str, int, list[tuple[int, int, int]]]]:
    """Group days by month, each month with the lifetime its hash gets if the import makes
    it: as if made by its first counted view (count.lua), at least a day."""
    months: dict[str, list[tuple[int, int, int]]] = {}
    for d in sorted(days, key=lambda d: d.day):
        months.setdefault(d.day.strftime("%Y-%m"), []).append((d.day.day, d.views, d.visits))
    laid_out = []
    for month, rows in months.items():
        start = day_bounds(date.fromisoformat(month + "-01"), zone)[0]
        lifetime = max(DAY, int(start + (retention + 31) * DAY - now))
        laid_out.append((month, lifetime, rows))
    return laid_out


async def preview_import(stats: StatsService, site_id: str, document: object) -> dict[str, Any]:
    """Tell what an import would change, writing nothing: each window's views and visits
    before and after (as `apply_import` would add them: its days to the windows they fall
    in while the store keeps them, the larger of its total and its days' sum to the total),
    and how many days it brings. Raises BadInput as `import_counts` would."""
    site = await stats.site(site_id)
    imported = await asyncio.to_thread(lambda: normalised(parse_import(document), site.query_keys))
    now = stats.now()
    windows = windows_at(now, site.zone, site.week_start)
    kept = _kept_days(imported, windows.today, stats.store.limits.retention_days)
    spans: dict[str, Callable[[date], bool]] = {
        "today": lambda day: day == windows.today,
        "yesterday": lambda day: day == windows.yesterday,
        "week": lambda day: day in windows.week,
        "month": lambda day: day.strftime("%Y-%m") == windows.month,
    }
    before = await stats.counts(site_id, None)
    added = dict(zip(("views", "visits"), imported.added(), strict=True))
    changes: dict[str, dict[str, tuple[int, int]]] = {}
    for window in (*spans, "total"):
        changes[window] = {}
        for figure in ("views", "visits"):
            now_at = before[figure][window]
            if window == "total":
                more = added[figure]
            else:
                more = sum(getattr(d, figure) for d in kept if spans[window](d.day))
            changes[window][figure] = (now_at, now_at + more)
    days = sorted(d.day for d in imported.days)
    return {
        "import_id": imported.import_id,
        "date": windows.today.isoformat(),
        "windows": changes,
        "days": len(kept),
        "days_total_only": len(imported.days) - len(kept),
        "first": days[0].isoformat() if days else None,
        "last": days[-1].isoformat() if days else None,
    }
