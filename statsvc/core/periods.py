"""Report periods: ranges of local days, the period before one, the calendar periods (day,
week, month, quarter, year) that hold a day, and which whole months a range covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from statsvc.core.calendar import week_days

KINDS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True, slots=True)
class Period:
    """The local days from `start` through `end`, both included."""

    start: date
    end: date

    @property
    def length(self) -> int:
        """Return how many days the period holds."""
        return (self.end - self.start).days + 1

    def days(self) -> list[date]:
        """Return the period's days in order."""
        return [self.start + timedelta(days=n) for n in range(self.length)]

    def previous(self) -> Period:
        """Return the period of the same length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.length), self.start - timedelta(days=1))


def period_of(kind: str, day: date, week_start: str) -> Period:
    """Return the calendar period of `kind` (one of KINDS) that holds `day`."""
    if kind == "day":
        return Period(day, day)
    if kind == "week":
        start = week_days(day, week_start)[0]
        return Period(start, start + timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
    elif kind == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif kind == "year":
        start = day.replace(month=1, day=1)
    else:
        raise ValueError(kind)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    return Period(start, _add_months(start, months) - timedelta(days=1))


def recent_periods(kind: str, today: date, week_start: str, earliest: date) -> list[Period]:
    """Return the periods of `kind` from the one holding `today` (cut at today) back to the
    oldest that starts on or after `earliest`, newest first."""
    found: list[Period] = []
    day = today
    while True:
        period = period_of(kind, day, week_start)
        if period.start < earliest:
            return found
        found.append(Period(period.start, min(period.end, today)))
        day = period.start - timedelta(days=1)


def whole_months(period: Period, today: date) -> tuple[list[str], list[date]]:
    """Split a period into the months ("YYYY-MM") it covers whole and its other days up to
    `today`. A month counts as whole when the period holds its days up to the last or up to
    today, whichever comes first (later days have no figures yet)."""
    months: list[str] = []
    days: list[date] = []
    start = period.start.replace(day=1)
    while start <= period.end:
        last = min(_add_months(start, 1) - timedelta(days=1), today)
        if period.start <= start and period.end >= last:
            months.append(start.strftime("%Y-%m"))
        else:
            inside = Period(max(start, period.start), min(last, period.end))
            days += inside.days()
        start = _add_months(start, 1)
    return months, days


def _add_months(first: date, months: int) -> date:
    """Return the first day of the month `months` after the month starting on `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
