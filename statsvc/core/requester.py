"""Who sent a request: client IP (behind trusted proxies only), User-Agent, origin, privacy."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_USER_AGENT = 512
HOST_HEADER = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
MAX_HOPS = 32  # of X-Forwarded-For read from the right: the proxies' end, not the client's


@dataclass(frozen=True, slots=True)
class Client:
    """The parts of a request that say who sent it."""

    ip: str
    user_agent: str
    origin: str | None  # the Origin header, else the Referer
    no_tracking: bool  # DNT: 1 or Sec-GPC: 1
    prefetch: bool = False  # Sec-Purpose or Purpose: prefetch (a page fetched ahead, unseen)

    @property
    def origin_host(self) -> str | None:
        """Return the host of the page the request came from (parsed only when asked: only
        a site that lists its domains asks)."""
        return _host(self.origin) if self.origin else None


def parse_networks(text: str) -> tuple[Network, ...]:
    """Parse a comma-separated list of IP addresses and CIDR networks."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def client_ip(remote: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """Return the client address: X-Forwarded-For is read only through trusted proxies."""
    trusted = tuple(trusted)
    address = remote or ""
    if not forwarded_for or not _is_in(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",")][-MAX_HOPS:]):
        if not _is_ip(hop):
            return address
        address = hop
        if not _is_in(hop, trusted):
            break
    return address


def client_of(request: web.Request, trusted: tuple[Network, ...]) -> Client:
    """Return the Client of a request."""
    headers = request.headers
    return Client(
        ip=client_ip(request.remote, ",".join(headers.getall("X-Forwarded-For", [])), trusted),
        user_agent=headers.get("User-Agent", "")[:MAX_USER_AGENT],
        origin=headers.get("Origin") or headers.get("Referer"),
        no_tracking=headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1",
        prefetch="prefetch" in (headers.get("Sec-Purpose") or headers.get("Purpose") or ""),
    )


def public_origin(request: web.Request, trusted: tuple[Network, ...]) -> str:
    """Return the origin visitors reach this service at: behind a trusted proxy, the one
    its X-Forwarded-Proto and X-Forwarded-Host name."""
    scheme, host = request.scheme, request.host
    if _is_in(request.remote or "", trusted):
        forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
        forwarded_host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        scheme = forwarded_proto if forwarded_proto in ("http", "https") else scheme
        host = forwarded_host if HOST_HEADER.fullmatch(forwarded_host) else host
    return f"{scheme}://{host}"


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
