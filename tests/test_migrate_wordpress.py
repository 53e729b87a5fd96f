"""`statsvc migrate wp-statistics|wp-postviews|post-views-counter`: WordPress counters read
from their own tables, pages under the site's permalinks, no day counted twice."""

from __future__ import annotations

import pytest

from statsvc.store import Store
from tests.helpers import Client, FakeClock, check_invariants, get_counts, ok, put_site
from tests.mariadb import SourceDatabase, wordpress
from tests.migrating import migrate

# WP Statistics 14's own tables (its install's CREATE TABLE, prefix wp_)
STATISTICS = (
    """CREATE TABLE `wp_statistics_visitor` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `last_counter` date NOT NULL,
  `referred` text NOT NULL,
  `agent` varchar(180) NOT NULL,
  `platform` varchar(180) DEFAULT NULL,
  `version` varchar(180) DEFAULT NULL,
  `device` varchar(180) DEFAULT NULL,
  `model` varchar(180) DEFAULT NULL,
  `UAString` varchar(190) DEFAULT NULL,
  `ip` varchar(60) NOT NULL,
  `location` varchar(10) DEFAULT NULL,
  `user_id` bigint(40) NOT NULL,
  `hits` int(11) DEFAULT NULL,
  `honeypot` int(11) DEFAULT NULL,
  `city` varchar(100) DEFAULT NULL,
  `region` varchar(100) DEFAULT NULL,
  `continent` varchar(50) DEFAULT NULL,
  `source_channel` varchar(50) DEFAULT NULL,
  `source_name` varchar(100) DEFAULT NULL,
  `first_page` bigint(20) unsigned DEFAULT NULL,
  `first_view` datetime DEFAULT NULL,
  `last_page` bigint(20) unsigned DEFAULT NULL,
  `last_view` datetime DEFAULT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `date_ip_agent` (`last_counter`,`ip`,`agent`(50),`platform`(50),`version`(50)),
  KEY `agent` (`agent`),
  KEY `ip` (`ip`)
)""",
    """CREATE TABLE `wp_statistics_pages` (
  `page_id` bigint(20) NOT NULL AUTO_INCREMENT,
  `uri` varchar(190) NOT NULL,
  `type` varchar(180) NOT NULL,
  `date` date NOT NULL,
  `count` int(11) NOT NULL,
  `id` int(11) NOT NULL,
  PRIMARY KEY (`page_id`),
  UNIQUE KEY `date_2` (`date`,`uri`),
  KEY `url` (`uri`),
  KEY `date` (`date`),
  KEY `id` (`id`),
  KEY `uri` (`uri`,`count`,`id`)
)""",
    """CREATE TABLE `wp_statistics_historical` (
  `ID` bigint(20) NOT NULL AUTO_INCREMENT,
  `category` varchar(25) NOT NULL,
  `page_id` bigint(20) NOT NULL,
  `uri` varchar(190) NOT NULL,
  `value` bigint(20) NOT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `uri` (`uri`),
  KEY `category` (`category`)
)""",
    """CREATE TABLE `wp_statistics_summary_totals` (
  `ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `date` date NOT NULL,
  `visitors` bigint(20) unsigned NOT NULL,
  `views` bigint(20) unsigned NOT NULL,
  PRIMARY KEY (`ID`),
  UNIQUE KEY `date` (`date`)
)""",
)
VISITOR = (
    "INSERT INTO wp_statistics_visitor (last_counter, referred, agent, platform, version, ip,"
    " user_id, hits) VALUES (%s, '', %s, 'Windows', '120', %s, 0, %s)"
)
# Post Views Counter's own table (its activation's CREATE TABLE, prefix wp_; the stored
# copy was not found: the columns and keys as the filer read them)
POST_VIEWS = """CREATE TABLE IF NOT EXISTS wp_post_views (
  id bigint unsigned NOT NULL,
  type tinyint(1) unsigned NOT NULL,
  period varchar(8) NOT NULL,
  count bigint unsigned NOT NULL,
  PRIMARY KEY (type, period, id),
  UNIQUE INDEX id_type_period_count (id, type, period, count),
  INDEX type_period_count (type, period, count)
)"""
STRUCTURE = "/%year%/%monthnum%/%postname%/"


async def days_of(client: Client, site: str) -> dict[str, tuple[int, int]]:
    """Return November's days of a site's series with views: date -> (views, visits)."""
    reply = await ok(client, "GET", f"/api/v1/sites/{site}/series?from=2026-11-01&to=2026-11-26")
    return {d["date"]: (d["views"], d["visits"]) for d in reply["days"] if d["views"]}


