"""Readers of old counters' own storage (DESIGN §9): MariaDB/MySQL through PyMySQL, busuanzi's
Redis through redis-py. Reading a foreign database is I/O, so it lives here, above the pure
conversions of statsvc.core.migrate and beside the entry points that call it; it never
touches statsvc's own store. Every failure is a SourceError: one line naming what is missing.
"""

from __future__ import annotations

from pathlib import Path

from statsvc.sources.errors import SourceError, public_url
from statsvc.sources.reading import Reading, with_initial

__all__ = ["Reading", "SourceError", "public_url", "read"]


def read(
    kind: str,
    url: str,
    *,
    prefix: str | None = None,
    initial: int | None = None,
    host: str | None = None,
    urls: Path | None = None,
) -> Reading:
    """Read an old counter of `kind` at `url`; raise SourceError."""
    if kind == "busuanzi":
        from statsvc.sources import busuanzi

        return with_initial(busuanzi.read(url, prefix=prefix, host=host, urls=urls), initial)
    from statsvc.sources import kinds, sql

    return sql.read(kind, url, kinds.READERS[kind], prefix=prefix, initial=initial)
