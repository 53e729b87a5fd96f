"""Who sent a request, read from its address and headers (the Client value is the core's)."""

from __future__ import annotations

import re

from aiohttp import web
from multidict import CIMultiDictProxy

from statsvc.core.requester import MAX_USER_AGENT, Client, Network, forwarded_ip, is_within
from statsvc.http.appkeys import STATS

HOST_HEADER = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """Return the address of a request's client (X-Forwarded-For read through trusted
    proxies only); tell the proxy watch whether the header came from a peer not trusted."""
    address, untrusted = address_of(request.headers, request.remote or "", trusted)
    request.app[STATS].proxies.request(untrusted)
    return address


def address_of(
    headers: CIMultiDictProxy[str], remote: str, trusted: tuple[Network, ...]
) -> tuple[str, str | None]:
    """Return the address of the client of a request from `remote` with these headers, and
    `remote` if it sent X-Forwarded-For without being a trusted proxy (else None)."""
    forwarded = headers.getall("X-Forwarded-For", None)
    if forwarded is None:
        return remote, None
    if not is_within(remote, trusted):
        return remote, remote
    return forwarded_ip(remote, ",".join(forwarded), trusted), None


def client_of(request: web.Request, trusted: tuple[Network, ...]) -> Client:
    """Return the Client of a request."""
    client, untrusted = read_client(request.headers, request.remote or "", trusted)
    request.app[STATS].proxies.request(untrusted)
    return client


def read_client(
    headers: CIMultiDictProxy[str], remote: str, trusted: tuple[Network, ...]
) -> tuple[Client, str | None]:
    """Return the Client of a request from `remote` with these headers, and `remote` if it
    sent X-Forwarded-For without being a trusted proxy (else None)."""
    address, untrusted = address_of(headers, remote, trusted)
    client = Client(
        ip=address,
        user_agent=headers.get("User-Agent", "")[:MAX_USER_AGENT],
        origin=headers.get("Origin") or headers.get("Referer"),
        no_tracking=headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1",
        prefetch="prefetch" in (headers.get("Sec-Purpose") or headers.get("Purpose") or ""),
    )
    return client, untrusted


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
