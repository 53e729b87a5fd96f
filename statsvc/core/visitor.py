"""Anonymous visitor ids: a keyed hash under a daily salt, never the raw IP."""

from __future__ import annotations

import base64
import hmac


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """Return the visitor id of (site, IP, User-Agent) under one day's salt."""
    message = "\x00".join((site, ip, user_agent)).encode("utf-8", "surrogatepass")
    digest = hmac.digest(salt, message, "sha256")
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")
