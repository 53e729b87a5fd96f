"""Calendar windows in a site's zone, without a store: local days and their bounds, weeks
from either start, months and years, DST days of 23 or 25 hours and midnights that do not exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statsvc.core.calendar import Windows, day_bounds, local_day, week_days, windows_at
from tests.helpers import BERLIN, DST_DAYS, HCM, NEW_YORK, instant

LONDON = "Europe/London"
SANTIAGO = "America/Santiago"  # DST changes at local midnight: some days have no 00:00
HAVANA = "America/Havana"  # likewise, in spring
LORD_HOWE = "Australia/Lord_Howe"  # a DST change of half an hour
MILLISECOND = 0.001  # the finest step of the store's clock


def days(first: str, last: str) -> tuple[date, ...]:
    """Return the dates from `first` through `last`."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return tuple(start + timedelta(days=n) for n in range((end - start).days + 1))


def windows(today: str, week_from: str) -> Windows:
    """Return the windows of local date `today` in a week that began on `week_from`."""
    day = date.fromisoformat(today)
    return Windows(
        today=day,
        yesterday=day - timedelta(days=1),
        week=days(week_from, today),
        month=today[:7],
    )


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 26, 16, 59, 59, tzinfo=UTC),
            windows("2026-11-26", "2026-11-23"),
            id="23:59:59-local-is-16:59:59Z",
        ),
        pytest.param(
            datetime(2026, 11, 26, 17, 0, 0, tzinfo=UTC),
            windows("2026-11-27", "2026-11-23"),
            id="00:00:00-local-is-17:00:00Z",
        ),
        pytest.param(
            datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC),
            windows("2026-11-27", "2026-11-23"),
            id="utc-midnight-is-no-rollover",
        ),
    ],
)
def test_day_rolls_over_at_local_midnight_not_utc_midnight(
    utc: datetime, expected: Windows
) -> None:
    """In Asia/Ho_Chi_Minh (UTC+7) the day turns at 17:00 UTC, not at 00:00 UTC."""
    assert windows_at(utc.timestamp(), ZoneInfo(HCM), "monday") == expected


@pytest.mark.parametrize(
    ("local", "week_start", "expected"),
    [
        pytest.param(
            "2026-11-22T23:59:59+07:00",
            "monday",
            windows("2026-11-22", "2026-11-16"),
            id="monday-start-sunday-night-is-7-days",
        ),
        pytest.param(
            "2026-11-23T00:00:00+07:00",
            "monday",
            windows("2026-11-23", "2026-11-23"),
            id="monday-start-monday-midnight-is-1-day",
        ),
        pytest.param(
            "2026-11-26T12:00:00+07:00",
            "monday",
            windows("2026-11-26", "2026-11-23"),
            id="monday-start-thursday",
        ),
        pytest.param(
            "2026-11-21T23:59:59+07:00",
            "sunday",
            windows("2026-11-21", "2026-11-15"),
            id="sunday-start-saturday-night-is-7-days",
        ),
        pytest.param(
            "2026-11-22T00:00:00+07:00",
            "sunday",
            windows("2026-11-22", "2026-11-22"),
            id="sunday-start-sunday-midnight-is-1-day",
        ),
        pytest.param(
            "2026-11-23T00:00:00+07:00",
            "sunday",
            windows("2026-11-23", "2026-11-22"),
            id="sunday-start-monday-is-2-days",
        ),
    ],
)
def test_week_runs_from_the_site_week_start_through_today(
    local: str, week_start: str, expected: Windows
) -> None:
    """The week tuple lists the days from the latest `week_start` day through today."""
    assert windows_at(instant(local), ZoneInfo(HCM), week_start) == expected


