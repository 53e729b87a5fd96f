"""What a reader gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from statsvc.core.migrate import Snapshot


@dataclass(frozen=True)
class Reading:
    """What was read: the source's id (its ledger's name), how the audit trail names it, and
    its figures in a site's time zone."""

    source: str
    origin: dict[str, str]
    snapshot_of: Callable[[ZoneInfo], Snapshot]


def with_initial(reading: Reading, initial: int | None) -> Reading:
    """Add an opening balance given with --initial to what a reader read."""
    if not initial:
        return reading
    of, opening = reading.snapshot_of, initial
    return Reading(reading.source, reading.origin, lambda zone: replace(of(zone), initial=opening))
