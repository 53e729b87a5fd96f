"""The bounds of what the store keeps."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CONNECTIONS = 32  # per process and server: counting takes one, look-ups the rest


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of what the store keeps, and of what one visitor may count."""

    retention_days: int = 400
    page_cap: int = 50_000
    rate_limit: int = 30  # counted views per visitor, site and minute (0: no limit)
