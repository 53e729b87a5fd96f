"""Who sent a request, read from its address and headers (the Client value is the core's)."""

from __future__ import annotations

import re

from aiohttp import web

from statsvc.core.requester import MAX_USER_AGENT, Client, Network, forwarded_ip, is_within
from statsvc.http.appkeys import STATS

HOST_HEADER = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """Return the address of a request's client (X-Forwarded-For read through trusted
    proxies only); tell the proxy watch whether the header came from a peer not trusted."""
    remote = request.remote or ""
    forwarded = request.headers.getall("X-Forwarded-For", None)
    if forwarded is not None and not is_within(remote, trusted):
        request.app[STATS].proxies.request(remote)
        return remote
    request.app[STATS].proxies.request(None)
    return remote if forwarded is None else forwarded_ip(remote, ",".join(forwarded), trusted)


def client_of(request: web.Request, trusted: tuple[Network, ...]) -> Client:
    """Return the Client of a request."""
    headers = request.headers
    return Client(
        ip=client_address(request, trusted),
        user_agent=headers.get("User-Agent", "")[:MAX_USER_AGENT],
        origin=headers.get("Origin") or headers.get("Referer"),
        no_tracking=headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1",
        prefetch="prefetch" in (headers.get("Sec-Purpose") or headers.get("Purpose") or ""),
    )


def public_origin(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """Return the origin visitors reach this service at: behind a trusted proxy, the one
    its X-Forwarded-Proto and X-Forwarded-Host name."""
    scheme, host = request.scheme, request.host
    if is_within(request.remote or "", trusted):
        forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
        forwarded_host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        scheme = forwarded_proto if forwarded_proto in ("http", "https") else scheme
        host = forwarded_host if HOST_HEADER.fullmatch(forwarded_host) else host
    return f"{scheme}://{host}"