@pytest.mark.parametrize(
    ("local", "week_start", "expected"),
    [
        pytest.param(
            "2026-11-30T23:59:59+07:00",
            "monday",
            windows("2026-11-30", "2026-11-30"),
            id="last-second-of-november",
        ),
        pytest.param(
            "2026-12-01T00:00:00+07:00",
            "monday",
            windows("2026-12-01", "2026-11-30"),
            id="first-second-of-december-week-spans-months",
        ),
        pytest.param(
            "2026-12-31T23:59:59+07:00",
            "monday",
            windows("2026-12-31", "2026-12-28"),
            id="last-second-of-2026",
        ),
        pytest.param(
            "2027-01-01T00:00:00+07:00",
            "monday",
            windows("2027-01-01", "2026-12-28"),
            id="first-second-of-2027-monday-week-spans-years",
        ),
        pytest.param(
            "2027-01-01T00:00:00+07:00",
            "sunday",
            windows("2027-01-01", "2026-12-27"),
            id="first-second-of-2027-sunday-week-spans-years",
        ),
        pytest.param(
            "2028-02-28T23:59:59+07:00",
            "monday",
            windows("2028-02-28", "2028-02-28"),
            id="leap-year-feb-28-night",
        ),
        pytest.param(
            "2028-02-29T00:00:00+07:00",
            "monday",
            windows("2028-02-29", "2028-02-28"),
            id="leap-day-starts",
        ),
        pytest.param(
            "2028-02-29T23:59:59+07:00",
            "monday",
            windows("2028-02-29", "2028-02-28"),
            id="leap-day-ends",
        ),
        pytest.param(
            "2028-03-01T00:00:00+07:00",
            "monday",
            windows("2028-03-01", "2028-02-28"),
            id="march-1-after-leap-day",
        ),
    ],
)
def test_month_and_year_roll_over_at_local_midnight_of_the_first(
    local: str, week_start: str, expected: Windows
) -> None:
    """The month turns at local midnight of the 1st, while the week carries across it."""
    assert windows_at(instant(local), ZoneInfo(HCM), week_start) == expected


# Local midnight around the DST days of 2026: (zone, the instant, its local date).
DST_MIDNIGHTS = [
    (BERLIN, "2026-03-28T23:59:59+01:00", "2026-03-28"),
    (BERLIN, "2026-03-29T00:00:00+01:00", "2026-03-29"),
    (BERLIN, "2026-03-29T23:59:59+02:00", "2026-03-29"),
    (BERLIN, "2026-03-30T00:00:00+02:00", "2026-03-30"),
    (BERLIN, "2026-10-24T23:59:59+02:00", "2026-10-24"),
    (BERLIN, "2026-10-25T00:00:00+02:00", "2026-10-25"),
    (BERLIN, "2026-10-25T23:59:59+01:00", "2026-10-25"),
    (BERLIN, "2026-10-26T00:00:00+01:00", "2026-10-26"),
    (NEW_YORK, "2026-03-07T23:59:59-05:00", "2026-03-07"),
    (NEW_YORK, "2026-03-08T00:00:00-05:00", "2026-03-08"),
    (NEW_YORK, "2026-03-08T23:59:59-04:00", "2026-03-08"),
    (NEW_YORK, "2026-03-09T00:00:00-04:00", "2026-03-09"),
    (NEW_YORK, "2026-10-31T23:59:59-04:00", "2026-10-31"),
    (NEW_YORK, "2026-11-01T00:00:00-04:00", "2026-11-01"),
    (NEW_YORK, "2026-11-01T23:59:59-05:00", "2026-11-01"),
    (NEW_YORK, "2026-11-02T00:00:00-05:00", "2026-11-02"),
    (LONDON, "2026-03-28T23:59:59+00:00", "2026-03-28"),
    (LONDON, "2026-03-29T00:00:00+00:00", "2026-03-29"),
    (LONDON, "2026-03-29T23:59:59+01:00", "2026-03-29"),
    (LONDON, "2026-03-30T00:00:00+01:00", "2026-03-30"),
    (LONDON, "2026-10-25T23:59:59+00:00", "2026-10-25"),
    (LONDON, "2026-10-26T00:00:00+00:00", "2026-10-26"),
]


@pytest.mark.parametrize(("zone", "local", "today"), DST_MIDNIGHTS)
def test_day_rolls_over_at_local_midnight_around_dst_changes(
    zone: str, local: str, today: str
) -> None:
    """On and around a DST change the local date turns exactly at local midnight."""
    got = windows_at(instant(local), ZoneInfo(zone), "monday")
    assert got.today == date.fromisoformat(today)
    assert got.month == today[:7]


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), DST_DAYS)
def test_a_whole_dst_day_of_23_or_25_hours_is_one_date(
    zone: str, day: str, start: str, end: str, hours: int
) -> None:
    """Every instant of a 23- or 25-hour local day maps to that one date, and no other does."""
    first, after = instant(start), instant(end)
    assert after - first == hours * 3600
    tz = ZoneInfo(zone)
    inside = [first + n * 600 for n in range(hours * 6)] + [after - 1]
    assert {windows_at(t, tz, "monday").today for t in inside} == {date.fromisoformat(day)}
    assert windows_at(first - 1, tz, "monday").today == date.fromisoformat(day) - timedelta(days=1)
    assert windows_at(after, tz, "monday").today == date.fromisoformat(day) + timedelta(days=1)