async def pages_of(client: Client, site: str) -> dict[str, int]:
    """Return a site's page totals: path -> views."""
    reply = await ok(client, "GET", f"/api/v1/sites/{site}/pages?window=total&limit=100")
    return {p["path"]: p["views"] for p in reply["pages"]}


async def test_wp_statistics_counts_no_day_twice_and_keeps_purged_history(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """Visitor rows: the 25th 3 visitors of 2, 1 and 4 views (7), the 26th 2 of 1 and 3
    (4). Summary totals: the 20th 50 views / 20 visitors (purged from the visitor table),
    the 25th 7 / 3 (also in the visitor table: counted once). Historical (purged): 30
    visitors, 80 visits (page views), /gioi-thieu 25. Pages: / 5 + 4, /gioi-thieu 2.

    Worked by hand: days 20th (50, 20), 25th (7, 3), 26th (4, 2); total views
    7 + 4 + max(50, 80) = 91, visits 3 + 2 + max(20, 30) = 35; pages / 9, /gioi-thieu 27."""
    await put_site(client, "wp", {"timezone": "UTC"})
    for statement in STATISTICS:
        mariadb.run(statement)
    mariadb.run(
        VISITOR,
        [
            ("2026-11-25", "Chrome", "10.0.0.1", 2),
            ("2026-11-25", "Firefox", "10.0.0.2", 1),
            ("2026-11-25", "Chrome", "10.0.0.3", 4),
            ("2026-11-26", "Chrome", "10.0.0.1", 1),
            ("2026-11-26", "Edge", "10.0.0.4", 3),
        ],
    )
    mariadb.run(
        "INSERT INTO wp_statistics_summary_totals (date, visitors, views) VALUES (%s, %s, %s)",
        [("2026-11-20", 20, 50), ("2026-11-25", 3, 7)],
    )
    mariadb.run(
        "INSERT INTO wp_statistics_historical (category, page_id, uri, value)"
        " VALUES (%s, %s, %s, %s)",
        [("visitors", -1, "-1", 30), ("visits", -2, "-2", 80), ("uri", 7, "/gioi-thieu", 25)],
    )
    mariadb.run(
        "INSERT INTO wp_statistics_pages (uri, type, date, count, id) VALUES (%s, %s, %s, %s, %s)",
        [
            ("/", "home", "2026-11-25", 5, 0),
            ("/gioi-thieu", "page", "2026-11-25", 2, 7),
            ("/", "home", "2026-11-26", 4, 0),
        ],
    )
    result = await migrate(store, clock, "wp", "wp-statistics", mariadb.url())
    assert (result["views"], result["visits"], result["days"], result["pages"]) == (91, 35, 3, 2)
    counts = await get_counts(client, "wp")
    assert (counts["views"]["total"], counts["visits"]["total"]) == (91, 35)
    assert (counts["views"]["today"], counts["visits"]["today"]) == (4, 2)
    check_invariants(counts)
    assert await days_of(client, "wp") == {
        "2026-11-20": (50, 20),
        "2026-11-25": (7, 3),
        "2026-11-26": (4, 2),
    }
    assert await pages_of(client, "wp") == {"/": 9, "/gioi-thieu": 27}
    again = await migrate(store, clock, "wp", "wp-statistics", mariadb.url())
    assert (again["views"], again["applied"]) == (0, 0)


@pytest.mark.parametrize(
    ("query_keys", "deleted"), [(["p"], "/?p=9"), ([], "(other)")], ids=["keeps-p", "no-keys"]
)
async def test_wp_postviews_brings_each_posts_views_under_its_permalink(
    client: Client,
    store: Store,
    clock: FakeClock,
    mariadb: SourceDatabase,
    query_keys: list[str],
    deleted: str,
) -> None:
    """`views` post meta: post 5 120, page 7 30, post 9 (deleted) 4, and a non-number meta.
    Worked by hand: total views 154, visits 0 (WP-PostViews keeps none); pages
    /2025/03/xin-chao/ 120, /lien-he/ 30, and post 9's 4 (no permalink: `/?p=9`). Post 5
    then reads 125: the next run adds 5 views and nothing else. On a site that keeps the
    query key `p` (as a portal with plain permalinks must, for hits too) /?p=9 is a page of
    its own; on one that does not, its 4 views go to "(other)", not to the home page "/"."""
    await put_site(client, "wp", {"timezone": "Asia/Ho_Chi_Minh", "query_keys": query_keys})
    wordpress(mariadb, STRUCTURE)
    mariadb.run(
        "INSERT INTO wp_postmeta (post_id, meta_key, meta_value) VALUES (%s, %s, %s)",
        [
            (5, "views", "120"),
            (7, "views", "30"),
            (9, "views", "4"),
            (8, "views", ""),
            (5, "_edit_lock", "1700000000:1"),
        ],
    )
    result = await migrate(store, clock, "wp", "wp-postviews", mariadb.url())
    assert (result["views"], result["visits"], result["days"], result["pages"]) == (154, 0, 0, 3)
    assert await pages_of(client, "wp") == {"/2025/03/xin-chao/": 120, "/lien-he/": 30, deleted: 4}
    mariadb.run(
        "UPDATE wp_postmeta SET meta_value = '125' WHERE post_id = 5 AND meta_key = 'views'"
    )
    again = await migrate(store, clock, "wp", "wp-postviews", mariadb.url())
    assert (again["views"], again["pages"]) == (5, 1)
    counts = await get_counts(client, "wp")
    assert (counts["views"]["total"], counts["visits"]["total"]) == (159, 0)
    assert (await pages_of(client, "wp"))["/2025/03/xin-chao/"] == 125


async def test_a_uri_no_hit_could_count_on_goes_to_other_and_the_run_goes_on(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """WP Statistics keeps whatever clients requested. statistics_pages on the 26th: /tin-tuc
    5, /%FF 3 (an escape that is not UTF-8), /b%0a 2 (a line feed), /x%E2%80%8By 1 (a
    zero-width space), /tin-tuc?utm_source=zalo 4 (its query dropped, as a hit's).
    Worked by hand: the run goes through; pages /tin-tuc 5 + 4 = 9, "(other)" 3 + 2 + 1 = 6;
    the total is the visitor table's (2 visitors, 15 views), all the pages' views kept."""
    await put_site(client, "wp", {"timezone": "UTC"})
    for statement in STATISTICS:
        mariadb.run(statement)
    mariadb.run(
        VISITOR,
        [("2026-11-26", "Chrome", "10.0.0.1", 7), ("2026-11-26", "Edge", "10.0.0.4", 8)],
    )
    mariadb.run(
        "INSERT INTO wp_statistics_pages (uri, type, date, count, id) VALUES (%s, %s, %s, %s, %s)",
        [
            ("/tin-tuc", "page", "2026-11-26", 5, 3),
            ("/%FF", "unknown", "2026-11-26", 3, 0),
            ("/b%0a", "unknown", "2026-11-26", 2, 0),
            ("/x%E2%80%8By", "unknown", "2026-11-26", 1, 0),
            ("/tin-tuc?utm_source=zalo", "page", "2026-11-26", 4, 3),
        ],
    )
    result = await migrate(store, clock, "wp", "wp-statistics", mariadb.url())
    assert (result["views"], result["visits"], result["applied"]) == (15, 2, 1)
    assert await pages_of(client, "wp") == {"/tin-tuc": 9, "(other)": 6}
    again = await migrate(store, clock, "wp", "wp-statistics", mariadb.url())
    assert (again["views"], again["applied"]) == (0, 0)


async def test_post_views_counter_brings_days_and_post_totals(
    client: Client, store: Store, clock: FakeClock, mariadb: SourceDatabase
) -> None:
    """post_views rows: days (type 0) 2026-11-25 post 5 10 + page 7 3, 2026-11-26 post 5 4;
    weeks, months and years (types 1-3, not read); totals (type 4) post 5 300, page 7 20.
    Worked by hand: days 25th 13, 26th 4 (views only); total 320 views; pages
    /2025/03/xin-chao/ 300, /lien-he/ 20; a second run adds nothing."""
    await put_site(client, "wp", {"timezone": "Asia/Ho_Chi_Minh"})
    wordpress(mariadb, STRUCTURE)
    mariadb.run(POST_VIEWS)
    mariadb.run(
        "INSERT INTO wp_post_views (id, type, period, count) VALUES (%s, %s, %s, %s)",
        [
            (5, 0, "20261125", 10),
            (7, 0, "20261125", 3),
            (5, 0, "20261126", 4),
            (5, 1, "202648", 14),
            (5, 2, "202611", 14),
            (5, 3, "2026", 100),
            (5, 4, "total", 300),
            (7, 4, "total", 20),
        ],
    )
    result = await migrate(store, clock, "wp", "post-views-counter", mariadb.url())
    assert (result["views"], result["visits"], result["days"], result["pages"]) == (320, 0, 2, 2)
    assert await days_of(client, "wp") == {"2026-11-25": (13, 0), "2026-11-26": (4, 0)}
    assert await pages_of(client, "wp") == {"/2025/03/xin-chao/": 300, "/lien-he/": 20}
    counts = await get_counts(client, "wp")
    assert (counts["views"]["today"], counts["views"]["total"]) == (4, 320)
    check_invariants(counts)
    again = await migrate(store, clock, "wp", "post-views-counter", mariadb.url())
    assert again["applied"] == 0
