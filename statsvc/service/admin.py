"""The admin service of DESIGN §5: who may do what, and a site's figures, pages, series,
tokens, audit trail, imports and exports. The HTTP views and the dashboard stay thin over it.

Signatures (the dashboard calls these; all take the app's Counter):

    Principal(token_id: str, site: str | None)     site None: the admin token, id "admin"
    await authenticate(counter, admin_token, presented) -> Principal | None
    allows(principal, site_id, *, write) -> bool    site tokens: read-only, own site only
    await site_stats(counter, site_id) -> dict      DESIGN §3 counts without path/page, plus
        "rejected": {"today"|"yesterday"|"week"|"month": {reason: n}}, every REASON present
    await top_pages(counter, site_id, window, limit) -> dict
        {"window", "date", "pages": [{"path", "views"}]}, most viewed first, ties by path
    await series(counter, site_id, start, end) -> dict
        {"from", "to", "days": [{"date", "views", "visits", "rejected": {reason: n}}]}
    await local_today(counter, site_id) -> date
    await audit(counter, site_id, limit=100) -> list[dict]   newest first:
        {"at": ISO UTC, "by": token id, "action": "import"|"settings"|"token_create"|
         "token_revoke", "detail": {...}}
    await create_token(counter, site_id, by) -> {"token_id", "token"}   the only time shown
    await revoke_token(counter, site_id, token_id, by) -> bool          False: no such token
    await list_tokens(counter, site_id) -> [{"token_id", "created_at", "created_by"}]
    await save_settings(counter, site_id, changes, by, *, timezone, locale) -> (settings, new)
    await export_site(counter, site_id) -> dict     the export document (README "API")
    await import_counts(counter, site_id, document, by) -> dict
        {"imported": true, "import_id", "views", "visits", "days", "days_total_only",
         "pages"} or {"imported": false, "reason": "already_imported", "import_id"}
    await apply_import(counter, site_id, imported: imports.Import, by) -> dict   the same,
        for an import already checked (the CLI's parts)
    REASONS: every reason a hit is not counted, in report order

Callers check `allows` first. Errors: ApiError (4xx JSON), BadInput (400), UnknownSite (404).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.core.backfill import EXPORT_FORMAT, Day, Import, parse_import
from statsvc.core.calendar import day_bounds, local_day, windows_at
from statsvc.core.site import SettingsError, is_site_id, new_site
from statsvc.http.errors import ApiError
from statsvc.service.counting import Counter
from statsvc.store.store import AUDIT_CAP, REASONS, ImportPlan

ADMIN = "admin"
WINDOWS = ("today", "yesterday", "week", "month", "total")
MAX_LIMIT = 1000  # pages or audit entries in one reply
MAX_SERIES_DAYS = 400  # days in one series
# a read-only token: svt_<site>.<token id>.<secret>; the site and id find its record
TOKEN = re.compile(r"svt_([a-z0-9][a-z0-9_-]{0,62})\.([0-9a-f]{16})\.[A-Za-z0-9_-]{43}")
DAY = 86400


@dataclass(frozen=True)
class Principal:
    """Who an admin request acts as: the admin (site None) or a site's read-only token."""

    token_id: str
    site: str | None


async def authenticate(
    counter: Counter, admin_token: str | None, presented: str
) -> Principal | None:
    """Return who the bearer token `presented` is, or None for no valid token."""
    # header bytes that are not UTF-8 arrive as surrogate escapes: compare the bytes sent
    given = presented.encode("utf-8", "surrogateescape")
    if admin_token and hmac.compare_digest(given, admin_token.encode()):
        return Principal(ADMIN, None)
    match = TOKEN.fullmatch(presented)
    if match is None:
        return None
    site_id, token_id = match.groups()
    record = await counter.store.token(site_id, token_id)
    if record is None or not hmac.compare_digest(_token_hash(presented), str(record["hash"])):
        return None
    return Principal(token_id, site_id)


def allows(principal: Principal, site_id: str | None, *, write: bool) -> bool:
    """Tell whether `principal` may read (or write) a site, or with site_id None, all sites."""
    if principal.site is None:
        return True
    return not write and site_id == principal.site