# Bounds of local days: (zone, date, its first instant, the next day's first instant, hours).
DAY_BOUNDS = [
    pytest.param(
        HCM,
        "2026-11-26",
        "2026-11-26T00:00:00+07:00",
        "2026-11-27T00:00:00+07:00",
        24,
        id="hcm-any-day",
    ),
    pytest.param(
        HCM,
        "1975-06-12",
        "1975-06-12T00:00:00+08:00",
        "1975-06-13T00:00:00+07:00",
        25,
        id="hcm-1975-offset-change",
    ),
    pytest.param(
        LONDON,
        "2026-03-28",
        "2026-03-28T00:00:00+00:00",
        "2026-03-29T00:00:00+00:00",
        24,
        id="london-before-bst",
    ),
    pytest.param(
        LONDON,
        "2026-03-29",
        "2026-03-29T00:00:00+00:00",
        "2026-03-30T00:00:00+01:00",
        23,
        id="london-bst-starts",
    ),
    pytest.param(
        LONDON,
        "2026-10-25",
        "2026-10-25T00:00:00+01:00",
        "2026-10-26T00:00:00+00:00",
        25,
        id="london-bst-ends",
    ),
    *(pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in DST_DAYS),
    pytest.param(
        SANTIAGO,
        "2026-04-04",
        "2026-04-04T00:00:00-03:00",
        "2026-04-05T00:00:00-04:00",
        25,
        id="santiago-25h-midnight-repeated",
    ),
    pytest.param(
        SANTIAGO,
        "2026-09-06",
        "2026-09-06T01:00:00-03:00",
        "2026-09-07T00:00:00-03:00",
        23,
        id="santiago-no-midnight-starts-at-1",
    ),
    pytest.param(
        HAVANA,
        "2026-03-08",
        "2026-03-08T01:00:00-04:00",
        "2026-03-09T00:00:00-04:00",
        23,
        id="havana-no-midnight-starts-at-1",
    ),
    pytest.param(
        HAVANA,
        "2026-11-01",
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
        25,
        id="havana-25h",
    ),
    pytest.param(
        LORD_HOWE,
        "2026-04-05",
        "2026-04-05T00:00:00+11:00",
        "2026-04-06T00:00:00+10:30",
        24.5,
        id="lord-howe-24.5h",
    ),
    pytest.param(
        LORD_HOWE,
        "2026-10-04",
        "2026-10-04T00:00:00+10:30",
        "2026-10-05T00:00:00+11:00",
        23.5,
        id="lord-howe-23.5h",
    ),
]


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), DAY_BOUNDS)
def test_day_bounds_are_the_first_instants_of_the_day_and_the_next(
    zone: str, day: str, start: str, end: str, hours: float
) -> None:
    """A day runs from its first instant to the next day's, where midnight falls in a gap too."""
    first, after = day_bounds(date.fromisoformat(day), ZoneInfo(zone))
    assert (first, after) == (instant(start), instant(end))
    assert after - first == hours * 3600


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), DAY_BOUNDS)
def test_the_first_and_last_millisecond_of_a_day_are_that_day(
    zone: str, day: str, start: str, end: str, hours: float
) -> None:
    """A day's first and last millisecond are that date; the millisecond around them are not."""
    tz, today = ZoneInfo(zone), date.fromisoformat(day)
    first, after = day_bounds(today, tz)
    assert local_day(first, tz) == today
    assert local_day(after - MILLISECOND, tz) == today
    assert local_day(first - MILLISECOND, tz) == today - timedelta(days=1)
    assert local_day(after, tz) == today + timedelta(days=1)


def test_a_date_the_zone_skipped_has_no_instant() -> None:
    """Samoa skipped 30 December 2011: that date's bounds are empty, where the 31st begins."""
    apia = ZoneInfo("Pacific/Apia")
    first, after = day_bounds(date(2011, 12, 30), apia)
    assert first == after == instant("2011-12-31T00:00:00+14:00")
    assert day_bounds(date(2011, 12, 29), apia)[1] == first
    assert local_day(first - MILLISECOND, apia) == date(2011, 12, 29)
    assert local_day(first, apia) == date(2011, 12, 31)


