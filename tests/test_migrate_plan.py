"""What a migration run adds (statsvc.core.migrate.plan): only what the source says beyond
the ledger of earlier runs, never a day after today, never less than nothing; and two runs
that read the same ledger apply once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from redis.asyncio import Redis

from statsvc.cli import CLI
from statsvc.core.errors import Conflict
from statsvc.core.migrate import Ledger, Snapshot, plan
from statsvc.service.backfill import apply_import
from statsvc.service.counting import StatsService
from statsvc.service.migrate import migrate
from statsvc.store import Store
from tests.helpers import Client, FakeClock, dump, get_counts, put_site

TODAY = date(2026, 11, 26)
SOURCE = "migrate:vinaora:db.example:3306/joomla:jos_"


def run(snapshot: Snapshot, ledger: Ledger | None = None) -> tuple[list[dict[str, object]], Ledger]:
    """Return a run's imports (as their figures) and the ledger after the last."""
    ledger = ledger or Ledger()
    steps = plan(SOURCE, snapshot, ledger, TODAY)
    imports: list[dict[str, object]] = [
        {
            "id": s.imported.import_id,
            "added": s.imported.added(),
            "days": {d.day: (d.views, d.visits) for d in s.imported.days},
            "pages": dict(s.imported.pages),
        }
        for s in steps
    ]
    return imports, steps[-1].ledger if steps else ledger


def test_a_first_run_adds_the_days_the_total_and_the_opening_balance() -> None:
    """Days 3 + 4, an all-time total of 20 (it includes them) and an opening balance 100:
    one import of 120 views, the two days dated, under the source's id and run 1."""
    snapshot = Snapshot(
        days={TODAY - timedelta(days=1): (3, 2), TODAY: (4, 4)}, total=(20, 10), initial=100
    )
    imports, ledger = run(snapshot)
    assert imports == [
        {
            "id": SOURCE + ":1",
            "added": (120, 110),
            "days": {TODAY - timedelta(days=1): (3, 2), TODAY: (4, 4)},
            "pages": {},
        }
    ]
    assert (ledger.runs, ledger.total) == (1, (120, 110))


def test_a_later_initial_adds_what_it_grew_by_and_takes_nothing_away() -> None:
    """An old counter's total of 100 visits with --initial 500: run 1 adds 600. Run 2 with
    --initial 700 adds the 200 it grew by. Run 3 with --initial 600 and 30 more visits
    counted meanwhile adds nothing (a lower figure takes nothing away, as a purge's: 730
    is below the 800 added); run 4, the counter at 250, adds 250 + 600 - 800 = 50."""
    _, ledger = run(Snapshot(total=(100, 100), initial=500))
    assert ledger.total == (600, 600)
    imports, ledger = run(Snapshot(total=(100, 100), initial=700), ledger)
    assert [i["added"] for i in imports] == [(200, 200)]
    imports, ledger = run(Snapshot(total=(130, 130), initial=600), ledger)
    assert imports == []
    imports, ledger = run(Snapshot(total=(250, 250), initial=600), ledger)
    assert [i["added"] for i in imports] == [(50, 50)]


def test_the_ledger_keeps_no_initial_and_reads_the_first_releases() -> None:
    """The opening balance is in the ledger's total, not kept apart (a copy nothing read): a
    ledger written now has no "initial"; one of the first release, with it, reads the same."""
    _, ledger = run(Snapshot(days={TODAY: (4, 4)}, initial=100))
    written = json.loads(ledger.to_json())
    assert set(written) == {"runs", "total", "days", "pages"}
    old = json.dumps(written | {"initial": 100})
    assert Ledger.from_json(old) == ledger == Ledger.from_json(ledger.to_json())


def test_a_second_run_of_the_same_source_adds_nothing() -> None:
    """The same snapshot against the ledger of the first run: no import at all."""
    snapshot = Snapshot(days={TODAY: (4, 4)}, pages={"/": 4})
    _, ledger = run(snapshot)
    assert run(snapshot, ledger) == ([], ledger)


