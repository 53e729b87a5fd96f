"""The read of a group of 1,000 sites: `GET /api/v1/counts?group=G` under 64 concurrent
readers, on one Redis and on a 3-primary Redis Cluster (the sites spread over its shards).

Usage: python bench/groups.py [--rounds 2] [--duration 10] [--workers 2] [--connections 64]

1,000 sites in three time zones get a few views each, a group holds them all (in ten
subgroups of 100), and wrk reads the group's counts; rounds interleave the two stores.
Reported: throughput and latency percentiles; each process keeps a group's figures at most
2 s (README "Groups"), so most reads are answered from memory and one read in 2 s per
process reads the 1,000 sites (one script run per store node).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.cluster import redis_server, start_statsvc, wait_ready_redis  # noqa: E402
from bench.run import free_port, latencies_ms, machine  # noqa: E402
from statsvc.core.keys import Keys  # noqa: E402
from statsvc.core.pageview import PageView  # noqa: E402
from statsvc.core.requester import Client  # noqa: E402
from statsvc.core.site import Site  # noqa: E402
from statsvc.service import groups  # noqa: E402
from statsvc.service.auth import Principal  # noqa: E402
from statsvc.service.counting import StatsService  # noqa: E402
from statsvc.store import Limits, Store  # noqa: E402
from tests.cluster import running_cluster  # noqa: E402

SITES = 1000
SUBGROUPS = 10
ZONES = ("Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York")
GROUP = "province"
BENCH = Principal("bench", None)
COUNTS = f"/api/v1/counts?group={GROUP}"
# the same server's /healthz (no store, no group): what the machine itself gives at that load
FLOOR = "/healthz (floor)"


async def make_group(redis_url: str) -> None:
    """Make SITES sites with a few views each, SUBGROUPS districts of them, and GROUP."""
    store = Store.from_url(redis_url, Keys("sv"), Limits(rate_limit=0, rate_limit_address=0))
    stats = StatsService(store, time.time)
    ids = [f"xa{n}" for n in range(SITES)]
    for n, site_id in enumerate(ids):
        await store.put_site(Site(id=site_id, timezone=ZONES[n % len(ZONES)]))
    readers = [
        Client(
            ip=f"198.51.100.{n}",
            user_agent="Mozilla/5.0 Firefox/128.0",
            origin=None,
            no_tracking=False,
        )
        for n in range(3)
    ]
    views = [(site_id, readers[n % 3]) for n, site_id in enumerate(ids) for _ in range(1 + n % 3)]
    for start in range(0, len(views), 100):  # a hundred at a time: the store's pool is bounded
        chunk = views[start : start + 100]
        await asyncio.gather(*(stats.hit(PageView(s, "/", None, None), c) for s, c in chunk))
    size = SITES // SUBGROUPS
    for d in range(SUBGROUPS):
        members = {"name": f"District {d}", "sites": ids[d * size : (d + 1) * size]}
        await groups.save_group(stats, f"district{d}", members, BENCH)
    districts = [f"district{d}" for d in range(SUBGROUPS)]
    await groups.save_group(stats, GROUP, {"name": "Province", "groups": districts}, BENCH)
    await store.close()


def wrk(port: int, args: argparse.Namespace, path: str) -> tuple[float, float, float, float]:
    """GET `path` for the run's duration; return req/s, p50, p90, p99 (ms)."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or re.search(r"Socket errors", output):
        raise RuntimeError(f"errors during the run:\n{output}")
    percentile = latencies_ms(output)
    p50, p90, p99 = (percentile[p] for p in ("50", "90", "99"))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return rps, p50, p90, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk)")
    if shutil.which("redis-server"):
        os.environ.setdefault("STATSVC_TEST_SERVER_BIN", "redis-server")
    results: dict[str, list[tuple[float, float, float, float]]] = {
        "one Redis": [],
        "cluster": [],
        FLOOR: [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        single_port = free_port()
        single = redis_server(single_port, Path(scratch))
        single_url = f"redis://127.0.0.1:{single_port}/0"
        wait_ready_redis(single_url)
        with running_cluster(Path(scratch) / "cluster") as cluster:
            asyncio.run(make_group(single_url))
            asyncio.run(make_group(cluster.url))
            one, one_port = start_statsvc(single_url, args.workers)
            many, many_port = start_statsvc(cluster.url, args.workers)
            try:
                print(f"bench: {args.rounds} rounds of {args.duration} s, a group of {SITES}")
                for _ in range(args.rounds):
                    for label, port, path in (
                        ("one Redis", one_port, COUNTS),
                        ("cluster", many_port, COUNTS),
                        (FLOOR, one_port, "/healthz"),
                    ):
                        run = wrk(port, args, path)
                        results[label].append(run)
                        print(
                            f"  {label:10} {run[0]:8.0f} req/s  p50 {run[1]:.2f} ms  "
                            f"p90 {run[2]:.2f} ms  p99 {run[3]:.2f} ms",
                            flush=True,
                        )
            finally:
                for process in (one, many):
                    process.terminate()
                    process.wait(timeout=30)
                single.terminate()
                single.wait()
    print("\n" + report(results, args))


def report(
    results: dict[str, list[tuple[float, float, float, float]]], args: argparse.Namespace
) -> str:
    """Return the medians of the rounds as a markdown table."""
    lines = [
        f"Measured on {machine()}.",
        f"Command: `python bench/groups.py --rounds {args.rounds} --duration {args.duration} "
        f"--workers {args.workers} --connections {args.connections}`; `GET "
        f"/api/v1/counts?group=` of a group of {SITES} sites (10 subgroups, 3 time zones); "
        "the floor is `GET /healthz` of the same server, which reads nothing.",
        "",
        "| store | req/s | p50 ms | p90 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, runs in results.items():
        rps, p50, p90, p99 = (statistics.median(run[n] for run in runs) for n in range(4))
        lines.append(f"| {label} | {rps:,.0f} | {p50:.2f} | {p90:.2f} | {p99:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
