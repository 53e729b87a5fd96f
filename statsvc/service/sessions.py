"""Dashboard sessions: signing in with a token, the session that holds while its token does,
and CSRF values.

A session is a random 256-bit id (sent in a cookie by the http layer, statsvc.http.cookies),
kept in the store under the SHA-256 of that id (a copy of the store holds no usable cookie)
for SESSION_SECONDS. Kept server-side rather than in a signed cookie: signing out, revoking a
site token or changing the admin token ends it at once, on every worker and instance, and no
signing key has to be shared between them.

To end with its token, a session keeps a proof: an HMAC of the token (for a site token, of the
hash its record keeps) keyed by the session id. Every worker and instance holds the id (from
the cookie) and the admin token or the token's record, so each recomputes the proof at every
request, and a changed admin token or a revoked site token no longer matches it. The store
holds no function of a token alone: guessing the admin token offline from a copy of the store
or its AOF needs the key, the session id, which only the browser has (the store keeps its
SHA-256). Rejected: an unsalted or fixed-label hash of the token (a copy of the store tests
guesses of it at a hash each), a secret of each process (another worker could not check the
proof), and an "admin generation" in the store (a starting process could not tell whether
its token is a new one without keeping some function of the token to compare with).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from statsvc.service.auth import Principal, authenticate, group_principal
from statsvc.service.counting import StatsService

SESSION_SECONDS = 8 * 3600
MAX_SESSION_ID = 100  # a cookie value longer than any we set is not looked up


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard user: who they are and their session's CSRF token."""

    principal: Principal
    csrf: str
    digest: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _proof(session_id: str, secret: str) -> str:
    """Return the proof that a session was opened with `secret` (the admin token, or a site
    token's hash): an HMAC-SHA256 keyed by the session id, which the store never holds."""
    key = session_id.encode("utf-8", "surrogateescape")
    return hmac.new(key, secret.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


async def sign_in(
    stats: StatsService, admin_token: str | None, token: str
) -> tuple[Principal, str] | None:
    """Open a session for a valid admin or site token: return who and the session id."""
    principal = await authenticate(stats, admin_token, token)
    if principal is None:
        return None
    session_id = secrets.token_urlsafe(32)
    secret = token if principal.is_admin else _sha256(token)  # what `current` can hold
    record = {
        "token_id": principal.token_id,
        "site": principal.site,
        "group": principal.group,
        "proof": _proof(session_id, secret),
        "csrf": new_csrf(),
    }
    await stats.store.put_session(_sha256(session_id), record, SESSION_SECONDS)
    return principal, session_id


async def current(
    stats: StatsService, admin_token: str | None, session_id: str | None
) -> Session | None:
    """Return the session of this id, if it has one that still holds."""
    if not session_id or len(session_id) > MAX_SESSION_ID:
        return None
    digest = _sha256(session_id)
    record = await stats.store.session(digest)
    if record is None:
        return None
    principal = Principal(record["token_id"], record["site"])
    group_id = record.get("group")
    if group_id is not None:  # its reach as the groups are now
        principal = await group_principal(stats, principal.token_id, group_id)
        held = await stats.store.group_token(group_id, principal.token_id)
        secret = None if held is None else str(held["hash"])
    elif principal.site is None:
        secret = admin_token
    else:
        held = await stats.store.token(principal.site, principal.token_id)
        secret = None if held is None else str(held["hash"])
    holds = bool(secret) and hmac.compare_digest(
        str(record["proof"]), _proof(session_id, secret or "")
    )
    if not holds:  # the token was revoked or changed since: so is the session
        await stats.store.end_session(digest)
        return None
    return Session(principal, record["csrf"], digest)


async def sign_out(stats: StatsService, session: Session) -> None:
    """End a session."""
    await stats.store.end_session(session.digest)


def new_csrf() -> str:
    """Return a fresh random CSRF value."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, sent: object) -> bool:
    """Compare a form's CSRF field with the expected value, in constant time."""
    return isinstance(sent, str) and hmac.compare_digest(
        sent.encode("utf-8", "surrogateescape"), expected.encode()
    )
