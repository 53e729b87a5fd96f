"""`statsvc migrate nukeviet`: NukeViet 4's rolling counter table rebuilt as far as it
allows (the total, and the days of the last visit's month), in a site on UTC."""

from __future__ import annotations

from statsvc.store import Store
from tests.helpers import Client, FakeClock, check_invariants, get_counts, ok, put_site
from tests.mariadb import SourceDatabase, local
from tests.migrating import migrate

# NukeViet 4's counter table as the issue's filer read it from the install data
# (nv4_counter(c_type, c_val, last_update, c_count, <lang>_count)); the stored copy of
# install/data_*.php was not found, so the types are those of its other install tables.
COUNTER = """CREATE TABLE nv4_counter (
  c_type varchar(100) NOT NULL,
  c_val varchar(100) NOT NULL,
  last_update int(11) NOT NULL DEFAULT '0',
  c_count int(11) unsigned NOT NULL DEFAULT '0',
  vi_count int(11) unsigned NOT NULL DEFAULT '0',
  UNIQUE KEY c_type (c_type, c_val)
) ENGINE=MyISAM"""
ROW = (
    "INSERT INTO nv4_counter (c_type, c_val, last_update, c_count, vi_count)"
    " VALUES (%s, %s, %s, %s, %s)"
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def counter(db: SourceDatabase, last: int, days: dict[str, int], months: dict[str, int]) -> None:
    """Fill the table as includes/core/stat.php leaves it: every row of every c_type, the
    total 35000, years 2025 20000 and 2026 15000, the given months and days (others 0), and
    the last counted visit's time in (c_time, last)."""
    rows = [("c_time", "start", 0, 1_600_000_000), ("c_time", "last", 0, last)]
    rows += [("total", "hits", last, 35000)]
    rows += [
        ("year", str(y), last, {2025: 20000, 2026: 15000}.get(y, 0)) for y in range(2013, 2031)
    ]
    rows += [("month", m, last, months.get(m, 0)) for m in MONTHS]
    rows += [("day", f"{d:02d}", last, days.get(f"{d:02d}", 0)) for d in range(1, 32)]
    rows += [("hour", f"{h:02d}", last, 3) for h in range(24)]
    rows += [("dayofweek", "Monday", last, 900), ("browser", "chrome", last, 30000)]
    rows += [
        ("os", "win", last, 20000),
        ("country", "VN", last, 34000),
        ("bot", "googlebot", last, 7),
    ]
    db.run(COUNTER)
    db.run(ROW, [(kind, value, at, count, count) for kind, value, at, count in rows])


async def series(client: Client, site: str) -> dict[str, int]:
    """Return the November days of a site's series with views: date -> views."""
    reply = await ok(client, "GET", f"/api/v1/sites/{site}/series?from=2026-10-01&to=2026-11-26")
    return {d["date"]: d["views"] for d in reply["days"] if d["views"]}


async def test_a_reset_month_gives_its_own_days_and_the_total(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """The last visit was 2026-11-03 08:00 UTC: November's first visit had set October's day
    rows to 0, so the days are November's: 1st 40, 2nd 55, 3rd 12 (October's 1500 is in
    the month row only). Worked by hand: total 35000 views and visits (the total row); the
    days 1st..3rd as dated; nothing of October dated; a second run adds nothing."""
    await put_site(client, "xa", {"timezone": "UTC"})
    counter(
        mariadb,
        local("2026-11-03 08:00:00", "UTC"),
        {"01": 40, "02": 55, "03": 12},
        {"Oct": 1500, "Nov": 107},
    )
    result = await migrate(store, clock, "xa", "nukeviet", mariadb.url())
    assert (result["views"], result["visits"], result["days"]) == (35000, 35000, 3)
    counts = await get_counts(client, "xa")
    assert counts["views"]["total"] == counts["visits"]["total"] == 35000
    assert counts["views"]["month"] == 107
    check_invariants(counts)
    assert await series(client, "xa") == {"2026-11-01": 40, "2026-11-02": 55, "2026-11-03": 12}
    again = await migrate(store, clock, "xa", "nukeviet", mariadb.url())
    assert (again["views"], again["applied"]) == (0, 0)


async def test_a_run_in_a_new_month_dates_its_days_and_adds_the_rest_to_the_total(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """First run with the last visit on 2026-10-30 (October 29th 20, 30th 30); then the
    counter moves on: November 26th 9 and total 35000 -> 35100. Worked by hand: the second
    run adds the 26th's 9 as a day and 100 to the total (the rest of October and
    November, which the table no longer dates, in the total only): total 35100."""
    await put_site(client, "xa", {"timezone": "UTC"})
    counter(mariadb, local("2026-10-30 10:00:00", "UTC"), {"29": 20, "30": 30}, {"Oct": 50})
    await migrate(store, clock, "xa", "nukeviet", mariadb.url())
    mariadb.run("UPDATE nv4_counter SET c_count = 0 WHERE c_type = 'day'")
    mariadb.run("UPDATE nv4_counter SET c_count = 9 WHERE c_type = 'day' AND c_val = '26'")
    mariadb.run("UPDATE nv4_counter SET c_count = 35100 WHERE c_type = 'total'")
    mariadb.run(
        "UPDATE nv4_counter SET c_count = %s WHERE c_type = 'c_time' AND c_val = 'last'",
        [(local("2026-11-26 09:00:00", "UTC"),)],
    )
    result = await migrate(store, clock, "xa", "nukeviet", mariadb.url())
    assert (result["views"], result["days"]) == (100, 1)
    counts = await get_counts(client, "xa")
    assert (counts["views"]["today"], counts["views"]["total"]) == (9, 35100)
    assert await series(client, "xa") == {"2026-10-29": 20, "2026-10-30": 30, "2026-11-26": 9}
