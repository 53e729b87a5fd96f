"""NukeViet 4's counter table (`nv4_counter`), its rows as a Snapshot.

includes/core/stat.php adds 1 to the rows (total, hits), (year, YYYY), (month, Jan..Dec),
(day, 01..31), (dayofweek, …), (hour, 00..23), (browser, …), (os, …), (country, …) once per
visit (a 30-minute cookie), and keeps the time of the last counted visit in (c_time, last).
Before counting, a new year sets the month, day and hour rows to 0, a new month the day and
hour rows, a new day the hour rows. So the table holds the all-time total, the years, the
months of the last visit's year and the days of its month: no more. statsvc keeps days and a
total, so the days of that month come as days and the rest in the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from statsvc.core.calendar import local_day
from statsvc.core.migrate.ledger import Snapshot


def from_rows(rows: Iterable[tuple[str, str, int]], zone: ZoneInfo) -> Snapshot:
    """Return the total and the last month's days of (c_type, c_val, c_count) rows; the
    last visit's time is read in the site's zone (NukeViet's statistics_timezone)."""
    hits = last = 0
    years: dict[str, int] = {}
    day_rows: dict[int, int] = {}
    for kind, value, count in rows:
        if kind == "total" and value == "hits":
            hits = count
        elif kind == "c_time" and value == "last":
            last = count
        elif kind == "year":
            years[value] = count
        elif kind == "day" and value.isdigit():
            day_rows[int(value)] = count
    days: dict[date, tuple[int, int]] = {}
    if last > 0:
        month = local_day(last, zone).replace(day=1)
        for n, count in day_rows.items():
            try:
                day = month.replace(day=n)
            except ValueError:  # a 31st row in a 30-day month: reset, 0
                continue
            if count > 0 and day <= local_day(last, zone):
                days[day] = (count, count)
    total = max(hits, sum(years.values()))
    return Snapshot(days=days, total=(total, total))
