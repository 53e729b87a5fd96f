"""Before and after: the hit path of two (or more) source trees, interleaved on one Redis.

Usage: python bench/compare.py [--rounds 6] [--duration 6] [--sites 1] [--path /api/v1/hit]
                               TREE TREE...

Each tree's statsvc (2 workers, its own data directory) is started with PYTHONPATH=TREE
on one Redis; `wrk -t1 -c64 -s bench/hit.lua` loads each in turn, the order reversed every
other round, so the machine's drift falls on both (`--sites N`: hits spread over N sites;
`--path /api/v1/ping`: heartbeats instead of hits). Prints each run and, per tree, the
median worker CPU per hit (/proc), req/s and Redis CPU per hit. A tree is a checkout or a
`git archive` of a commit, e.g. `git archive main | tar -x -C /tmp/before`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.run import Bench, create_sites  # noqa: E402  (after the path is set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--sites", type=int, default=1, help="hits spread over this many sites")
    parser.add_argument("--path", default="/api/v1/hit", help="the route loaded")
    parser.add_argument("trees", nargs="+", type=Path)
    args = parser.parse_args()
    bench = Bench(args)
    labels = [str(tree.resolve()) for tree in args.trees]
    with bench.redis():
        asyncio.run(create_sites(bench.redis_url, args.sites))
        for label in labels:
            data = tempfile.mkdtemp(prefix="statsvc-compare-")
            env = ["env", f"STATSVC_DATA_DIR={data}", sys.executable]
            serve = ["-m", "statsvc", "serve", "--workers", "2", "--port", "PORT"]
            command = [*env, *serve, "--redis-url", bench.redis_url]
            # run in the tree: `python -m` puts the current directory first on the path
            # (before PYTHONPATH), so a server started here ran this checkout's code, whatever
            # the tree (compare.py's figures before 2026-11-30 12:20 UTC compared one tree)
            bench.start(label, command, "/readyz", tree=Path(label))
        try:
            for round_ in range(args.rounds):
                for label in labels if round_ % 2 == 0 else labels[::-1]:
                    load = {"BENCH_SITES": str(args.sites), "BENCH_PATH": args.path}
                    bench.wrk(label, label, args.path, connections=64, env=load)
        finally:
            bench.stop()
    for label in labels:
        runs = [r for r in bench.results if r.name == label]
        each = ", ".join(f"{r.server_us:.0f}" for r in runs)
        print(
            f"{label}: worker {statistics.median(r.server_us for r in runs):.0f} µs a hit "
            f"(runs {each}), {statistics.median(r.rps for r in runs):,.0f} req/s, "
            f"Redis {statistics.median(r.redis_us for r in runs):.0f} µs a hit"
        )


if __name__ == "__main__":
    main()