@pytest.mark.parametrize(
    ("utc", "zone", "today"),
    [
        pytest.param("2026-11-26T16:59:59.999+00:00", HCM, "2026-11-26", id="hcm-last-ms"),
        pytest.param("2026-11-26T17:00:00+00:00", HCM, "2026-11-27", id="hcm-first-instant"),
        pytest.param("2026-11-26T23:59:59+00:00", "UTC", "2026-11-26", id="utc"),
        pytest.param("2026-06-30T23:30:00+00:00", LONDON, "2026-07-01", id="london-in-bst"),
        pytest.param("2026-12-31T23:30:00+00:00", LONDON, "2026-12-31", id="london-in-gmt"),
        pytest.param("2026-11-26T10:00:00+00:00", "Pacific/Kiritimati", "2026-11-27", id="utc+14"),
        pytest.param("2026-11-26T10:00:00+00:00", "Pacific/Pago_Pago", "2026-11-25", id="utc-11"),
        pytest.param("2026-11-01T05:30:00+00:00", NEW_YORK, "2026-11-01", id="ny-repeated-hour"),
        pytest.param("2026-11-01T06:30:00+00:00", NEW_YORK, "2026-11-01", id="ny-repeated-again"),
    ],
)
def test_local_day_is_the_date_on_the_zones_clocks(utc: str, zone: str, today: str) -> None:
    """An instant's local day is the date the zone's clocks show then."""
    assert local_day(instant(utc), ZoneInfo(zone)) == date.fromisoformat(today)


@pytest.mark.parametrize(
    ("today", "monday", "sunday"),
    [
        pytest.param("2026-11-23", 1, 2, id="monday"),
        pytest.param("2026-11-24", 2, 3, id="tuesday"),
        pytest.param("2026-11-25", 3, 4, id="wednesday"),
        pytest.param("2026-11-26", 4, 5, id="thursday"),
        pytest.param("2026-11-27", 5, 6, id="friday"),
        pytest.param("2026-11-28", 6, 7, id="saturday"),
        pytest.param("2026-11-29", 7, 1, id="sunday"),
    ],
)
def test_week_days_count_from_the_week_start_through_today(
    today: str, monday: int, sunday: int
) -> None:
    """The week holds the days from its Monday (or Sunday) through today, in order."""
    day = date.fromisoformat(today)
    for week_start, length in (("monday", monday), ("sunday", sunday)):
        week = week_days(day, week_start)
        assert week == tuple(day - timedelta(days=n) for n in range(length - 1, -1, -1))
        assert week[0].weekday() == (0 if week_start == "monday" else 6)


def test_a_week_with_a_23_hour_day_still_has_seven_dates() -> None:
    """The week of New York's spring change lists its seven dates, the short day once."""
    got = windows_at(instant("2026-03-08T23:59:59-04:00"), ZoneInfo(NEW_YORK), "monday")
    assert got.week == days("2026-03-02", "2026-03-08")


@pytest.mark.parametrize(
    ("today", "last_month"),
    [
        pytest.param("2026-11-26", "2026-10", id="mid-year"),
        pytest.param("2026-03-31", "2026-02", id="31st-after-a-short-month"),
        pytest.param("2027-01-01", "2026-12", id="new-year"),
        pytest.param("2028-03-01", "2028-02", id="after-a-leap-day"),
    ],
)
def test_last_month_is_the_month_before_today(today: str, last_month: str) -> None:
    """The month before a date's month, across a year's turn too."""
    assert windows(today, today).last_month == last_month


@pytest.mark.parametrize(
    ("today", "week_start", "fields"),
    [
        pytest.param("2026-11-26", "monday", ("26", "25", "0", "23,24,25", ""), id="thursday"),
        pytest.param("2026-11-23", "monday", ("23", "22", "0", "", ""), id="week-of-one-day"),
        pytest.param("2026-12-01", "monday", ("01", "30", "1", "", "30"), id="first-of-month"),
        pytest.param(
            "2026-11-01", "monday", ("01", "31", "1", "", "26,27,28,29,30,31"), id="sunday-the-1st"
        ),
        pytest.param(
            "2027-01-02", "sunday", ("02", "01", "0", "01", "27,28,29,30,31"), id="across-years"
        ),
    ],
)
def test_day_fields_name_the_days_in_the_month_hashes(
    today: str, week_start: str, fields: tuple[str, str, str, str, str]
) -> None:
    """Today, yesterday, whether yesterday is last month, and the week's earlier days by month."""
    day = date.fromisoformat(today)
    got = windows_at(instant(f"{today}T12:00:00+07:00"), ZoneInfo(HCM), week_start)
    assert got.today == day
    assert got.day_fields() == fields
