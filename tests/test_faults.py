"""Faults under steady load, with real processes: the store shut down and started again
from its AOF, the store frozen, statsvc stopped while it keeps hits, statsvc killed (SIGKILL)
while it keeps hits and right after it replayed them. In each, the site's total views at the
end equal the hits statsvc accepted: none lost, none counted twice.

Each test prints its figures as a JSON line {"fault", "accepted", "queued", "total"} (the
fault table: `pytest tests/test_faults.py -rP` shows them, or `-s`).

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
KEPT_TO_REPLAY = 1200  # queued replies before a kill: a replay of several batches per worker


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


def journals(service: Service) -> list[Path]:
    """Return the journal files of kept hits in the service's data directory."""
    return sorted((service.data_dir / "buffer").glob("*.jsonl"))


def replayed(service: Service, site: str, expected: int) -> int | None:
    """Wait until every journal is replayed and removed (its hits all marked done), then
    settle; return the total views."""
    wait_until(lambda: not journals(service), SETTLE_TIMEOUT, lambda: f"{journals(service)}")
    return settle(service, site, expected)


def report(fault: str, load: Load, total: int | None) -> None:
    """Print the fault's figures, a row of the fault table: hits accepted (counted or
    queued), hits queued, and the site's total views at the end."""
    row = {"fault": fault, "accepted": load.accepted, "queued": load.seen("queued")}
    print(json.dumps({**row, "total": total}))


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
    total = settle(statsvc, site, load.accepted)
    report(f"store {begin.__name__} 5 s, then {end.__name__}", load, total)
    assert total == load.accepted


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
    total = settle(statsvc, site, load.accepted)
    report("statsvc SIGTERM while it keeps hits, store down", load, total)
    assert total == load.accepted
    assert statsvc.stop() == 0
    assert journals(statsvc) == []


def keep_hits_then_kill(statsvc: Service, server: Server, site: str, queued: int) -> Load:
    """Send hits until `queued` of them are kept (the store shut down), stop the load (so
    every hit sent has its reply: one cut off by the kill would be kept unanswered), then
    SIGKILL statsvc and its workers; return the load."""
    with Load(statsvc, site) as load:
        load.running_until(lambda: every_worker_counts(statsvc), "counting in every worker")
        server.stop()
        load.running_until(lambda: load.seen("queued") >= queued, "keeping hits")
    assert load.refused == 0, load.statuses
    assert kept_hits(statsvc) == load.seen("queued")
    statsvc.kill()
    assert journals(statsvc), "the kept hits are on disk"
    return load


def test_statsvc_killed_while_it_keeps_hits_loses_none(statsvc: Service, server: Server) -> None:
    """SIGKILL of the whole statsvc process group while hits are kept (the store down): no
    handler runs, nothing is written at the end, yet each kept hit was written to the
    journal before its reply; with the store back and statsvc started again every accepted
    hit is counted once, and the journals are gone."""
    site = new_site(statsvc)
    load = keep_hits_then_kill(statsvc, server, site, MORE)
    server.start()
    statsvc.start()
    total = replayed(statsvc, site, load.accepted)
    report("statsvc SIGKILL (process group) while it keeps hits, store down", load, total)
    assert total == load.accepted


def test_statsvc_killed_right_after_a_replay_counts_none_twice(
    statsvc: Service, server: Server
) -> None:
    """SIGKILL right after statsvc replayed its kept hits, at the worst instant: killed as
    soon as the total holds every accepted hit, then its journals put back as they were
    before the replay (what a kill after the store took every batch and before any progress
    mark would leave; a real kill leaves at most the last batch unmarked). Started again,
    statsvc replays them all and the store refuses every id it counted: the total is still
    the hits accepted."""
    site = new_site(statsvc)
    load = keep_hits_then_kill(statsvc, server, site, KEPT_TO_REPLAY)
    before_the_replay = {path: path.read_bytes() for path in journals(statsvc)}
    server.start()
    statsvc.start()  # each worker takes journals over and replays them at once
    wait_until(
        lambda: (total_views(statsvc, site) or 0) >= load.accepted,
        SETTLE_TIMEOUT,
        "the kept hits were never counted",
        interval=0.005,
    )
    statsvc.kill()
    left = len(journals(statsvc))  # journals not yet all marked done at the kill
    for path, data in before_the_replay.items():
        path.write_bytes(data)
    statsvc.start()
    total = replayed(statsvc, site, load.accepted)
    report(f"statsvc SIGKILL right after a replay ({left} journals left)", load, total)
    assert total == load.accepted
