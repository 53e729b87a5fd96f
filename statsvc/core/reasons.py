"""Why a page view was not counted: the one list the counting script, the service, the
JSON replies, the reports and the metrics all use."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A reason a view was not counted (DESIGN §3), its value the word on the wire."""

    BOT = "bot"
    PREFETCH = "prefetch"
    RATE_LIMITED = "rate_limited"  # decided in the counting script: over the visitor's limit
    ORIGIN = "origin"
    DNT = "dnt"
    EXCLUDED = "excluded"  # the client's address is in the site's exclude_ips
    DUPLICATE = "duplicate"  # decided in the counting script: its page-view id was counted


# in report order (the rejected-traffic tables, the import format, the metrics' labels)
REASONS: tuple[str, ...] = tuple(reason.value for reason in Reason)
