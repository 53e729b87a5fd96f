"""Local days, weeks and months of a site: pure functions of an instant and a zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK_STARTS = {"monday": 0, "sunday": 6}


@dataclass(frozen=True, slots=True)
class Windows:
    """The calendar windows that contain one instant, in one site's zone."""

    today: date
    yesterday: date
    week: tuple[date, ...]  # the days of the current week up to and including today
    month: str  # "YYYY-MM"

    @property
    def last_month(self) -> str:
        """Return the month before this one, "YYYY-MM"."""
        return (self.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    def day_fields(self) -> tuple[str, str, str, str, str]:
        """Return how the counting script finds the days in the month hashes: today's and
        yesterday's day of the month, "1" if yesterday is in last month, and the week's
        days before today in this month and in last month ("DD,DD")."""
        before = self.week[:-1]
        return (
            f"{self.today.day:02d}",
            f"{self.yesterday.day:02d}",
            "1" if self.yesterday.month != self.today.month else "0",
            ",".join(f"{d.day:02d}" for d in before if d.month == self.today.month),
            ",".join(f"{d.day:02d}" for d in before if d.month != self.today.month),
        )


def local_day(now: float, zone: ZoneInfo) -> date:
    """Return the local date in `zone` at the Unix time `now`."""
    return datetime.fromtimestamp(now, UTC).astimezone(zone).date()


def week_days(today: date, week_start: str) -> tuple[date, ...]:
    """Return the days from the start of `today`'s week through `today`."""
    back = (today.weekday() - WEEK_STARTS[week_start]) % 7
    return tuple(today - timedelta(days=n) for n in range(back, -1, -1))


def windows_at(now: float, zone: ZoneInfo, week_start: str) -> Windows:
    """Return the windows that contain the instant `now` in `zone`."""
    today = local_day(now, zone)
    return Windows(
        today=today,
        yesterday=today - timedelta(days=1),
        week=week_days(today, week_start),
        month=today.strftime("%Y-%m"),
    )


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """Return the Unix times at which local `day` starts and the next day starts in `zone`
    (where midnight falls in a DST gap, the day starts at its first existing instant)."""
    return _first_instant(day, zone), _first_instant(day + timedelta(days=1), zone)


def _first_instant(day: date, zone: ZoneInfo) -> float:
    instant = datetime.combine(day, time(0), tzinfo=zone).timestamp()
    while local_day(instant, zone) > day:  # folded back across a gap: step back an hour
        instant -= 3600
    while local_day(instant, zone) < day:
        instant += 60
    while local_day(instant - 60, zone) == day:
        instant -= 60
    return instant