def test_a_grown_day_and_a_new_page_add_the_difference_only() -> None:
    """Today 4 -> 9 views and 4 -> 6 visits, page / 4 -> 5, a new page /a 2: run 2 adds
    (5, 2) to today, 1 and 2 to the pages."""
    _, ledger = run(Snapshot(days={TODAY: (4, 4)}, pages={"/": 4}))
    imports, after = run(Snapshot(days={TODAY: (9, 6)}, pages={"/": 5, "/a": 2}), ledger)
    assert imports == [
        {"id": SOURCE + ":2", "added": (5, 2), "days": {TODAY: (5, 2)}, "pages": {"/": 1, "/a": 2}}
    ]
    assert (after.days[TODAY], after.pages) == ((9, 6), {"/": 5, "/a": 2})


def test_a_figure_the_source_lowered_adds_nothing_and_a_later_day_waits() -> None:
    """A purge lowers yesterday 10 -> 2 and the total; a day after the site's today (a clock
    ahead) is held back, from the days and from the total: nothing is added."""
    yesterday = TODAY - timedelta(days=1)
    _, ledger = run(Snapshot(days={yesterday: (10, 5)}, total=(50, 20)))
    later = Snapshot(days={yesterday: (2, 1), TODAY + timedelta(days=1): (7, 7)}, total=(52, 27))
    assert run(later, ledger)[0] == []


def test_more_days_than_a_part_go_in_parts_each_with_its_ledger() -> None:
    """2,500 days of 1 view: three imports (1,000, 1,000, 500 days) with ids :1, :2, :3; the
    ledger kept with each covers the days imported so far, so a run cut after a part goes
    on from there."""
    days = {TODAY - timedelta(days=n): (1, 1) for n in range(2500)}
    steps = plan(SOURCE, Snapshot(days=days), Ledger(), TODAY)
    assert [len(s.imported.days) for s in steps] == [1000, 1000, 500]
    assert [s.imported.import_id for s in steps] == [f"{SOURCE}:{n}" for n in (1, 2, 3)]
    assert [len(s.ledger.days) for s in steps] == [1000, 2000, 2500]
    assert sum(s.imported.added()[0] for s in steps) == 2500
    rest = plan(SOURCE, Snapshot(days=days), steps[0].ledger, TODAY)
    assert [s.imported.import_id for s in rest] == [f"{SOURCE}:2", f"{SOURCE}:3"]
    assert sum(s.imported.added()[0] for s in rest) == 1500


async def test_two_runs_that_read_the_same_ledger_apply_once(
    client: Client, store: Store, clock: FakeClock
) -> None:
    """Two runs both read the empty ledger and send run 1's import: the second is skipped
    (the same import id and figures), so the site gets 7 views, not 14."""
    await put_site(client, "race", {"timezone": "UTC"})
    stats = StatsService(store, clock)
    snapshot = Snapshot(days={TODAY: (7, 3)})
    steps = plan(SOURCE, snapshot, Ledger(), TODAY)
    for _ in range(2):
        step = steps[0]
        await apply_import(
            stats, "race", step.imported, CLI, ledger=(SOURCE, step.ledger.to_json())
        )
    assert (await get_counts(client, "race"))["views"]["total"] == 7
    result = await migrate(stats, "race", SOURCE, lambda _: snapshot, {"kind": "vinaora"}, CLI)
    assert result["applied"] == 0


async def test_a_run_that_read_an_older_ledger_with_other_figures_is_refused(
    client: Client, store: Store, clock: FakeClock, redis: Redis, prefix: str
) -> None:
    """Run A read today 7 and applied its run 1; run B had read the same empty ledger but
    today 9 (the source grew between the two reads): its run 1 is refused as migrate_raced
    and changes nothing. (A's ledger is left unwritten here, so that B reads the empty one
    as it would have a moment earlier.)"""
    await put_site(client, "race", {"timezone": "UTC"})
    stats = StatsService(store, clock)
    first = plan(SOURCE, Snapshot(days={TODAY: (7, 3)}), Ledger(), TODAY)[0]
    await apply_import(stats, "race", first.imported, CLI)
    before = await dump(redis, prefix)
    late = Snapshot(days={TODAY: (9, 4)})
    with pytest.raises(Conflict) as raced:
        await migrate(stats, "race", SOURCE, lambda _: late, {"kind": "vinaora"}, CLI)
    assert raced.value.code == "migrate_raced"
    assert await dump(redis, prefix) == before
