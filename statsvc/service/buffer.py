"""Hits accepted while the store could not count them: kept in order and bounded (each also
written to the journal, service.journal, before its reply)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from statsvc.core.requester import Client

if TYPE_CHECKING:
    from statsvc.service.journal import JournalFile

DEFAULT_LIMIT = 100_000


@dataclass(slots=True)
class Pending:
    """One hit waiting for the store: everything needed to count it later, as it would have
    been counted when it came (its page, its instant, its page-view id)."""

    site: str
    path: str  # the normalised page
    at: float  # Unix time the hit came
    view_id: str  # the client's page-view id, or one made for it: a replay never counts twice
    visitor: str = ""  # the visitor id, when the day's salt was at hand
    source: str = ""  # the referrer's canonical host if external (a new visit counts it)
    client: Client | None = None  # else the client, in memory only, to make the visitor id later
    journal: JournalFile | None = None  # the journal file that holds it, and its number there
    number: int = -1

    def to_json(self) -> dict[str, object]:
        """Return the hit as written to disk: never the client's address."""
        entry: dict[str, object] = {
            "site": self.site,
            "path": self.path,
            "at": self.at,
            "id": self.view_id,
            "visitor": self.visitor,
        }
        if self.source:
            entry["source"] = self.source
        return entry


class Buffer:
    """A bounded queue of pending hits, oldest first; what comes past the bound is dropped
    and counted."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.dropped = 0
        self._hits: deque[Pending] = deque()

    def __len__(self) -> int:
        return len(self._hits)

    def has_room(self) -> bool:
        """Tell whether a hit added now would be kept."""
        return len(self._hits) < self.limit

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
