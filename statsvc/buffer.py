"""Hits accepted while the store could not count them: kept in order, bounded, written to the
data directory at shutdown and read back at the next start."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from statsvc.client import Client

DEFAULT_LIMIT = 100_000
FILE_PREFIX = "hits-"  # hits-<pid>-<random>.jsonl, written at shutdown
CLAIMED_PREFIX = "replaying-"  # replaying-<pid>-<random>.jsonl, read back by a live process


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
        """Remove these hits (counted or given up); the others keep their order."""
        gone = {id(hit) for hit in hits}
        self._hits = deque(hit for hit in self._hits if id(hit) not in gone)

    def dump(self, directory: Path) -> Path | None:
        """Write every pending hit to a new file in `directory`; return it (None if empty)."""
        if not self._hits:
            return None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"{FILE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for hit in self._hits:
                out.write(json.dumps(hit.to_json(), ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)  # a file under its final name is whole
        return path

    def load(self, path: Path) -> int:
        """Add the hits of a file written by dump(); return how many were read."""
        count = 0
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                data = json.loads(line)
                self.add(
                    Pending(
                        site=str(data["site"]),
                        path=str(data["path"]),
                        at=float(data["at"]),
                        view_id=str(data["id"]),
                        visitor=str(data.get("visitor", "")),
                        previous=str(data.get("previous", "")),
                    )
                )
                count += 1
        return count


def claim_files(directory: Path) -> list[Path]:
    """Take the buffer files no live process owns, oldest first, renaming each to this
    process (a rename succeeds for one process only: two workers never read one file)."""
    if not directory.is_dir():
        return []
    claimed = []
    for path in sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
        if path.name.startswith(CLAIMED_PREFIX) and _owner_alive(path):
            continue
        target = directory / f"{CLAIMED_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        with contextlib.suppress(FileNotFoundError):  # another process took it first
            path.rename(target)
            claimed.append(target)
    return claimed


def _owner_alive(path: Path) -> bool:
    pid = path.name.removeprefix(CLAIMED_PREFIX).split("-", 1)[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
