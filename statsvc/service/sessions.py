"""Dashboard sessions: signing in with a token, the session that holds while its token does,
and CSRF values.

A session is a random id (sent in a cookie by the http layer, statsvc.http.cookies), kept in
the store under the SHA-256 of that id (a copy of the store holds no usable cookie) for
SESSION_SECONDS. Kept server-side rather than in a signed cookie: signing out, revoking a
site token or changing the admin token ends it at once, on every worker and instance, and no
signing key has to be shared between them. The token itself is never kept: only its
SHA-256, to check at each request that the token the session was opened with still holds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from statsvc.service.auth import Principal, authenticate
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


async def sign_in(
    stats: StatsService, admin_token: str | None, token: str
) -> tuple[Principal, str] | None:
    """Open a session for a valid admin or site token: return who and the session id."""
    principal = await authenticate(stats, admin_token, token)
    if principal is None:
        return None
    session_id = secrets.token_urlsafe(32)
    record = {
        "token_id": principal.token_id,
        "site": principal.site,
        "proof": _sha256(token),
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
    if principal.site is None:
        holds = bool(admin_token) and hmac.compare_digest(
            record["proof"], _sha256(admin_token or "")
        )
    else:
        held = await stats.store.token(principal.site, principal.token_id)
        holds = held is not None and hmac.compare_digest(record["proof"], str(held["hash"]))
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
