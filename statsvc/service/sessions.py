"""Dashboard sessions: signing in with a token, the session cookie, and CSRF checks.

A session is a random id in an `HttpOnly; SameSite=Strict; Path=/admin` cookie, kept in the
store under the SHA-256 of that id (a copy of the store holds no usable cookie) for
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

from aiohttp import web

from statsvc.core.requester import public_origin
from statsvc.http.appkeys import COUNTER, SETTINGS
from statsvc.service import admin
from statsvc.service.admin import Principal

SESSION_COOKIE = "statsvc_session"
LOGIN_COOKIE = "statsvc_login"  # the sign-in form's CSRF value, before there is a session
SESSION_SECONDS = 8 * 3600
LOGIN_SECONDS = 3600
COOKIE_PATH = "/admin"
MAX_COOKIE = 100  # a cookie value longer than any we set is not looked up


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard user: who they are and their session's CSRF token."""

    principal: Principal
    csrf: str
    digest: str


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


async def sign_in(request: web.Request, token: str) -> tuple[Principal, str] | None:
    """Open a session for a valid admin or site token: return who and the cookie value."""
    counter, settings = request.app[COUNTER], request.app[SETTINGS]
    principal = await admin.authenticate(counter, settings.admin_token, token)
    if principal is None:
        return None
    session_id = secrets.token_urlsafe(32)
    record = {
        "token_id": principal.token_id,
        "site": principal.site,
        "proof": _sha256(token),
        "csrf": new_csrf(),
    }
    await counter.store.put_session(_sha256(session_id), record, SESSION_SECONDS)
    return principal, session_id


async def current(request: web.Request) -> Session | None:
    """Return the request's session, if it has one that still holds."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or len(cookie) > MAX_COOKIE:
        return None
    counter = request.app[COUNTER]
    digest = _sha256(cookie)
    record = await counter.store.session(digest)
    if record is None:
        return None
    principal = Principal(record["token_id"], record["site"])
    if principal.site is None:
        token = request.app[SETTINGS].admin_token
        holds = bool(token) and hmac.compare_digest(record["proof"], _sha256(token or ""))
    else:
        held = await counter.store.token(principal.site, principal.token_id)
        holds = held is not None and hmac.compare_digest(record["proof"], str(held["hash"]))
    if not holds:  # the token was revoked or changed since: so is the session
        await counter.store.end_session(digest)
        return None
    return Session(principal, record["csrf"], digest)


async def sign_out(request: web.Request, session: Session) -> None:
    """End a session."""
    await request.app[COUNTER].store.end_session(session.digest)


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    """Set a dashboard cookie: HttpOnly, SameSite=Strict, only under /admin, Secure on https."""
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        max_age=SESSION_SECONDS if name == SESSION_COOKIE else LOGIN_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def is_https(request: web.Request) -> bool:
    """Tell whether the browser reached us over https (directly or through a trusted proxy)."""
    return public_origin(request, request.app[SETTINGS].trusted_proxies).startswith("https:")


def same_origin(request: web.Request) -> bool:
    """Tell whether a form post comes from one of our own pages: the browser's Fetch Metadata
    and Origin say so, when it sends them (every current browser does on a POST)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    trusted = request.app[SETTINGS].trusted_proxies
    return origin is None or origin == public_origin(request, trusted)


def new_csrf() -> str:
    """Return a fresh random CSRF value."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str, sent: object) -> bool:
    """Compare a form's CSRF field with the expected value, in constant time."""
    return isinstance(sent, str) and hmac.compare_digest(
        sent.encode("utf-8", "surrogateescape"), expected.encode()
    )
