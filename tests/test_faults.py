"""Faults under steady load, with real processes: the store shut down and started again
from its AOF, the store frozen, statsvc stopped while it keeps hits. In each, the site's
total views at the end equal the hits statsvc accepted: none lost, none counted twice.

The one fixed wait is a store outage's own 5 s: the fault under test, not a wait for a
clock. Everything else waits for a state, with a deadline: the load counted, hits kept, the
kept hits counted."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import BROWSER, call, metric, send, wait_until
from tests.servers import TOKEN, Server, Service

OUTAGE_SECONDS = 5.0
LOAD_THREADS = 4
WORKERS = 2
LOAD_TIMEOUT = 30.0  # for a reply, and for the load to reach a state it waits for
MORE = 50  # replies of one kind that show the load has reached a state (counted, kept)
SETTLE_TIMEOUT = 60.0  # for the kept hits to be counted once the store is back


class Load:
    """Hits sent without pause by a few threads, each reply noted: accepted (counted or
    queued) or not (an error status, or no answer)."""

    def __init__(self, service: Service, site: str) -> None:
        self.url, self.site = f"{service.url}/api/v1/hit", site
        self.accepted = 0
        self.refused = 0
        self.statuses: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(LOAD_THREADS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            body = {"site": self.site, "path": f"/p{n % 10}", "id": f"load{worker}-{n:07d}"}
            headers = {"Content-Type": "text/plain", "User-Agent": f"{BROWSER} v{n % 50}"}
            try:
                status, _, reply = send(
                    self.url, "POST", json.dumps(body).encode(), headers, LOAD_TIMEOUT
                )
            except OSError as error:
                outcome, accepted = type(error).__name__, False
            else:
                if status == 200:
                    counted = json.loads(reply)["counted"]
                    outcome, accepted = str(counted), counted in (True, "queued")
                else:
                    outcome, accepted = str(status), False
            with self._lock:
                self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
                if accepted:
                    self.accepted += 1
                else:
                    self.refused += 1

    def running_for(self, seconds: float) -> None:
        """Keep the load going for this long: the duration of the fault under test."""
        time.sleep(seconds)

    def seen(self, outcome: str) -> int:
        """Return how many replies of `outcome` ("True": counted, "queued": kept) have come."""
        with self._lock:
            return self.statuses.get(outcome, 0)

    def running_until(self, condition: Callable[[], bool], what: str) -> None:
        """Keep the load going until `condition` holds: the state the next step needs."""
        wait_until(
            condition, LOAD_TIMEOUT, lambda: f"under load, {what} never came: {self.statuses}"
        )


@pytest.fixture
def statsvc(tmp_path: Path, server: Server) -> Iterator[Service]:
    """`statsvc serve --workers 2` on that store, with the default 1 s store timeout."""
    env = {
        "STATSVC_REDIS_URL": server.url,
        "STATSVC_STORE_TIMEOUT_MS": "1000",  # the default
        "STATSVC_RATE_LIMIT": "0",  # fifty readers send thousands of views a minute here
        "STATSVC_RATE_LIMIT_ADDRESS": "0",  # all from the loopback address
    }
    service = Service(tmp_path / "data", "--workers", str(WORKERS), env=env)
    service.start()
    yield service
    if service.process is not None:
        service.stop()


def new_site(service: Service) -> str:
    site = "f" + secrets.token_hex(4)
    assert call(service.url, "PUT", f"/api/v1/sites/{site}", {}, TOKEN)[0] == 201
    return site


def total_views(service: Service, site: str) -> int | None:
    """Return the site's total views, or None while the service cannot read the store yet."""
    status, body = call(service.url, "GET", f"/api/v1/counts?site={site}")
    if status == 503:  # a worker that just lost the store tries it again within 2 s
        return None
    assert status == 200, body
    return int(body["views"]["total"])


def every_worker_counts(service: Service) -> bool:
    """Tell whether each worker has counted hits (so each knows the site: a site a worker
    never read before the store went down cannot be counted there during the outage)."""
    counted = service.per_worker("statsvc_hits")
    return len(counted) == WORKERS and all(counted.values())


def kept_hits(service: Service) -> float:
    """Return how many hits the workers keep, not yet counted (their summed buffer depth)."""
    status, _, page = send(f"{service.url}/metrics")
    assert status == 200
    return metric(page.decode(), "statsvc_buffer_depth")


def settle(service: Service, site: str, expected: int) -> int | None:
    """Wait until the kept hits are counted (the service drains them at its own pace, in
    both workers): the total holds every accepted hit and no worker keeps any, so none is
    left that a late replay could count a second time; return the total views then."""
    last: dict[str, int | None] = {}  # the total last read, for the message at the deadline

    def settled() -> bool:
        last["total"] = total_views(service, site)
        return (last["total"] or 0) >= expected and kept_hits(service) == 0

    wait_until(
        settled,
        SETTLE_TIMEOUT,
        lambda: f"{site}: {last['total']} of {expected} views counted, {kept_hits(service)} kept",
        interval=0.2,
    )
    return total_views(service, site)


@pytest.mark.parametrize(
    ("begin", "end"),
    [(Server.stop, Server.start), (Server.freeze, Server.thaw)],
    ids=["shut-down-5s-then-started-from-its-aof", "frozen-5s-by-sigstop"],
)
def test_a_store_outage_under_load_loses_and_doubles_nothing(
    statsvc: Service, server: Server, begin: Callable[[Server], None], end: Callable[[Server], None]
) -> None:
    """Steady hits while the store is shut down for 5 s and started again from its AOF, or
    frozen (SIGSTOP) for 5 s: every request is answered (none hangs, none is refused) and
    every accepted hit is counted exactly once when the store is back."""
    site = new_site(statsvc)
    with Load(statsvc, site) as load:
        load.running_until(lambda: every_worker_counts(statsvc), "counting in every worker")
        begin(server)
        load.running_for(OUTAGE_SECONDS)
        end(server)
        after = load.seen("True") + MORE
        load.running_until(lambda: load.seen("True") >= after, "counting again")
    assert load.statuses.get("queued", 0) > 0, load.statuses  # the outage was met
    assert load.refused == 0, load.statuses
    assert settle(statsvc, site, load.accepted) == load.accepted


def test_statsvc_stopped_while_it_keeps_hits_counts_them_at_the_next_start(
    statsvc: Service, server: Server
) -> None:
    """Hits kept while the store is down survive a SIGTERM of statsvc: written to its data
    directory, counted once at the next start; nothing is left behind after."""
    site = new_site(statsvc)
    with Load(statsvc, site) as load:
        load.running_until(lambda: every_worker_counts(statsvc), "counting in every worker")
        server.stop()
        load.running_until(lambda: load.seen("queued") >= MORE, "keeping hits")
    assert load.statuses.get("queued", 0) > 0, load.statuses
    assert statsvc.stop() == 0
    kept = list((statsvc.data_dir / "buffer").glob("*.jsonl"))
    assert kept, "the kept hits were written to the data directory"
    server.start()
    statsvc.start()
    assert load.refused == 0, load.statuses
    assert settle(statsvc, site, load.accepted) == load.accepted
    assert statsvc.stop() == 0
    assert list((statsvc.data_dir / "buffer").glob("*.jsonl")) == []
