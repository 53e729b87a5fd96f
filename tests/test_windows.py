"""Calendar windows in the store: the counts roll over at the site's local midnight, DST days
included (the windows themselves: test_calendar.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service.counting import StatsService
from statsvc.store import Store
from tests.helpers import BERLIN, DST_DAYS, HCM, NEW_YORK, FakeClock, figures, instant

ALICE = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 Alice", origin=None, no_tracking=False)
BOB = Client(ip="203.0.113.7", user_agent="Mozilla/5.0 Bob", origin=None, no_tracking=False)


# The store: hits on both sides of a local midnight.


async def new_service(store: Store, clock: FakeClock, zone: str, week_start: str) -> StatsService:
    """Return a StatsService of a store holding the site "tuson" in `zone`."""
    await store.put_site(Site(id="tuson", timezone=zone, week_start=week_start))
    return StatsService(store, clock)


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
    service = await new_service(store, clock, zone, week_start)
    clock.now = instant(last_second)
    for who in (ALICE, ALICE, BOB):
        before = (await service.hit(view(), who)).body()
    assert before["views"] == figures(3, 0, 3, 3, 3)
    assert before["visits"] == figures(2, 0, 2, 2, 2)

    clock.advance(1)
    midnight = datetime.fromtimestamp(clock.now, ZoneInfo(zone))
    assert (midnight.hour, midnight.minute, midnight.second) == (0, 0, 0)
    after = (await service.hit(view(), ALICE)).body()

    assert after["counted"] is True
    assert after["date"] == midnight.date().isoformat()
    assert after["views"] == figures(1, 3, 1 if new_week else 4, 1 if new_month else 4, 4)
    assert after["visits"] == figures(1, 2, 1 if new_week else 3, 1 if new_month else 3, 3)
    assert after["page"]["today"] == 1
    assert after["page"]["total"] == 4
    assert after["online"] >= 1
    assert after["page"]["online"] >= 1
    read = await service.counts("tuson", "/a")
    assert {k: read[k] for k in ("date", "views", "visits")} == {
        k: after[k] for k in ("date", "views", "visits")
    }


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), DST_DAYS)
async def test_store_counts_a_whole_dst_day_as_one_day(
    store: Store, clock: FakeClock, zone: str, day: str, start: str, end: str, hours: int
) -> None:
    """Hits at the first and the last second of a 23- or 25-hour day fall in one day and one visit,
    and the next second starts a new day."""
    service = await new_service(store, clock, zone, "monday")
    clock.now = instant(start)
    first = (await service.hit(view(), ALICE)).body()
    clock.now = instant(end) - 1
    last = (await service.hit(view(), ALICE)).body()
    assert first["date"] == last["date"] == day
    assert last["views"]["today"] == 2
    assert last["visits"]["today"] == 1

    clock.advance(1)
    following = (await service.hit(view(), ALICE)).body()
    assert following["date"] == (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    assert following["views"]["today"] == 1
    assert following["views"]["yesterday"] == 2
    assert following["visits"]["today"] == 1
    assert following["visits"]["yesterday"] == 1
    assert following["visits"]["total"] == 2