async def site_stats(counter: Counter, site_id: str) -> dict[str, Any]:
    """Return the site's counts of DESIGN §3 and its refused hits by window and reason."""
    body = await counter.counts(site_id, None)
    site = await counter.site(site_id)
    windows = windows_at(counter.now(), site.zone, site.week_start)
    month = [windows.today.replace(day=n) for n in range(1, windows.today.day + 1)]
    days = sorted({*month, *windows.week, windows.yesterday})
    tallies = dict(zip(days, await counter.store.rejected(site_id, days), strict=True))
    body["rejected"] = {
        "today": _summed(tallies, [windows.today]),
        "yesterday": _summed(tallies, [windows.yesterday]),
        "week": _summed(tallies, windows.week),
        "month": _summed(tallies, month),
    }
    return body


async def top_pages(counter: Counter, site_id: str, window: str, limit: int) -> dict[str, Any]:
    """Return the most viewed pages of a window (DESIGN §5 /pages)."""
    if window not in WINDOWS:
        raise ApiError(400, "invalid_window", f"window must be one of {', '.join(WINDOWS)}")
    _check_limit(limit, MAX_LIMIT)
    site = await counter.site(site_id)
    windows = windows_at(counter.now(), site.zone, site.week_start)
    store = counter.store
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


async def local_today(counter: Counter, site_id: str) -> date:
    """Return the site's local date now."""
    site = await counter.site(site_id)
    return local_day(counter.now(), site.zone)


async def series(counter: Counter, site_id: str, start: date, end: date) -> dict[str, Any]:
    """Return views, visits and refused hits per local day from `start` to `end`."""
    if start > end:
        raise ApiError(400, "invalid_range", "from must not be after to")
    if (end - start).days >= MAX_SERIES_DAYS:
        raise ApiError(400, "invalid_range", f"a series spans at most {MAX_SERIES_DAYS} days")
    await counter.site(site_id)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    figures = await counter.store.day_figures(site_id, days)
    tallies = await counter.store.rejected(site_id, days)
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


