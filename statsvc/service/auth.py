"""Who an admin request acts as, and read-only tokens: the admin token (from the settings)
or a site's tokens, stored as SHA-256 and compared in constant time; every change of tokens
goes into the site's audit trail."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from statsvc.core.errors import Conflict
from statsvc.service.audit import audit_entry, iso
from statsvc.service.counting import StatsService

ADMIN = "admin"
# a read-only token: svt_<site>.<token id>.<secret>; the site and id find its record
TOKEN = re.compile(r"svt_([a-z0-9][a-z0-9_-]{0,62})\.([0-9a-f]{16})\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Principal:
    """Who an admin request acts as: the admin (site None) or a site's read-only token."""

    token_id: str
    site: str | None


async def authenticate(
    stats: StatsService, admin_token: str | None, presented: str
) -> Principal | None:
    """Return who the bearer token `presented` is, or None for no valid token."""
    # header bytes that are not UTF-8 arrive as surrogate escapes: compare the bytes sent
    given = presented.encode("utf-8", "surrogateescape")
    if admin_token and hmac.compare_digest(given, admin_token.encode()):
        return Principal(ADMIN, None)
    match = TOKEN.fullmatch(presented)
    if match is None:
        return None
    site_id, token_id = match.groups()
    record = await stats.store.token(site_id, token_id)
    if record is None or not hmac.compare_digest(_token_hash(presented), str(record["hash"])):
        return None
    return Principal(token_id, site_id)


def allows(principal: Principal, site_id: str | None, *, write: bool) -> bool:
    """Tell whether `principal` may read (or write) a site, or with site_id None, all sites."""
    if principal.site is None:
        return True
    return not write and site_id == principal.site


async def create_token(stats: StatsService, site_id: str, by: Principal) -> dict[str, str]:
    """Make a read-only token of a site; return it (it is never shown again: only its hash
    is kept)."""
    await stats.site(site_id)
    token_id = secrets.token_hex(8)
    token = f"svt_{site_id}.{token_id}.{secrets.token_urlsafe(32)}"
    at = iso(stats.now())
    record = {"hash": _token_hash(token), "created_at": at, "created_by": by.token_id}
    entry = audit_entry(at, by, "token_create", {"token_id": token_id})
    if not await stats.store.add_token(site_id, token_id, record, entry):
        raise Conflict("too_many_tokens", "the site has as many tokens as it may have")
    return {"token_id": token_id, "token": token}


async def revoke_token(stats: StatsService, site_id: str, token_id: str, by: Principal) -> bool:
    """Revoke a site's token at once; False if it has no such token."""
    await stats.site(site_id)
    if not re.fullmatch(r"[0-9a-f]{16}", token_id):
        return False
    entry = audit_entry(iso(stats.now()), by, "token_revoke", {"token_id": token_id})
    return await stats.store.remove_token(site_id, token_id, entry)


async def list_tokens(stats: StatsService, site_id: str) -> list[dict[str, str]]:
    """Return a site's tokens: ids and when and by whom made, never a secret or a hash."""
    await stats.site(site_id)
    records = await stats.store.tokens(site_id)
    listed = [
        {"token_id": token_id, "created_at": r["created_at"], "created_by": r["created_by"]}
        for token_id, r in records.items()
    ]
    return sorted(listed, key=lambda t: (t["created_at"], t["token_id"]))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
