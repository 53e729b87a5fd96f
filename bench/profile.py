"""Where a hit's worker CPU goes: py-spy over statsvc's workers under wrk, in µs per hit.

Usage: python bench/profile.py [--duration 20] [--rate 100] [--raw out.txt] [--sites 1]

One Redis and statsvc (2 workers) as bench/run.py starts them, loaded by
`wrk -t1 -c64 -s bench/hit.lua` for the profile's duration plus 6 s; from the 3rd second
`py-spy record --native --subprocesses -f raw` samples the workers. The worker CPU per hit
comes from /proc (the server's process tree, over the whole wrk run); each sample goes to the
item of the deepest frame matching one of ITEMS' patterns (samples blocked in epoll_wait are
idle, left out), and an item's µs per hit is its share of the samples times that CPU.
Needs py-spy (`pip install py-spy`) and the right to trace the workers (ptrace).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.run import hit_load, statsvc_serving, tree_cpu_us  # noqa: E402  (after the path)

# (item, patterns of a frame "function (file:line)"): the first of the deepest matching frame
ITEMS = (
    ("system calls: write(), read() (wall-clock samples)", ("write (libc", "read (libc")),
    ("visitor id", ("visitor_id (statsvc/core/visitor.py",)),
    ("address id", ("address_id (statsvc/core/visitor.py",)),
    ("metrics", ("prometheus_client", "statsvc/service/metrics.py", "statsvc/service/tallies")),
    ("content-type parse", ("content_type (aiohttp", "_parse_content_type")),
    ("asyncio.timeout", ("asyncio/timeouts.py",)),
    ("ApiError made", ("ApiError.__init__",)),
    ("read_body, page_view_body (rest)", ("read_body (statsvc", "page_view_body (statsvc")),
    ("body parse, path", ("parse_body (statsvc", "normalise_path", "StatsService._page")),
    ("bot check", ("is_bot (statsvc",)),
    ("client_of, read_client", ("client_of (statsvc", "client_address", "read_client (statsvc")),
    (
        "reply (dict, JSON, bytes)",
        (
            "HitResult.body",
            "reply (statsvc/core/results",
            "json_reply",
            "orjson",
            "statsvc/http/replies.py",
        ),
    ),
    ("Redis client side (batcher, packing, replies)", ("statsvc/store/", "redis/")),
    ("service: hit, _run, site, calendar, refusal", ("StatsService.", "_refusal", "ProxyWatch")),
    ("edge middleware, json_errors", ("statsvc/http/middleware.py", "json_errors (statsvc")),
    ("handler (api.hit)", ("hit (statsvc/http/api.py",)),
    ("hit lane: its own parse, serving, answering", ("statsvc/http/lane.py",)),
    ("aiohttp (request parsing, handling, writing)", ("aiohttp/",)),
    ("event loop (uvloop, asyncio) and its system calls", ("loop.c", "uv_", "asyncio/")),
)
IDLE = ("epoll_pwait", "epoll_wait")


def attribute(raw: str) -> tuple[Counter[str], int]:
    """Return the workers' samples per item of py-spy's raw (collapsed) output, and the total."""
    items: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "spawn_main" not in stack or frames[-1].startswith(IDLE):
            continue  # the parent process, or a worker waiting for events
        total += int(count)
        item = next(
            (
                name
                for frame in reversed(frames)
                for name, patterns in ITEMS
                if any(p in frame for p in patterns)
            ),
            "other (interpreter, kernel)",
        )
        items[item] += int(count)
    return items, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of sampling")
    parser.add_argument("--rate", type=int, default=100, help="samples a second")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw output here")
    parser.add_argument("--sites", type=int, default=1, help="hits spread over this many sites")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = args.raw or Path(tempfile.mkdtemp()) / "profile.txt"
    with statsvc_serving(args.sites) as (bench, server):
        cpu_before = tree_cpu_us(server)
        wrk = hit_load(bench, args.duration + 6, args.sites)
        time.sleep(3)  # past the start: sites and salts cached, connections open
        record = ["record", "--native", "--subprocesses", "-r", str(args.rate)]
        target = ["-d", str(args.duration), "-f", "raw", "-o", str(raw), "-p", str(server)]
        subprocess.run([py_spy, *record, *target], check=True, capture_output=True)
        output, _ = wrk.communicate()
        requests = int(output.split(" requests in")[0].split()[-1])
        cpu_per_hit = (tree_cpu_us(server) - cpu_before) / requests
    items, total = attribute(raw.read_text())
    print(f"worker CPU {cpu_per_hit:.0f} µs a hit (/proc); {total} busy samples\n")
    print("| item | share | µs a hit |\n| --- | ---: | ---: |")
    for name, count in items.most_common():
        print(f"| {name} | {100 * count / total:.1f} % | {cpu_per_hit * count / total:.1f} |")


if __name__ == "__main__":
    main()
