"""Where a hit's worker CPU goes by binary: `perf record -e cpu-clock` over statsvc's workers
under wrk, split by shared object (the interpreter, the kernel, uvloop, RE2, ...).

Usage: python bench/cpu_split.py [--duration 10] [--top 12]

One Redis and statsvc (2 workers) as bench/run.py starts them, loaded by
`wrk -t1 -c64 -s bench/hit.lua` for the duration plus 6 s; from the 3rd second perf samples
the workers' CPU (cpu-clock: only while on a core, unlike py-spy's wall-clock samples,
which count a worker preempted inside write() as time spent in it). Python 3.11 frames
have no symbols for perf: the interpreter shows as libpython, split by its own functions.
Needs perf (Debian's linux-perf) and the right to trace the workers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from a checkout

from bench.run import hit_load, statsvc_serving  # noqa: E402  (after the path is set)


def report(data: Path, sort: str, top: int) -> str:
    """Return perf's report of the samples, by `sort` (dso or sym), its first lines."""
    output = subprocess.run(
        [
            "perf",
            "report",
            "-i",
            str(data),
            "--no-children",
            "--sort",
            sort,
            "--stdio",
            "-g",
            "none",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("#")]
    return "\n".join(lines[:top])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of sampling")
    parser.add_argument("--top", type=int, default=12, help="lines of each table")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp()) / "perf.data"
    with statsvc_serving() as (bench, server):
        children = subprocess.run(
            ["pgrep", "-P", str(server)], capture_output=True, text=True, check=False
        ).stdout.split()
        workers = [
            pid for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        wrk = hit_load(bench, args.duration + 6)
        time.sleep(3)  # past the start (connections, caches)
        record = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-o", str(data)]
        pids = ["-p", ",".join(workers)]
        subprocess.run([*record, *pids, "--", "sleep", str(args.duration)], check=True)
        wrk.communicate()
    print("By shared object (share of the workers' CPU samples):")
    print(report(data, "dso", args.top))
    print("\nBy function:")
    print(report(data, "sym", args.top))


if __name__ == "__main__":
    main()
