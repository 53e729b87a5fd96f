"""`statsvc migrate vinaora`: Vinaora Visitors Counter's tables (2.x/3.x, 2.0 and 1.x layouts)
read into a site in its time zone, once, with what came after on a later run."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from statsvc.store import Store
from tests.helpers import Client, FakeClock, check_invariants, dump, get_counts, ok, put_site
from tests.mariadb import VVISIT_COUNTER, SourceDatabase, local
from tests.migrating import migrate

HCM = "Asia/Ho_Chi_Minh"
VVCOUNTER_LOGS = """CREATE TABLE IF NOT EXISTS `jos_vvcounter_logs` (
  `time` int unsigned NOT NULL,
  `visits` mediumint unsigned NOT NULL DEFAULT '0',
  `guests` mediumint unsigned NOT NULL DEFAULT '0',
  `members` mediumint unsigned NOT NULL DEFAULT '0',
  `bots` mediumint unsigned NOT NULL DEFAULT '0',
  UNIQUE KEY (`time`)
) ENGINE=MyISAM DEFAULT CHARSET=utf8"""
VVISITCOUNTER_1X = """CREATE TABLE IF NOT EXISTS `jos_vvisitcounter` (
  `id` int(11) unsigned NOT NULL auto_increment,
  `tm` int NOT NULL,
  `ip` varchar(16) NOT NULL DEFAULT '0.0.0.0',
  PRIMARY KEY (`id`)
) ENGINE=MyISAM AUTO_INCREMENT=1 DEFAULT CHARSET=utf8"""
# Joomla's #__modules, the columns the module's parameters live in
MODULES = """CREATE TABLE `jos_modules` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `title` varchar(100) NOT NULL DEFAULT '',
  `module` varchar(50) DEFAULT NULL,
  `published` tinyint(1) NOT NULL DEFAULT 0,
  `params` text NOT NULL,
  PRIMARY KEY (`id`)
)"""
ROW = "INSERT INTO jos_vvisit_counter (time, visits, guests, bots, members) VALUES (%s,%s,%s,%s,%s)"


def buckets(db: SourceDatabase) -> None:
    """Rows of 15-minute buckets (their end times) around the test clock's day, 2026-11-26
    17:00 in Ho Chi Minh City: the bucket ending exactly at local midnight of the 25th
    (5: 3 guests, 2 bots) belongs to the 24th; the next (7: 4 guests, 2 bots, 1 member) and
    one at 23:45 (3) to the 25th; one ending 09:00 on the 26th (4) to today; one of 2024-01-01
    (100) is older than the store keeps days for: it goes to the total only."""
    db.run(
        ROW,
        [
            (local("2026-11-25 00:00:00", HCM), 5, 3, 2, 0),
            (local("2026-11-25 00:15:00", HCM), 7, 4, 2, 1),
            (local("2026-11-25 23:45:00", HCM), 3, 3, 0, 0),
            (local("2026-11-26 09:00:00", HCM), 4, 4, 0, 0),
            (local("2024-01-01 12:00:00", HCM), 100, 90, 10, 0),
        ],
    )


async def series(client: Client, site: str, start: str, end: str) -> dict[str, tuple[int, int]]:
    """Return the days of a site's series with views or visits: date -> (views, visits)."""
    reply = await ok(client, "GET", f"/api/v1/sites/{site}/series?from={start}&to={end}")
    return {d["date"]: (d["views"], d["visits"]) for d in reply["days"] if d["views"]}


async def test_vinaora_buckets_land_on_the_local_day_of_time_minus_one(
    client: Client,
    store: Store,
    clock: FakeClock,
    mariadb: SourceDatabase,
    redis: Redis,
    prefix: str,
) -> None:
    """Vinaora 3.x rows in Ho Chi Minh City, the module's initial value 13000 in #__modules.

    Worked by hand: days 24th 5, 25th 7 + 3 = 10, 26th (today) 4; the 2024 bucket's 100 and
    the initial 13000 in the total only: total 5 + 10 + 4 + 100 + 13000 = 13119, as views
    and as visits (Vinaora counts visits, bots included). A second run adds nothing; the
    audit entry names the kind and the URL without its password."""
    await put_site(client, "tuson", {"timezone": HCM})
    mariadb.run(VVISIT_COUNTER)
    buckets(mariadb)
    mariadb.run(MODULES)
    mariadb.run(
        "INSERT INTO jos_modules (title, module, published, params) VALUES (%s, %s, 1, %s)",
        [("Lượt truy cập", "mod_vvisit_counter", json.dumps({"initialvalue": "13000"}))],
    )
    result = await migrate(store, clock, "tuson", "vinaora", mariadb.url())
    assert (result["views"], result["visits"], result["days"]) == (13119, 13119, 4)
    assert (result["first_day"], result["last_day"]) == ("2024-01-01", "2026-11-26")
    counts = await get_counts(client, "tuson")
    assert counts["views"]["total"] == counts["visits"]["total"] == 13119
    assert (counts["visits"]["today"], counts["visits"]["yesterday"]) == (4, 10)
    check_invariants(counts)
    assert await series(client, "tuson", "2026-11-01", "2026-11-26") == {
        "2026-11-24": (5, 5),
        "2026-11-25": (10, 10),
        "2026-11-26": (4, 4),
    }
    entry = (await ok(client, "GET", "/api/v1/sites/tuson/audit"))["entries"][0]
    assert entry["detail"]["source"] == {
        "kind": "vinaora",
        "from": mariadb.url(),
        "prefix": "jos_",
    }
    before = await dump(redis, prefix)
    again = await migrate(store, clock, "tuson", "vinaora", mariadb.url())
    assert (again["views"], again["visits"], again["applied"]) == (0, 0, 0)
    assert await dump(redis, prefix) == before


