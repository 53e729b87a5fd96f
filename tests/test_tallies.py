"""Metric values kept in process memory and published to the worker's own file: a scrape
that reads the files (another worker's /metrics) sees exactly what was counted."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from statsvc.service.metrics import LATENCY_BUCKETS, Metrics
from tests.helpers import examples, metric, metric_samples

observations = st.lists(
    st.tuples(
        st.sampled_from(["/api/v1/hit", "/api/v1/ping", "/admin"]),
        st.sampled_from([200, 400, 503]),
        st.floats(min_value=0, max_value=5, allow_nan=False),
    ),
    max_size=60,
)


def scraped(directory: Path) -> str:
    """Return /metrics as a worker other than the writer shows it: from the files alone."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry).decode()


@settings(max_examples=examples(25), deadline=None)
@given(observations, st.lists(st.sampled_from(["counted", "duplicate", "bot"]), max_size=30))
def test_the_files_hold_exactly_what_was_observed(
    requests: list[tuple[str, int, float]], hits: list[str]
) -> None:
    """Every hit and request observed shows in the files at once: counts per result, per
    bucket (cumulative) and the sum, as a simple model adds them up."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        metrics = Metrics(directory)
        for route, status, seconds in requests:
            metrics.request(route, "POST", status, seconds)
        for result in hits:
            metrics.hit(None if result == "counted" else result)
        text = metric_samples(scraped(directory))
    for result in ("counted", "duplicate", "bot"):
        assert metric(text, "statsvc_hits_total", result=result) == hits.count(result)
    for route, status, _ in set(requests):
        labels = {"route": route, "method": "POST", "status": str(status)}
        seen = [s for r, c, s in requests if (r, c) == (route, status)]
        name = "statsvc_request_duration_seconds"
        for bound in (*LATENCY_BUCKETS, float("inf")):
            le = "+Inf" if bound == float("inf") else str(float(bound))
            expected = sum(1 for s in seen if s <= bound)
            assert metric(text, f"{name}_bucket", le=le, **labels) == expected
        assert metric(text, f"{name}_count", **labels) == len(seen)
        assert abs(metric(text, f"{name}_sum", **labels) - sum(seen)) < 1e-9


def test_a_file_grows_past_its_first_size(tmp_path: Path) -> None:
    """Hundreds of label sets (a file past its first 64 KiB) are all read back."""
    metrics = Metrics(tmp_path)
    for n in range(400):
        metrics.request(f"/route/{n}", "GET", 200, 0.001)
    text = metric_samples(scraped(tmp_path))
    name = "statsvc_request_duration_seconds_count"
    assert all(
        metric(text, name, route=f"/route/{n}", method="GET", status="200") == 1 for n in range(400)
    )
    assert (
        tmp_path / next(p.name for p in tmp_path.glob("histogram_*.db"))
    ).stat().st_size > 1 << 16


def test_one_process_shows_its_own_numbers() -> None:
    """Without a metrics directory, /metrics shows this process's numbers, buffer gauge too."""
    metrics = Metrics()
    metrics.hit(None)
    metrics.buffer_depth.set(3)
    metrics.buffer_depth.set(2)
    metrics.store_operations["hit"].observe(0.002)
    text = metrics.text().decode()
    assert metric(text, "statsvc_hits_total", result="counted") == 1
    assert metric(text, "statsvc_buffer_depth") == 2
    assert metric(text, "statsvc_store_duration_seconds_bucket", operation="hit", le="0.0025") == 1
    assert metric(text, "statsvc_store_duration_seconds_bucket", operation="hit", le="0.001") == 0
