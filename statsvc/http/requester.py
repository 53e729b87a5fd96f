"""Who sent a request, read from its address and headers (the Client value is the core's)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web

from statsvc.core.requester import MAX_USER_AGENT, Client, Network, forwarded_ip, is_within
from statsvc.http.appkeys import STATS

HOST_HEADER = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


def client_address(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """Return the address of a request's client (X-Forwarded-For read through trusted
    proxies only); tell the proxy watch whether the header came from a peer not trusted."""
    forwarded = request.headers.getall("X-Forwarded-For", None)
    address, untrusted = address_of(forwarded, request.remote or "", trusted)
    request.app[STATS].proxies.request(untrusted)
    return address


def address_of(
    forwarded: list[str] | None, remote: str, trusted: tuple[Network, ...]
) -> tuple[str, str | None]:
    """Return the address of the client of a request from `remote` with these
    X-Forwarded-For values, and `remote` if it sent them without being a trusted proxy
    (else None)."""
    if forwarded is None:
        return remote, None
    if not is_within(remote, trusted):
        return remote, remote
    return forwarded_ip(remote, ",".join(forwarded), trusted), None


def client_of(request: web.Request, trusted: tuple[Network, ...]) -> Client:
    """Return the Client of a request."""
    headers = request.headers
    forwarded = headers.getall("X-Forwarded-For", None)
    client, untrusted = read_client(headers, forwarded, request.remote or "", trusted)
    request.app[STATS].proxies.request(untrusted)
    return client


def read_client(
    headers: Mapping[str, str],
    forwarded: list[str] | None,
    remote: str,
    trusted: tuple[Network, ...],
) -> tuple[Client, str | None]:
    """Return the Client of a request from `remote` with these headers (aiohttp's, or a
    plain dict of names in lower case: they are asked in lower case) and X-Forwarded-For
    values, and `remote` if it sent those without being a trusted proxy (else None)."""
    address, untrusted = address_of(forwarded, remote, trusted)
    get = headers.get
    client = Client(
        ip=address,
        user_agent=get("user-agent", "")[:MAX_USER_AGENT],
        origin=get("origin") or get("referer"),
        no_tracking=get("dnt") == "1" or get("sec-gpc") == "1",
        prefetch="prefetch" in (get("sec-purpose") or get("purpose") or ""),
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