async def test_a_later_run_adds_the_grown_bucket_and_the_new_rows_only(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """After a first run, the open bucket grows (4 -> 6) and a new one comes (2, ending
    10:00): the second run adds 2 + 2 = 4 to today (4 -> 8) and to the total (13119 is not
    involved here: no initial, total 119 -> 123)."""
    await put_site(client, "tuson", {"timezone": HCM})
    mariadb.run(VVISIT_COUNTER)
    buckets(mariadb)
    await migrate(store, clock, "tuson", "vinaora", mariadb.url())
    assert (await get_counts(client, "tuson"))["views"]["total"] == 119
    mariadb.run(
        "UPDATE jos_vvisit_counter SET visits = 6, guests = 6 WHERE time = %s",
        [(local("2026-11-26 09:00:00", HCM),)],
    )
    mariadb.run(ROW, [(local("2026-11-26 10:00:00", HCM), 2, 1, 1, 0)])
    result = await migrate(store, clock, "tuson", "vinaora", mariadb.url())
    assert (result["views"], result["days"], result["applied"]) == (4, 1, 1)
    counts = await get_counts(client, "tuson")
    assert (counts["views"]["today"], counts["views"]["total"]) == (8, 123)
    check_invariants(counts)


async def test_initial_on_the_command_line_wins_over_the_module_and_is_added_once(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """--initial 500 is the opening balance even where #__modules says 13000; a second run
    with it adds nothing: total 119 + 500 = 619."""
    await put_site(client, "tuson", {"timezone": HCM})
    mariadb.run(VVISIT_COUNTER)
    buckets(mariadb)
    mariadb.run(MODULES)
    mariadb.run(
        "INSERT INTO jos_modules (title, module, published, params) VALUES (%s, %s, 1, %s)",
        [("Thống kê", "mod_vvisit_counter", json.dumps({"initialvalue": "13000"}))],
    )
    await migrate(store, clock, "tuson", "vinaora", mariadb.url(), initial=500)
    await migrate(store, clock, "tuson", "vinaora", mariadb.url(), initial=500)
    assert (await get_counts(client, "tuson"))["visits"]["total"] == 619


@pytest.mark.parametrize("layout", ["2.0", "1.x"])
async def test_the_older_layouts_give_the_same_days(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase, layout: str
) -> None:
    """2.0's jos_vvcounter_logs has 3.x's rows; 1.x's jos_vvisitcounter one row per visit at
    its own time: a visit at exactly local midnight of the 25th is the 25th's, one a second
    before is the 24th's. 1.x here: 24th 1, 25th 2, today 1 (total 4); 2.0 as 3.x: 24th 5,
    25th 10, today 4 (total 119)."""
    await put_site(client, "tuson", {"timezone": HCM})
    if layout == "2.0":
        mariadb.run(VVCOUNTER_LOGS)
        mariadb.run(
            "INSERT INTO jos_vvcounter_logs (time, visits, guests, members, bots)"
            " VALUES (%s, %s, %s, 0, 0)",
            [
                (local("2026-11-25 00:00:00", HCM), 5, 5),
                (local("2026-11-25 00:15:00", HCM), 10, 10),
                (local("2026-11-26 09:00:00", HCM), 4, 4),
                (local("2024-01-01 12:00:00", HCM), 100, 100),
            ],
        )
        expected = {"2026-11-24": (5, 5), "2026-11-25": (10, 10), "2026-11-26": (4, 4)}
        total = 119
    else:
        mariadb.run(VVISITCOUNTER_1X)
        mariadb.run(
            "INSERT INTO jos_vvisitcounter (tm, ip) VALUES (%s, '10.0.0.1')",
            [
                (local("2026-11-24 23:59:59", HCM),),
                (local("2026-11-25 00:00:00", HCM),),
                (local("2026-11-25 13:14:15", HCM),),
                (local("2026-11-26 08:00:00", HCM),),
            ],
        )
        expected = {"2026-11-24": (1, 1), "2026-11-25": (2, 2), "2026-11-26": (1, 1)}
        total = 4
    await migrate(store, clock, "tuson", "vinaora", mariadb.url())
    assert await series(client, "tuson", "2026-11-01", "2026-11-26") == expected
    assert (await get_counts(client, "tuson"))["views"]["total"] == total


async def test_a_dry_run_changes_nothing_and_says_what_it_would_add(
    client: Client,
    store: Store,
    clock: FakeClock,
    mariadb: SourceDatabase,
    redis: Redis,
    prefix: str,
) -> None:
    """--dry-run reports 119 views over 4 days (2024-01-01 .. 2026-11-26) and writes no key."""
    await put_site(client, "tuson", {"timezone": HCM})
    mariadb.run(VVISIT_COUNTER)
    buckets(mariadb)
    before = await dump(redis, prefix)
    result = await migrate(store, clock, "tuson", "vinaora", mariadb.url(), dry_run=True)
    assert result["dry_run"] is True
    assert (result["views"], result["days"], result["last_day"]) == (119, 4, "2026-11-26")
    assert await dump(redis, prefix) == before
