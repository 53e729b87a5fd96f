"""Vinaora Visitors Counter (Joomla), its rows as a Snapshot.

2.x/3.x (`#__vvisit_counter`) and 2.0's `#__vvcounter_logs` keep one row per session-length
bucket: `time` is the bucket's end ((now // lifetime + 1) * lifetime when its first visit
came), so a row belongs to the local day of `time - 1`; `visits` is guests + members + bots.
1.x (`#__vvisitcounter`) keeps one row per visit, `tm` its Unix time. The module counted
visits only: they are added as views too, so the box's total carries on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from statsvc.core.calendar import local_day
from statsvc.core.migrate.ledger import Snapshot


def from_buckets(rows: Iterable[tuple[int, int]], zone: ZoneInfo, *, initial: int) -> Snapshot:
    """Return the visits of (bucket end, visits) rows per local day, plus the opening
    balance."""
    return _days(((end - 1, visits) for end, visits in rows), zone, initial)


def from_visits(rows: Iterable[tuple[int, int]], zone: ZoneInfo, *, initial: int) -> Snapshot:
    """Return the visits of 1.x's (instant, visits) rows per local day (the reader groups
    its one row per visit by quarter hour: every zone's offset is a whole quarter)."""
    return _days(rows, zone, initial)


def initial_value(params: Iterable[str]) -> int:
    """Return the opening balance set in the module's parameters (`#__modules.params`, JSON),
    0 when none says one: the first parameter whose name starts with "initial" and holds a
    whole number. (The module's XML was not in the reference copies we could read; its
    "initial value" field is named so in the versions its users quote.)"""
    for text in params:
        try:
            values = json.loads(text or "{}")
        except ValueError:
            continue
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if name.lower().startswith("initial") and str(value).strip().isdigit():
                return int(str(value).strip())
    return 0


def _days(rows: Iterable[tuple[int, int]], zone: ZoneInfo, initial: int) -> Snapshot:
    days: dict[date, tuple[int, int]] = {}
    for instant, visits in rows:
        if visits <= 0:
            continue
        day = local_day(instant, zone)
        views, _ = days.get(day, (0, 0))
        days[day] = (views + visits, views + visits)
    return Snapshot(days=days, initial=initial)
