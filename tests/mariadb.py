"""The old counters' MariaDB for the `statsvc migrate` tests: a database of each test's own on
127.0.0.1:3306, or STATSVC_TEST_MARIADB_PORT (user root, no password; .ci/run starts one of
its own on a free port where none answers on 3306), made and
dropped around the test; and WordPress's own tables, which three counters share."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
import pytest

HOST, USER = "127.0.0.1", "root"
PORT = int(os.environ.get("STATSVC_TEST_MARIADB_PORT", "3306"))  # .ci/run's own, where none answers


class SourceDatabase:
    """A database of one test's own, with its URL and a way to fill it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def url(self, *, password: str = "", database: str | None = None, port: int = PORT) -> str:
        """Return the URL `statsvc migrate --from` takes (a wrong part where told)."""
        secret = f":{password}" if password else ""
        return f"mysql://{USER}{secret}@{HOST}:{port}/{database or self.name}"

    def run(self, statement: str, rows: Sequence[Sequence[Any]] | None = None) -> None:
        """Run a statement, once per row given (its %s filled from the row)."""
        connection = pymysql.connect(host=HOST, port=PORT, user=USER, database=self.name)
        try:
            with connection.cursor() as cursor:
                if rows is None:
                    cursor.execute(statement)
                else:
                    cursor.executemany(statement, rows)
            connection.commit()
        finally:
            connection.close()


def answers() -> bool:
    """Return whether something listens on the MariaDB port."""
    try:
        with socket.create_connection((HOST, PORT), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def source_database() -> Iterator[SourceDatabase]:
    """Make a database of a random name, yield it, drop it. Where no MariaDB answers the test
    fails under STATSVC_REQUIRE_MARIADB=1 (CI) and is skipped, saying why, elsewhere."""
    if not answers():
        reason = f"no MariaDB on {HOST}:{PORT} (user {USER}, no password) for the migrate tests"
        if os.environ.get("STATSVC_REQUIRE_MARIADB") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = "statsvc_t" + secrets.token_hex(6)
    server = pymysql.connect(host=HOST, port=PORT, user=USER)
    try:
        with server.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield SourceDatabase(name)
    finally:
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


# Vinaora Visitors Counter's own table (mod_vvisit_counter's install SQL, #__ = jos_)
VVISIT_COUNTER = """CREATE TABLE IF NOT EXISTS `jos_vvisit_counter` (
  `time` INT(10) UNSIGNED NOT NULL,
  `visits` MEDIUMINT(8) UNSIGNED NOT NULL DEFAULT '0',
  `guests` MEDIUMINT(8) UNSIGNED NOT NULL DEFAULT '0',
  `bots` MEDIUMINT(8) UNSIGNED NOT NULL DEFAULT '0',
  `members` MEDIUMINT(8) UNSIGNED NOT NULL DEFAULT '0',
  UNIQUE INDEX `time` (`time`),
  PRIMARY KEY (`time`)
)"""

# WordPress's own tables as wp-admin/includes/schema.php makes them (the columns the counters
# read, with their types and keys; $charset_collate left to the server's default).
WP_POSTS = """CREATE TABLE wp_posts (
  ID bigint(20) unsigned NOT NULL auto_increment,
  post_author bigint(20) unsigned NOT NULL default '0',
  post_date datetime NOT NULL default '0000-00-00 00:00:00',
  post_date_gmt datetime NOT NULL default '0000-00-00 00:00:00',
  post_content longtext NOT NULL,
  post_title text NOT NULL,
  post_excerpt text NOT NULL,
  post_status varchar(20) NOT NULL default 'publish',
  comment_status varchar(20) NOT NULL default 'open',
  ping_status varchar(20) NOT NULL default 'open',
  post_password varchar(255) NOT NULL default '',
  post_name varchar(200) NOT NULL default '',
  to_ping text NOT NULL,
  pinged text NOT NULL,
  post_modified datetime NOT NULL default '0000-00-00 00:00:00',
  post_modified_gmt datetime NOT NULL default '0000-00-00 00:00:00',
  post_content_filtered longtext NOT NULL,
  post_parent bigint(20) unsigned NOT NULL default '0',
  guid varchar(255) NOT NULL default '',
  menu_order int(11) NOT NULL default '0',
  post_type varchar(20) NOT NULL default 'post',
  post_mime_type varchar(100) NOT NULL default '',
  comment_count bigint(20) NOT NULL default '0',
  PRIMARY KEY  (ID),
  KEY post_name (post_name(191)),
  KEY type_status_date (post_type,post_status,post_date,ID),
  KEY post_parent (post_parent),
  KEY post_author (post_author)
)"""
WP_POSTMETA = """CREATE TABLE wp_postmeta (
  meta_id bigint(20) unsigned NOT NULL auto_increment,
  post_id bigint(20) unsigned NOT NULL default '0',
  meta_key varchar(255) default NULL,
  meta_value longtext,
  PRIMARY KEY  (meta_id),
  KEY post_id (post_id),
  KEY meta_key (meta_key(191))
)"""
WP_OPTIONS = """CREATE TABLE wp_options (
  option_id bigint(20) unsigned NOT NULL auto_increment,
  option_name varchar(191) NOT NULL default '',
  option_value longtext NOT NULL,
  autoload varchar(20) NOT NULL default 'yes',
  PRIMARY KEY  (option_id),
  UNIQUE KEY option_name (option_name)
)"""
POST = (
    "INSERT INTO wp_posts (ID, post_date, post_date_gmt, post_content, post_title, post_excerpt,"
    " post_name, to_ping, pinged, post_modified, post_modified_gmt, post_content_filtered,"
    " post_type) VALUES (%s, %s, %s, '', %s, '', %s, '', '', %s, %s, '', %s)"
)


def wordpress(db: SourceDatabase, structure: str) -> None:
    """Make WordPress's posts, postmeta and options with a permalink structure and three
    posts: 5 (a post, /2025/03/xin-chao/), 7 (a page, /lien-he/), 8 (an attachment)."""
    db.run(WP_POSTS)
    db.run(WP_POSTMETA)
    db.run(WP_OPTIONS)
    db.run(
        "INSERT INTO wp_options (option_name, option_value) VALUES (%s, %s)",
        [("permalink_structure", structure), ("timezone_string", "Asia/Ho_Chi_Minh")],
    )
    at = "2025-03-02 08:30:00"
    db.run(
        POST,
        [
            (5, at, at, "Xin chào", "xin-chao", at, at, "post"),
            (7, at, at, "Liên hệ", "lien-he", at, at, "page"),
            (8, at, at, "Ảnh", "anh", at, at, "attachment"),
        ],
    )


def local(text: str, zone: str) -> int:
    """Return the Unix time of a local "YYYY-MM-DD HH:MM:SS" in `zone`."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())
