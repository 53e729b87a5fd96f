"""`statsvc migrate` as an operator runs it: a dry run's table, a run, a second run that adds
nothing, and a source that cannot be read (exit status 2, one line, nothing written)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from redis.asyncio import Redis

from tests.helpers import add_site, dump, statsvc
from tests.mariadb import VVISIT_COUNTER, SourceDatabase, local

HCM = "Asia/Ho_Chi_Minh"


@pytest.fixture
async def site(redis_url: str) -> str:
    """A new site in Ho Chi Minh City on the test server (the CLI's default prefix)."""
    site_id = "mig" + os.urandom(5).hex()
    await add_site(redis_url, site_id, HCM)
    return site_id


async def stored(redis: Redis, site: str) -> dict[bytes, Any]:
    """Return every key of `site` under the CLI's prefix, with its value."""
    return await dump(redis, f"sv:{{{site}}}")


async def test_a_dry_run_then_a_run_then_nothing_new(
    redis_url: str, redis: Redis, site: str, mariadb: SourceDatabase
) -> None:
    """Vinaora rows of two local days ten days back (the CLI runs on the real clock; days
    well in the past are past whichever local day it reads as today, so the test does not
    depend on the time of day): a bucket ending exactly at local midnight after `day` (5)
    and one ending 10:00 on `day` (3) are `day`'s (8); one ending at `day`'s midnight (7)
    the day before's. The dry run prints 15 views over 2 days and writes nothing; the run
    adds them (the export's total 15, its days 7 and 8); a second run says there is
    nothing new."""
    day = datetime.now(ZoneInfo(HCM)).date() - timedelta(days=10)
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    mariadb.run(VVISIT_COUNTER)
    mariadb.run(
        "INSERT INTO jos_vvisit_counter (time, visits, guests) VALUES (%s, %s, %s)",
        [
            (local(f"{after} 00:00:00", HCM), 5, 5),
            (local(f"{day} 10:00:00", HCM), 3, 3),
            (local(f"{day} 00:00:00", HCM), 7, 7),
        ],
    )
    command = ("migrate", "vinaora", "--from", mariadb.url(), "--site", site)
    nothing = await stored(redis, site)
    dry = statsvc(redis_url, *command, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would add (dry run, nothing written)" in dry.stdout
    lines = dict(line.split(None, 1) for line in dry.stdout.splitlines()[1:] if "  " in line)
    assert lines["views"].strip() == "15"
    assert lines["days"].strip() == "2"
    first, last = (format_date(d, "medium", locale="en") for d in (before, day))
    assert f"{first} .. {last}" in dry.stdout  # dates as the command's language writes them
    assert await stored(redis, site) == nothing
    done = statsvc(redis_url, *command)
    assert done.returncode == 0, done.stderr
    assert f"-> site {site}: added" in done.stdout
    export = json.loads(statsvc(redis_url, "export", site).stdout)
    assert export["total"] == {"views": 15, "visits": 15}
    assert {d["date"]: d["views"] for d in export["days"]} == {
        before.isoformat(): 7,
        day.isoformat(): 8,
    }
    again = statsvc(redis_url, *command)
    assert again.returncode == 0, again.stderr
    assert "nothing new to add" in again.stdout


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("password", "refused user 'root': wrong user or password"),
        ("database", "has no database"),
        ("prefix", "no table xyz_vvisit_counter"),
        ("table", "no table nv4_counter"),
        ("layout", "has no column visits: a layout this version does not know"),
        ("port", "cannot connect to 127.0.0.1:1"),
        ("url", "expected mysql://user:password@host:port/database"),
        ("host", "busuanzi needs --host"),
        ("slash", "percent-encode the special characters of the user and password"),
        ("digits", "percent-encode the special characters of the user and password"),
    ],
)
async def test_a_source_that_cannot_be_read_is_exit_2_and_writes_nothing(
    redis_url: str, redis: Redis, site: str, mariadb: SourceDatabase, case: str, message: str
) -> None:
    """A wrong password, database, prefix, a missing table, an unknown layout, nothing
    listening, a URL of another scheme, busuanzi without --host, a password with an
    unescaped / (urlsplit quoted it as a port; an all-digit start was read as the port and
    named as the server): one line naming what is missing (never any of the password), exit
    status 2, nothing written to the site."""
    if case == "layout":
        mariadb.run("CREATE TABLE jos_vvisit_counter (time INT UNSIGNED NOT NULL, hits INT)")
    else:
        mariadb.run(VVISIT_COUNTER)
    kind, url = "vinaora", mariadb.url()
    extra: tuple[str, ...] = ()
    if case == "password":
        url = mariadb.url(password="s3cret-wrong")
    elif case == "database":
        url = mariadb.url(database=mariadb.name + "_none")
    elif case == "prefix":
        extra = ("--prefix", "xyz_")
    elif case == "table":
        kind = "nukeviet"
    elif case == "port":
        url = mariadb.url(port=1)
    elif case == "url":
        url = "postgres://root@127.0.0.1/x"
    elif case == "host":
        kind, url = "busuanzi", redis_url
    elif case == "slash":
        url = f"mysql://root:s3cret/x@127.0.0.1:3306/{mariadb.name}"
    elif case == "digits":
        url = f"mysql://root:97531/s3cret@127.0.0.1:3306/{mariadb.name}"
    before = await stored(redis, site)
    run = statsvc(redis_url, "migrate", kind, "--from", url, "--site", site, *extra)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "s3cret" not in run.stderr and "97531" not in run.stderr
    assert run.stdout == ""
    assert await stored(redis, site) == before
