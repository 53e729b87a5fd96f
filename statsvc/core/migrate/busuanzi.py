"""busuanzi (the self-hosted Go service, soxft/busuanzi), its Redis keys and figures.

core/count.go: `PREFIX:site_pv:H` a string (INCR per view), `PREFIX:site_uv:H` the site's
visitors (a set of visitor hashes before 2.8, a HyperLogLog since), H the MD5 of the host as
32 hex digits (forks and the Rust port offer the 16 middle digits, "MD5-16"). Pages: since
2.x a sorted set `PREFIX:page_pv:H` of MD5(host + "&" + path) -> views; before, one string
`PREFIX:page_pv:MD5(host + path)` per page. Only hashes are kept, so pages come back only for
URLs the operator lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from statsvc.core.migrate.ledger import Snapshot

PREFIX = "bsz"


def site_hashes(host: str) -> tuple[str, str]:
    """Return the names busuanzi gives a host: its MD5 in 32 hex digits, then MD5-16."""
    digest = hashlib.md5(host.encode(), usedforsecurity=False).hexdigest()
    return digest, digest[8:24]


def page_hashes(host: str, path: str) -> tuple[str, ...]:
    """Return the names a page may have: MD5 of host&path (2.x), of host+path (before),
    each in 32 and 16 hex digits."""
    names = []
    for text in (f"{host}&{path}", f"{host}{path}"):
        digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
        names += [digest, digest[8:24]]
    return tuple(names)


def from_figures(site_pv: int, site_uv: int, pages: Iterable[tuple[str, int]]) -> Snapshot:
    """Return site PV as total views, site UV as total visits (never above the views), and
    the views of the listed pages."""
    found: dict[str, int] = {}
    for path, views in pages:
        found[path] = found.get(path, 0) + views
    return Snapshot(total=(site_pv, min(site_uv, site_pv)), pages=found)
