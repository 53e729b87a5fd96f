"""Dashboard cookies and form checks: the session cookie, same-origin posts."""

from __future__ import annotations

from aiohttp import web

from statsvc.http.appkeys import SETTINGS
from statsvc.http.requester import public_origin
from statsvc.service.sessions import SESSION_SECONDS

SESSION_COOKIE = "statsvc_session"
LOGIN_COOKIE = "statsvc_login"  # the sign-in form's CSRF value, before there is a session
LOGIN_SECONDS = 3600
COOKIE_PATH = "/admin"


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
