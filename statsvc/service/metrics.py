"""Prometheus metrics: hits by result, request and store latency (served by http.metrics).

One `Metrics` per application, in a registry of its own (tests read their app's numbers
alone). Under `statsvc serve --workers N` every worker writes its values to files in a
directory shared by the workers (prometheus_client's multiprocess mode, chosen by
`PROMETHEUS_MULTIPROC_DIR`, which serve.py sets before it starts them), and /metrics, on
whichever worker the scrape reaches, adds up the files of all of them."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from statsvc.core.reasons import REASONS
from statsvc.service.tallies import Counter, Files, Gauge, Histogram, InMemory, Observations

HIT_RESULTS = ("counted", "queued", *REASONS)
STORE_OPERATIONS = ("hit", "ping", "read")
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"))
# the hit path answers in about a millisecond; pages and exports take longer
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
UNMATCHED = "(unmatched)"  # any path no route serves: never the raw path, its values are endless


class Metrics:
    """The service's metrics, and the registry /metrics reads them from."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        files = Files(multiprocess_dir)
        self.hits = Counter(
            files,
            "statsvc_hits",
            "Page views received, by result: counted, or the reason they were not.",
            ["result"],
        )
        self.requests = Histogram(
            files,
            "statsvc_request_duration_seconds",
            "Time to answer an HTTP request, by route (its pattern), method and status.",
            ["route", "method", "status"],
            LATENCY_BUCKETS,
        )
        self.store = Histogram(
            files,
            "statsvc_store_duration_seconds",
            "Time a counting request waits for the store (batching included), by operation.",
            ["operation"],
            LATENCY_BUCKETS,
        )
        depth = Gauge(
            files,
            "statsvc_buffer_depth",
            "Hits kept while the store cannot be reached, waiting to be counted.",
        )
        self.buffer_depth = depth.labels()
        dropped = Counter(
            files,
            "statsvc_buffer_dropped",
            "Hits refused while the store could not be reached and the buffer was full (or the "
            "journal could not be written): lost.",
        )
        given_up = Counter(
            files,
            "statsvc_buffer_given_up",
            "Kept hits the store refused when they were counted later (not an outage): lost.",
        )
        expired = Counter(
            files,
            "statsvc_buffer_expired",
            "Kept hits older than the replay horizon when the store came back: given up, lost.",
        )
        self.buffer_dropped = dropped.labels()
        self.buffer_given_up = given_up.labels()
        self.buffer_expired = expired.labels()
        # children bound once: a label look-up per request would cost more than the count
        self.hit_results = {result: self.hits.labels(result) for result in HIT_RESULTS}
        self.store_operations = {op: self.store.labels(op) for op in STORE_OPERATIONS}
        self._routes: dict[tuple[str | None, str, int], Observations] = {}
        self.exposed = CollectorRegistry(auto_describe=True)
        if multiprocess_dir is not None:
            MultiProcessCollector(self.exposed, path=str(multiprocess_dir))
        else:
            families = (self.hits, self.requests, self.store, depth, dropped, given_up, expired)
            self.exposed.register(InMemory(families))
            ProcessCollector(registry=self.exposed)

    def hit(self, reason: str | None) -> None:
        """Count one page view, counted (no reason) or not."""
        result = reason or "counted"
        child = self.hit_results.get(result)
        if child is None:  # a reason added later: reasons come from code, never from input
            child = self.hit_results[result] = self.hits.labels(result)
        child.inc()

    def request(self, route: str | None, method: str, status: int, seconds: float) -> None:
        """Note how long a request took, under its route's pattern (None: no route)."""
        method = method if method in METHODS else "other"  # a client's word: bounded
        key = (route, method, status)
        child = self._routes.get(key)
        if child is None:
            label = route if route is not None else UNMATCHED
            child = self._routes[key] = self.requests.labels(label, method, str(status))
        child.observe(seconds)

    def text(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.exposed)
