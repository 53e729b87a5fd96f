"""Anonymous visitor ids: a keyed hash under a daily salt, never the raw IP."""

from __future__ import annotations

import base64
import hmac


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """Return the visitor id of (site, IP, User-Agent) under one day's salt."""
    message = "\x00".join((site, ip, user_agent)).encode("utf-8", "surrogatepass")
    digest = hmac.digest(salt, message, "sha256")
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def address_id(salt: bytes, site: str, ip: str) -> str:
    """Return the id of a client address on a site under one day's salt (for the limit per
    address): "@" and a keyed hash, so it is never a visitor id and never the address."""
    digest = hmac.digest(salt, "\x00".join(("address", site, ip)).encode(), "sha256")
    return "@" + base64.urlsafe_b64encode(digest[:12]).decode("ascii")
