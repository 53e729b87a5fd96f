"""A real 3-primary Redis Cluster on loopback, from the server binary at hand."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.helpers import wait_until
from tests.servers import answers, server_binary

SLOTS = 16384
BUS_OFFSET = 10_000  # a node's cluster bus listens this far above its port
FORM_TIMEOUT = 30.0  # seconds for the nodes to start and agree on the slot map
NOT_FORMED = "the cluster did not form in time"


def cluster_port() -> int:
    """Return a port that is free, with its cluster bus port (10,000 higher) free too."""
    while True:
        port = random.randrange(20_000, 55_000)
        try:
            for candidate in (port, port + BUS_OFFSET):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


class Cluster:
    """Three primaries, each owning a third of the slots; stopped by close()."""

    def __init__(self, directory: Path, primaries: int = 3) -> None:
        self.directory = directory
        self.ports = [cluster_port() for _ in range(primaries)]
        self._processes: list[subprocess.Popen[bytes]] = []
        binary = server_binary()
        for port in self.ports:
            node_dir = directory / str(port)
            node_dir.mkdir(parents=True)
            self._processes.append(
                subprocess.Popen(
                    [
                        *(binary, "--port", str(port), "--bind", "127.0.0.1"),
                        *("--dir", str(node_dir), "--logfile", str(node_dir / "server.log")),
                        *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
                        *("--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no"),
                        # as in production: one primary down stops only its own slots
                        *("--cluster-require-full-coverage", "no"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    @property
    def pids(self) -> list[int]:
        """The nodes' process ids."""
        return [process.pid for process in self._processes]

    @property
    def url(self) -> str:
        """The statsvc URL of this cluster."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def node(self, port: int) -> Redis:
        """Return a plain client of one node."""
        return Redis(host="127.0.0.1", port=port, socket_timeout=5, retry=Retry(NoBackoff(), 0))

    def form(self) -> None:
        """Give each node its share of the slots, introduce them, and wait until all agree."""
        deadline = time.monotonic() + FORM_TIMEOUT
        share = SLOTS // len(self.ports)
        for n, port in enumerate(self.ports):
            wait_until(partial(self._answers, n), deadline - time.monotonic(), NOT_FORMED)
            with self.node(port) as node:
                last = SLOTS - 1 if n == len(self.ports) - 1 else (n + 1) * share - 1
                node.execute_command("CLUSTER", "ADDSLOTSRANGE", n * share, last)
        with self.node(self.ports[0]) as first:
            for port in self.ports[1:]:
                first.execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        for port in self.ports:
            with self.node(port) as node:
                wait_until(partial(self._agreed, node), deadline - time.monotonic(), NOT_FORMED)

    def _answers(self, n: int) -> bool:
        if self._processes[n].poll() is not None:
            log = (self.directory / str(self.ports[n]) / "server.log").read_text()
            raise RuntimeError(f"a cluster node exited:\n{log[-2000:]}")
        return answers(self.ports[n])

    def _agreed(self, node: Redis) -> bool:
        info = node.execute_command("CLUSTER", "INFO").decode()  # type: ignore[no-untyped-call]
        fields = dict(line.split(":", 1) for line in info.split() if ":" in line)
        return fields.get("cluster_state") == "ok" and fields.get("cluster_known_nodes") == str(
            len(self.ports)
        )

    def kill(self, n: int) -> None:
        """Kill node n at once, as a crash would."""
        self._processes[n].kill()
        self._processes[n].wait()

    def close(self) -> None:
        """Stop every node."""
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def running_cluster(directory: Path) -> Iterator[Cluster]:
    """Start and form a cluster in `directory`; stop it on leaving."""
    cluster = Cluster(directory)
    try:
        cluster.form()
        yield cluster
    finally:
        cluster.close()
