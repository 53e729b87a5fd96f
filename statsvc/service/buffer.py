"""Hits accepted while the store could not count them: kept in order, bounded, written to the
data directory at shutdown and read back at the next start."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from statsvc.core.requester import Client

DEFAULT_LIMIT = 100_000
FILE_PREFIX = "hits-"  # hits-<time>-<pid>-<random>.jsonl, written at shutdown


@dataclass(slots=True)
class Pending:
    """One hit waiting for the store: everything needed to count it later, as it would have
    been counted when it came (its page, its instant, its page-view id)."""

    site: str
    path: str  # the normalised page
    at: float  # Unix time the hit came
    view_id: str  # the client's page-view id, or one made for it: a replay never counts twice
    visitor: str = ""  # the visitor id, when the day's salt was at hand
    previous: str = ""  # the visitor's id under yesterday's salt, just after local midnight
    client: Client | None = None  # else the client, in memory only, to make the visitor id later

    def to_json(self) -> dict[str, object]:
        """Return the hit as written to disk: never the client's address."""
        return {
            "site": self.site,
            "path": self.path,
            "at": self.at,
            "id": self.view_id,
            "visitor": self.visitor,
            "previous": self.previous,
        }


class Buffer:
    """A bounded queue of pending hits, oldest first; what comes past the bound is dropped
    and counted."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.dropped = 0
        self._hits: deque[Pending] = deque()

    def __len__(self) -> int:
        return len(self._hits)

    def add(self, hit: Pending) -> bool:
        """Keep a hit; return False (and count it dropped) when the buffer is full."""
        if len(self._hits) >= self.limit:
            self.dropped += 1
            return False
        self._hits.append(hit)
        return True

    def head(self, n: int) -> list[Pending]:
        """Return up to n of the oldest hits, leaving them in the buffer."""
        return [self._hits[i] for i in range(min(n, len(self._hits)))]

    def remove(self, hits: list[Pending]) -> None:
        """Remove these hits (counted or given up); the others keep their order. The oldest
        go first, so those at the head are popped; any others cost one pass."""
        gone = {id(hit) for hit in hits}
        while self._hits and id(self._hits[0]) in gone:
            gone.discard(id(self._hits.popleft()))
        if gone:
            self._hits = deque(hit for hit in self._hits if id(hit) not in gone)

    def dump(self, directory: Path) -> Path | None:
        """Write every pending hit to a new file in `directory`; return it (None if empty)."""
        if not self._hits:
            return None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}"
        path = directory / f"{FILE_PREFIX}{stamp}.jsonl"
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for hit in self._hits:
                out.write(json.dumps(hit.to_json(), ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)  # a file under its final name is whole
        return path

    def load(self, path: Path) -> int:
        """Add the hits of a file written by dump(); return how many were kept."""
        count = 0
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                data = json.loads(line)
                count += self.add(
                    Pending(
                        site=str(data["site"]),
                        path=str(data["path"]),
                        at=float(data["at"]),
                        view_id=str(data["id"]),
                        visitor=str(data.get("visitor", "")),
                        previous=str(data.get("previous", "")),
                    )
                )
        return count


@dataclass
class Claim:
    """A file of kept hits this process has taken: locked (flock) while the process lives, so
    no other process reads it; a crash lets the lock go, and the next start takes it."""

    path: Path
    descriptor: int

    def release(self) -> None:
        """Delete the file (its hits are counted, or written again), then let the lock go."""
        self.path.unlink(missing_ok=True)
        os.close(self.descriptor)


def claim_files(directory: Path, buffer: Buffer) -> list[Claim]:
    """Take the files of kept hits that no live process holds, oldest first, while `buffer`
    has room for all of a file's hits, and load them into it (the rest wait for another
    process, or the next start: none is dropped)."""
    if not directory.is_dir():
        return []
    claims = []
    for path in sorted(directory.glob(f"{FILE_PREFIX}*.jsonl")):  # names sort by time made
        claim = _lock(path)
        if claim is None:
            continue
        hits = path.read_text(encoding="utf-8").count("\n")
        if len(buffer) + hits > buffer.limit:
            os.close(claim.descriptor)
            break
        buffer.load(path)
        claims.append(claim)
    return claims


def _lock(path: Path) -> Claim | None:
    """Lock a file for this process, or return None if another process holds it or it is
    gone (a process deletes a file before it lets its lock go)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(descriptor).st_ino != path.stat().st_ino:
            raise FileNotFoundError(path)  # deleted (and maybe made again) meanwhile
    except OSError:  # held by a live process, or gone
        os.close(descriptor)
        return None
    return Claim(path, descriptor)
