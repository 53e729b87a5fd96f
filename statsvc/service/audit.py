"""Entries of a site's audit trail: who changed what, and when (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # auth makes entries too: the type alone, no import cycle
    from statsvc.service.auth import Principal


def iso(now: float) -> str:
    """Return an instant as ISO 8601 in UTC, to the second (`2026-11-26T03:04:05Z`)."""
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def audit_entry(at: str, by: Principal, action: str, detail: dict[str, Any]) -> dict[str, Any]:
    """Return an audit entry: when, by which token, what (`import`, `settings`,
    `token_create`, `token_revoke`) and its details."""
    return {"at": at, "by": by.token_id, "action": action, "detail": detail}
