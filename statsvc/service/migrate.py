"""`statsvc migrate` (DESIGN §9): an old counter's figures added to a site through the import
path (checked, once, audited), each run adding only what earlier runs from the same source
did not (statsvc.core.migrate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.core.backfill import normalised
from statsvc.core.calendar import local_day
from statsvc.core.errors import Conflict
from statsvc.core.migrate import Ledger, Snapshot, plan, summary
from statsvc.service.auth import Principal
from statsvc.service.backfill import apply_import
from statsvc.service.counting import StatsService


async def migrate(
    stats: StatsService,
    site_id: str,
    source: str,
    snapshot_of: Callable[[ZoneInfo], Snapshot],
    origin: dict[str, str],
    by: Principal,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Add what the old counter `source` says beyond what earlier runs added (a dry run only
    says what that would be); return the sums added, with "applied" imports and "skipped"
    ones another run had applied first."""
    site = await stats.site(site_id)
    snapshot = snapshot_of(site.zone)
    ledger = Ledger.from_json(await stats.store.migration_ledger(site_id, source))
    today = local_day(stats.now(), site.zone)
    steps = plan(source, snapshot, ledger, today, site.query_keys)
    if dry_run:
        return {"source": source, **summary(steps), "dry_run": True}
    applied = []
    for step in steps:
        try:
            reply = await apply_import(
                stats,
                site_id,
                normalised(step.imported, site.query_keys),  # pages as a hit counts them
                by,
                origin=origin,
                ledger=(source, step.ledger.to_json()),
            )
        except Conflict:  # the same run number, other figures: a run that read the source later
            raise Conflict(
                "migrate_raced",
                "another run of this source was applied meanwhile; run it again",
            ) from None
        if reply["imported"]:
            applied.append(step)
    # a step not imported was applied first by another run of the same source: not this one's
    return {
        "source": source,
        **summary(applied),
        "applied": len(applied),
        "skipped": len(steps) - len(applied),
    }
