"""`statsvc token`, `statsvc import` and `statsvc export` as an operator runs them."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.helpers import add_site, statsvc


@pytest.fixture
async def site(redis_url: str) -> str:
    """A new site of its own on the test server."""
    site_id = "cli" + os.urandom(5).hex()
    await add_site(redis_url, site_id, "Asia/Ho_Chi_Minh")
    return site_id


def csv_days(days: int, end: date) -> str:
    """Return a CSV of `days` days ending at `end`, 3 views and 2 visits each."""
    rows = [f"{end - timedelta(days=n)},3,2" for n in range(days)]
    return "date,views,visits\n" + "\n".join(rows) + "\n"


def test_token_create_prints_the_token_once(redis_url: str, site: str) -> None:
    """`statsvc token create SITE` prints a token, lists it without its secret, revokes it."""
    made = statsvc(redis_url, "token", "create", site)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith(f"svt_{site}.")
    assert "shown this once" in made.stderr
    token_id = token.split(".")[1]
    listed = statsvc(redis_url, "token", "list", site)
    assert [t["token_id"] for t in json.loads(listed.stdout)] == [token_id]
    assert token.split(".")[2] not in listed.stdout
    assert statsvc(redis_url, "token", "revoke", site, token_id).returncode == 0
    again = statsvc(redis_url, "token", "revoke", site, token_id)
    assert again.returncode != 0
    assert "no token" in again.stderr


def test_token_create_for_an_unknown_site_fails(redis_url: str) -> None:
    """A token of a site that does not exist is refused with a message."""
    made = statsvc(redis_url, "token", "create", "nosuch" + os.urandom(4).hex())
    assert made.returncode != 0
    assert "no site" in made.stderr


def test_a_large_csv_imports_in_parts_with_progress_and_once(
    redis_url: str, site: str, tmp_path: Path
) -> None:
    """A CSV of 2,500 days is imported in 3 parts with a progress line each; running the same
    file again adds nothing."""
    file = tmp_path / "old.csv"
    file.write_text(csv_days(2500, date.today() - timedelta(days=2)))
    first = statsvc(redis_url, "import", site, str(file))
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["import_id"].startswith("file:")
    assert (summary["parts"], summary["applied"], summary["views"]) == (3, 3, 7500)
    assert summary["visits"] == 5000
    progress = [line for line in first.stderr.splitlines() if "part " in line]
    assert progress[-1].endswith("part 3/3 imported: 2,500 of 2,500 days")
    assert len(progress) == 3
    second = statsvc(redis_url, "import", site, str(file))
    assert json.loads(second.stdout) | {"import_id": ""} == {
        "import_id": "",
        "parts": 3,
        "applied": 0,
        "skipped": 3,
        "views": 0,
        "visits": 0,
        "days": 0,
        "days_total_only": 0,
        "pages": 0,
    }
    exported = json.loads(statsvc(redis_url, "export", site).stdout)
    assert exported["total"] == {"views": 7500, "visits": 5000}


def test_a_json_import_with_a_total_counts_once(redis_url: str, site: str, tmp_path: Path) -> None:
    """A JSON document with its own import id and a total is added once however often run."""
    file = tmp_path / "old.json"
    file.write_text(json.dumps({"import_id": "box", "total": {"views": 13457, "visits": 13457}}))
    for _ in range(2):
        assert statsvc(redis_url, "import", site, str(file)).returncode == 0
    exported = json.loads(statsvc(redis_url, "export", site).stdout)
    assert exported["total"] == {"views": 13457, "visits": 13457}


def test_imported_pages_count_where_a_hit_would(redis_url: str, site: str, tmp_path: Path) -> None:
    """The pages of a JSON import are read as a hit's paths, and a path a hit could not send
    is refused with a message naming it, before anything is written."""
    file = tmp_path / "pages.json"
    pages = [{"path": "/a/../b#top", "views": 3}, {"path": "/b", "views": 2}]
    file.write_text(json.dumps({"total": {"views": 5, "visits": 1}, "pages": pages}))
    assert statsvc(redis_url, "import", site, str(file)).returncode == 0
    exported = json.loads(statsvc(redis_url, "export", site).stdout)
    assert exported["pages"] == [{"path": "/b", "views": 5}]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"total": {"views": 1, "visits": 1}, "pages": [{"path": "/x%0Ay", "views": 1}]})
    )
    refused = statsvc(redis_url, "import", site, str(bad))
    assert refused.returncode != 0
    assert "'/x%0Ay'" in refused.stderr
    assert json.loads(statsvc(redis_url, "export", site).stdout)["total"]["views"] == 5


def test_an_import_id_reused_for_other_figures_is_refused_with_a_message(
    redis_url: str, site: str, tmp_path: Path
) -> None:
    """An import id already used for other figures is refused with a one-line message (a
    Conflict of the service), not a traceback, and changes nothing."""
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps({"import_id": "box", "total": {"views": 10, "visits": 5}}))
    second.write_text(json.dumps({"import_id": "box", "total": {"views": 99, "visits": 9}}))
    assert statsvc(redis_url, "import", site, str(first)).returncode == 0
    refused = statsvc(redis_url, "import", site, str(second))
    assert refused.returncode != 0
    assert "this import_id was used for another import" in refused.stderr
    assert "Traceback" not in refused.stderr
    exported = json.loads(statsvc(redis_url, "export", site).stdout)
    assert exported["total"] == {"views": 10, "visits": 5}


def test_an_export_file_rebuilds_a_new_site(redis_url: str, site: str, tmp_path: Path) -> None:
    """`statsvc export` into a file and `statsvc import` of it into a site that does not
    exist yet makes the site with the exported settings and the same numbers."""
    file = tmp_path / "days.csv"
    file.write_text(csv_days(1500, date.today() - timedelta(days=1)))
    assert statsvc(redis_url, "import", site, str(file)).returncode == 0
    export_file = tmp_path / "export.json"
    export_file.write_text(statsvc(redis_url, "export", site).stdout)
    copy = site + "-copy"
    rebuilt = statsvc(redis_url, "import", copy, str(export_file))
    assert rebuilt.returncode == 0, rebuilt.stderr
    original = json.loads(export_file.read_text())
    copied = json.loads(statsvc(redis_url, "export", copy).stdout)
    assert copied["site"] == original["site"] | {"id": copy}
    for field in ("total", "days", "pages"):
        assert copied[field] == original[field]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,views\n2026-01-01,3\n", "header"),
        ("date,views,visits\n2026-01-01,3,x\n", "line 2"),
        ("date,views,visits\n2026-01-01,\u0663,1\n", "line 2"),  # an Arabic-Indic 3
        ("date,views,visits\n2026-01-01,\uff13,1\n", "line 2"),  # a fullwidth 3
        ("date,views,visits\n2026-01-01,3,4\n", "visits cannot exceed views"),
        ('{"total": {"views": 1}}', "views and visits"),
        ("{not json", "statsvc:"),
    ],
)
def test_a_bad_import_file_is_refused_with_a_message(
    redis_url: str, site: str, tmp_path: Path, content: str, message: str
) -> None:
    """A malformed CSV or JSON file is refused with a message naming the problem."""
    file = tmp_path / "bad.txt"
    file.write_text(content)
    result = statsvc(redis_url, "import", site, str(file))
    assert result.returncode != 0
    assert message in result.stderr


def test_an_import_into_an_unknown_site_is_refused(redis_url: str, tmp_path: Path) -> None:
    """Days imported into a site that does not exist (and not from an export) are refused."""
    file = tmp_path / "old.csv"
    file.write_text(csv_days(3, date.today() - timedelta(days=1)))
    result = statsvc(redis_url, "import", "nosuch" + os.urandom(4).hex(), str(file))
    assert result.returncode != 0
    assert "no site" in result.stderr


async def test_cli_changes_are_in_the_audit_trail(redis: Redis, redis_url: str, site: str) -> None:
    """`statsvc site add` and `statsvc token create` are in the audit trail, made by "cli"."""
    assert statsvc(redis_url, "token", "create", site).returncode == 0
    entries = [json.loads(e) for e in await redis.lrange(f"sv:{{{site}}}:audit", 0, -1)]
    assert [(e["by"], e["action"]) for e in entries] == [
        ("cli", "token_create"),
        ("cli", "settings"),
    ]
    assert entries[1]["detail"] == {"created": True, "timezone": "Asia/Ho_Chi_Minh"}
