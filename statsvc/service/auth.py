"""Who an admin request acts as, and read-only tokens: the admin token (from the settings),
a site's tokens or a group's, stored as SHA-256 and compared in constant time; every change
of tokens goes into the site's (the group's) audit trail. A group token reads its group, the
groups nested in it and their member sites as they are at each request (a site added later
is readable), and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from statsvc.core.errors import Conflict, UnknownGroup
from statsvc.core.group import groups_from_records, resolve
from statsvc.service.audit import audit_entry, iso
from statsvc.service.counting import StatsService

ADMIN = "admin"
# a read-only token: svt_<site>.<token id>.<secret>; the site and id find its record
TOKEN = re.compile(r"svt_([a-z0-9][a-z0-9_-]{0,62})\.([0-9a-f]{16})\.[A-Za-z0-9_-]{43}")
# a group's read-only token: svg_<group>.<token id>.<secret>
GROUP_TOKEN = re.compile(r"svg_([a-z0-9][a-z0-9_-]{0,62})\.([0-9a-f]{16})\.[A-Za-z0-9_-]{43}")
TOKEN_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Principal:
    """Who an admin request acts as: the admin (site and group None), a site's read-only
    token, or a group's (with the sites and groups it reaches now)."""

    token_id: str
    site: str | None
    group: str | None = None
    sites: frozenset[str] = frozenset()  # a group token's member sites
    groups: frozenset[str] = frozenset()  # a group token's group and those nested in it

    @property
    def is_admin(self) -> bool:
        """Tell whether this is the admin (or the command line), who may do anything."""
        return self.site is None and self.group is None


async def authenticate(
    stats: StatsService, admin_token: str | None, presented: str
) -> Principal | None:
    """Return who the bearer token `presented` is, or None for no valid token."""
    # header bytes that are not UTF-8 arrive as surrogate escapes: compare the bytes sent
    given = presented.encode("utf-8", "surrogateescape")
    if admin_token and hmac.compare_digest(given, admin_token.encode()):
        return Principal(ADMIN, None)
    match = GROUP_TOKEN.fullmatch(presented)
    if match is not None:
        group_id, token_id = match.groups()
        held = await stats.store.group_token(group_id, token_id)
        if held is None or not hmac.compare_digest(_token_hash(presented), str(held["hash"])):
            return None
        return await group_principal(stats, token_id, group_id)
    match = TOKEN.fullmatch(presented)
    if match is None:
        return None
    site_id, token_id = match.groups()
    record = await stats.store.token(site_id, token_id)
    if record is None or not hmac.compare_digest(_token_hash(presented), str(record["hash"])):
        return None
    return Principal(token_id, site_id)


async def group_principal(stats: StatsService, token_id: str, group_id: str) -> Principal:
    """Return a group token's principal, with the sites and groups its group reaches now."""
    _, records = await stats.store.groups_state()
    sites, reached = resolve(groups_from_records(records), group_id)
    return Principal(token_id, None, group_id, frozenset(sites), frozenset(reached))


def allows(principal: Principal, site_id: str | None, *, write: bool) -> bool:
    """Tell whether `principal` may read (or write) a site, or with site_id None, all sites."""
    if principal.is_admin:
        return True
    if write:
        return False
    if principal.group is not None:
        return site_id in principal.sites
    return site_id == principal.site


def allows_group(principal: Principal, group_id: str | None, *, write: bool) -> bool:
    """Tell whether `principal` may read (or write) a group, or with group_id None, all."""
    if principal.is_admin:
        return True
    return not write and group_id in principal.groups


async def create_token(stats: StatsService, site_id: str, by: Principal) -> dict[str, str]:
    """Make a read-only token of a site; return it (it is never shown again: only its hash
    is kept)."""
    await stats.site(site_id)
    token_id, token, record, entry = _new_token(stats, f"svt_{site_id}", by)
    if not await stats.store.add_token(site_id, token_id, record, entry):
        raise Conflict("too_many_tokens", "the site has as many tokens as it may have")
    return {"token_id": token_id, "token": token}


async def revoke_token(stats: StatsService, site_id: str, token_id: str, by: Principal) -> bool:
    """Revoke a site's token at once; False if it has no such token."""
    await stats.site(site_id)
    if not TOKEN_ID.fullmatch(token_id):
        return False
    entry = audit_entry(iso(stats.now()), by, "token_revoke", {"token_id": token_id})
    return await stats.store.remove_token(site_id, token_id, entry)


async def list_tokens(stats: StatsService, site_id: str) -> list[dict[str, str]]:
    """Return a site's tokens: ids and when and by whom made, never a secret or a hash."""
    await stats.site(site_id)
    return _listed(await stats.store.tokens(site_id))


async def revoke_group_token(
    stats: StatsService, group_id: str, token_id: str, by: Principal
) -> bool:
    """Revoke a group's token at once (in the group's audit trail); False if it has no such
    token; raise UnknownGroup."""
    await _known_group(stats, group_id)
    if not TOKEN_ID.fullmatch(token_id):
        return False
    entry = audit_entry(iso(stats.now()), by, "token_revoke", {"token_id": token_id})
    return await stats.store.remove_group_token(group_id, token_id, entry)


async def list_group_tokens(stats: StatsService, group_id: str) -> list[dict[str, str]]:
    """Return a group's tokens: ids and when and by whom made, never a secret or a hash."""
    await _known_group(stats, group_id)
    return _listed(await stats.store.group_tokens(group_id))


async def _known_group(stats: StatsService, group_id: str) -> None:
    """Raise UnknownGroup unless the group exists."""
    _, records = await stats.store.groups_state()
    if group_id not in records:
        raise UnknownGroup(group_id)


def _listed(records: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Return token records as listed: oldest first, without hashes."""
    listed = [
        {"token_id": token_id, "created_at": r["created_at"], "created_by": r["created_by"]}
        for token_id, r in records.items()
    ]
    return sorted(listed, key=lambda t: (t["created_at"], t["token_id"]))


async def create_group_token(stats: StatsService, group_id: str, by: Principal) -> dict[str, str]:
    """Make a read-only token of a group; return it (shown once: only its hash is kept)."""
    await _known_group(stats, group_id)
    token_id, token, record, entry = _new_token(stats, f"svg_{group_id}", by)
    if not await stats.store.add_group_token(group_id, token_id, record, entry):
        raise Conflict("too_many_tokens", "the group has as many tokens as it may have")
    return {"token_id": token_id, "token": token}


def _new_token(
    stats: StatsService, owner: str, by: Principal
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """Return a new token of `owner` ("svt_<site>", "svg_<group>"): its id, the token, the
    record kept (its hash, never the token) and the audit entry of its making."""
    token_id = secrets.token_hex(8)
    token = f"{owner}.{token_id}.{secrets.token_urlsafe(32)}"
    at = iso(stats.now())
    record = {"hash": _token_hash(token), "created_at": at, "created_by": by.token_id}
    return token_id, token, record, audit_entry(at, by, "token_create", {"token_id": token_id})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
