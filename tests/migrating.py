"""Running `statsvc migrate` in a test as its command does, on the test's store and clock."""

from __future__ import annotations

from typing import Any

from statsvc.cli import CLI
from statsvc.service.counting import StatsService
from statsvc.service.migrate import migrate as service_migrate
from statsvc.sources import read
from statsvc.store import Store
from tests.helpers import FakeClock


async def migrate(
    store: Store, clock: FakeClock, site: str, kind: str, url: str, **options: Any
) -> dict[str, Any]:
    """Run `statsvc migrate` as its command does (read, then the service), on the test's
    store and clock; a dry run where `dry_run=True`."""
    dry_run = bool(options.pop("dry_run", False))
    reading = read(kind, url, **options)
    return await service_migrate(
        StatsService(store, clock),
        site,
        reading.source,
        reading.snapshot_of,
        reading.origin,
        CLI,
        dry_run=dry_run,
    )
