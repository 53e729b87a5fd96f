"""Calendar windows roll over at the site's local midnight, in pure code and in the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statsvc.core.calendar import Windows, windows_at
from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service.counting import Counter
from statsvc.store.store import Store
from tests.helpers import FakeClock, figures, instant

HCM = "Asia/Ho_Chi_Minh"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
ALICE = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 Alice", origin=None, no_tracking=False)
BOB = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 Bob", origin=None, no_tracking=False)


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
]


@pytest.mark.parametrize(("zone", "local", "today"), DST_MIDNIGHTS)
def test_day_rolls_over_at_local_midnight_around_dst_changes(
    zone: str, local: str, today: str
) -> None:
    """On and around a DST change the local date turns exactly at local midnight."""
    got = windows_at(instant(local), ZoneInfo(zone), "monday")
    assert got.today == date.fromisoformat(today)
    assert got.month == today[:7]


# The DST days of 2026: (zone, local date, first instant, first instant of the next day, hours).
DST_DAYS = [
    (BERLIN, "2026-03-29", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23),
    (BERLIN, "2026-10-25", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25),
    (NEW_YORK, "2026-03-08", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23),
    (NEW_YORK, "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25),
]


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


# The store: hits on both sides of a local midnight.


async def new_counter(store: Store, clock: FakeClock, zone: str, week_start: str) -> Counter:
    """Return a Counter of a store holding the site "tuson" in `zone`."""
    await store.put_site(Site(id="tuson", timezone=zone, week_start=week_start))
    return Counter(store, clock)


def view(path: str = "/a") -> PageView:
    """Return a page view of the site "tuson"."""
    return PageView(site="tuson", path=path, host=None, id=None)


@pytest.mark.parametrize(
    ("zone", "week_start", "last_second", "new_week", "new_month"),
    [
        pytest.param(HCM, "monday", "2026-11-26T23:59:59+07:00", False, False, id="hcm-thursday"),
        pytest.param(HCM, "monday", "2026-11-22T23:59:59+07:00", True, False, id="hcm-mon-week"),
        pytest.param(HCM, "sunday", "2026-11-21T23:59:59+07:00", True, False, id="hcm-sun-week"),
        pytest.param(HCM, "sunday", "2026-11-22T23:59:59+07:00", False, False, id="hcm-sun-mon"),
        pytest.param(HCM, "monday", "2026-11-30T23:59:59+07:00", False, True, id="hcm-month-end"),
        pytest.param(HCM, "monday", "2026-12-31T23:59:59+07:00", False, True, id="hcm-year-end"),
        pytest.param(HCM, "sunday", "2026-12-31T23:59:59+07:00", False, True, id="hcm-year-sun"),
        pytest.param(HCM, "monday", "2028-02-28T23:59:59+07:00", False, False, id="hcm-feb-29"),
        pytest.param(HCM, "monday", "2028-02-29T23:59:59+07:00", False, True, id="hcm-march-1"),
        pytest.param(BERLIN, "monday", "2026-03-28T23:59:59+01:00", False, False, id="berlin-23h"),
        pytest.param(BERLIN, "monday", "2026-03-29T23:59:59+02:00", True, False, id="berlin-after"),
        pytest.param(BERLIN, "sunday", "2026-10-24T23:59:59+02:00", True, False, id="berlin-25h"),
        pytest.param(BERLIN, "monday", "2026-10-25T23:59:59+01:00", True, False, id="berlin-end"),
        pytest.param(NEW_YORK, "monday", "2026-03-07T23:59:59-05:00", False, False, id="ny-23h"),
        pytest.param(NEW_YORK, "monday", "2026-03-08T23:59:59-04:00", True, False, id="ny-after"),
        pytest.param(NEW_YORK, "sunday", "2026-10-31T23:59:59-04:00", True, True, id="ny-25h"),
        pytest.param(NEW_YORK, "monday", "2026-10-31T23:59:59-04:00", False, True, id="ny-month"),
    ],
)
async def test_store_windows_roll_over_at_local_midnight(
    store: Store,
    clock: FakeClock,
    zone: str,
    week_start: str,
    last_second: str,
    new_week: bool,
    new_month: bool,
) -> None:
    """After local midnight today restarts, yesterday holds the old day, week and month restart only
    at their start, total never does, and the same visitor on the new day is a new visit."""
    counter = await new_counter(store, clock, zone, week_start)
    clock.now = instant(last_second)
    for who in (ALICE, ALICE, BOB):
        before = await counter.hit(view(), who)
    assert before["views"] == figures(3, 0, 3, 3, 3)
    assert before["visits"] == figures(2, 0, 2, 2, 2)

    clock.advance(1)
    midnight = datetime.fromtimestamp(clock.now, ZoneInfo(zone))
    assert (midnight.hour, midnight.minute, midnight.second) == (0, 0, 0)
    after = await counter.hit(view(), ALICE)

    assert after["counted"] is True
    assert after["date"] == midnight.date().isoformat()
    assert after["views"] == figures(1, 3, 1 if new_week else 4, 1 if new_month else 4, 4)
    assert after["visits"] == figures(1, 2, 1 if new_week else 3, 1 if new_month else 3, 3)
    assert after["page"]["today"] == 1
    assert after["page"]["total"] == 4
    assert after["online"] >= 1
    assert after["page"]["online"] >= 1
    read = await counter.counts("tuson", "/a")
    assert {k: read[k] for k in ("date", "views", "visits")} == {
        k: after[k] for k in ("date", "views", "visits")
    }


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), DST_DAYS)
async def test_store_counts_a_whole_dst_day_as_one_day(
    store: Store, clock: FakeClock, zone: str, day: str, start: str, end: str, hours: int
) -> None:
    """Hits at the first and the last second of a 23- or 25-hour day fall in one day and one visit,
    and the next second starts a new day."""
    counter = await new_counter(store, clock, zone, "monday")
    clock.now = instant(start)
    first = await counter.hit(view(), ALICE)
    clock.now = instant(end) - 1
    last = await counter.hit(view(), ALICE)
    assert first["date"] == last["date"] == day
    assert last["views"]["today"] == 2
    assert last["visits"]["today"] == 1

    clock.advance(1)
    following = await counter.hit(view(), ALICE)
    assert following["date"] == (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    assert following["views"]["today"] == 1
    assert following["views"]["yesterday"] == 2
    assert following["visits"]["today"] == 1
    assert following["visits"]["yesterday"] == 1
    assert following["visits"]["total"] == 2
