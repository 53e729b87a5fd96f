"""Who sent a request: client IP (behind trusted proxies only), User-Agent, origin, privacy
(read from a request by statsvc.http.requester)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_USER_AGENT = 512
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
    if not forwarded_for or not is_within(address, trusted):
        return address
    return forwarded_ip(address, forwarded_for, trusted)


def forwarded_ip(remote: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """Return the client address that X-Forwarded-For names, read from the right through
    the trusted proxies, for a request from `remote`, itself a trusted proxy."""
    address = remote
    for hop in reversed([h.strip() for h in forwarded_for.split(",")][-MAX_HOPS:]):
        if not _is_ip(hop):
            return address
        address = hop
        if not is_within(hop, trusted):
            break
    return address


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


def is_within(address: str, networks: tuple[Network, ...]) -> bool:
    """Tell whether `address` is an IP address in one of `networks`."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)