async def audit(counter: Counter, site_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Return the latest entries of a site's audit trail, newest first."""
    _check_limit(limit, AUDIT_CAP)
    await counter.site(site_id)
    return await counter.store.audit(site_id, limit)


async def create_token(counter: Counter, site_id: str, by: Principal) -> dict[str, str]:
    """Make a read-only token of a site; return it (it is never shown again: only its hash
    is kept)."""
    await counter.site(site_id)
    token_id = secrets.token_hex(8)
    token = f"svt_{site_id}.{token_id}.{secrets.token_urlsafe(32)}"
    at = _iso(counter.now())
    record = {"hash": _token_hash(token), "created_at": at, "created_by": by.token_id}
    entry = _entry(at, by, "token_create", {"token_id": token_id})
    if not await counter.store.add_token(site_id, token_id, record, entry):
        raise ApiError(409, "too_many_tokens", "the site has as many tokens as it may have")
    return {"token_id": token_id, "token": token}


async def revoke_token(counter: Counter, site_id: str, token_id: str, by: Principal) -> bool:
    """Revoke a site's token at once; False if it has no such token."""
    await counter.site(site_id)
    if not re.fullmatch(r"[0-9a-f]{16}", token_id):
        return False
    entry = _entry(_iso(counter.now()), by, "token_revoke", {"token_id": token_id})
    return await counter.store.remove_token(site_id, token_id, entry)


async def list_tokens(counter: Counter, site_id: str) -> list[dict[str, str]]:
    """Return a site's tokens: ids and when and by whom made, never a secret or a hash."""
    await counter.site(site_id)
    records = await counter.store.tokens(site_id)
    listed = [
        {"token_id": token_id, "created_at": r["created_at"], "created_by": r["created_by"]}
        for token_id, r in records.items()
    ]
    return sorted(listed, key=lambda t: (t["created_at"], t["token_id"]))


async def save_settings(
    counter: Counter,
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
        raise ApiError(400, "invalid_site", "a site id matches ^[a-z0-9][a-z0-9_-]{0,62}$")
    current = await counter.store.get_site(site_id)
    try:
        site = (current or new_site(site_id, timezone, locale)).updated(changes)
    except SettingsError as exc:
        raise ApiError(400, "invalid_setting", f"{exc.field}: {exc}") from None
    settings = site.to_json()
    changed = {name: settings[name] for name in changes if name != "id"}
    entry = _entry(_iso(counter.now()), by, "settings", {"created": current is None, **changed})
    await counter.save_site(site, entry)
    return settings, current is None


async def export_site(counter: Counter, site_id: str) -> dict[str, Any]:
    """Return everything needed to rebuild a site's numbers: settings, totals, every day
    still kept, page totals. Posted to /import of an empty site it gives the same stats."""
    site = await counter.site(site_id)
    store = counter.store
    now = counter.now()
    today = local_day(now, site.zone)
    first = today - timedelta(days=store.limits.retention_days + 31)  # a month hash's lifetime
    kept = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    figures = await store.month_days(site_id, sorted({d.strftime("%Y-%m") for d in kept}))
    tallies = dict(zip(kept, await store.rejected(site_id, kept), strict=True))
    days = []
    for day in sorted({*figures, *(d for d, tally in tallies.items() if tally)}):
        views, visits = figures.get(day, (0, 0))
        row: dict[str, Any] = {"date": day.isoformat(), "views": views, "visits": visits}
        if tallies.get(day):
            row["rejected"] = tallies[day]
        days.append(row)
    views, visits = await store.totals(site_id)
    pages = await store.page_views(site_id, limit=store.limits.page_cap + 1)  # and "(other)"
    exported_at = _iso(now)
    return {
        "format": EXPORT_FORMAT,
        "import_id": f"export:{site_id}:{exported_at}",
        "exported_at": exported_at,
        "site": site.to_json(),
        "total": {"views": views, "visits": visits},
        "days": days,
        "pages": [{"path": path, "views": n} for path, n in pages],
    }


async def import_counts(
    counter: Counter, site_id: str, document: object, by: Principal
) -> dict[str, Any]:
    """Add an import's figures to a site once per import id (see README "Import"): checked
    whole before anything is written, then written in one atomic script run."""
    await counter.site(site_id)
    return await apply_import(counter, site_id, parse_import(document), by)


async def apply_import(
    counter: Counter, site_id: str, imported: Import, by: Principal
) -> dict[str, Any]:
    """Add a checked import's figures to a site once per import id."""
    site = await counter.site(site_id)
    now = counter.now()
    today = local_day(now, site.zone)
    if any(d.day > today for d in imported.days):
        raise ApiError(400, "invalid_date", f"a day after the site's today ({today}) was sent")
    retention = counter.store.limits.retention_days
    kept = [d for d in imported.days if (today - d.day).days <= retention]
    views, visits = imported.added()
    entry = _entry(
        _iso(now),
        by,
        "import",
        {
            "import_id": imported.import_id,
            "views": views,
            "visits": visits,
            "days": len(kept),
            "days_total_only": len(imported.days) - len(kept),
            "pages": len(imported.pages),
        },
    )
    plan = ImportPlan(
        import_id=imported.import_id,
        digest=imported.digest(),
        entry=entry,
        views=views,
        visits=visits,
        months=_months(kept, site.zone, retention, now),
        rejected=[(d.day, d.rejected) for d in kept if d.rejected],
        pages=list(imported.pages),
    )
    outcome = await counter.store.apply_import(site_id, plan)
    if outcome == "same":
        return {"imported": False, "reason": "already_imported", "import_id": imported.import_id}
    if outcome == "different":
        raise ApiError(409, "import_conflict", "this import_id was used for another import")
    if outcome == "pages_exceed_total":
        raise ApiError(
            400, "pages_exceed_total", "a page's total views would exceed the site's total views"
        )
    return {"imported": True, **entry["detail"]}


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


def _summed(tallies: dict[date, dict[str, int]], days: Iterable[date]) -> dict[str, int]:
    """Return the refused hits of these days by reason, every known reason present."""
    total = dict.fromkeys(REASONS, 0)
    for day in days:
        for reason, n in tallies[day].items():
            total[reason] = total.get(reason, 0) + n
    return total


def _check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise ApiError(400, "invalid_limit", f"limit must be from 1 to {most}")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _entry(at: str, by: Principal, action: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"at": at, "by": by.token_id, "action": action, "detail": detail}
