"""Who sent a request: client IP (behind trusted proxies only), User-Agent, origin, privacy
(read from a request by statsvc.http.requester)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_USER_AGENT = 512
MAX_HOPS = 32  # of X-Forwarded-For read from the right: the proxies' end, not the client's


class Client(NamedTuple):
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


class AddressSet:
    """Addresses and networks to match client addresses against in a few set look-ups, one
    per distinct prefix length, however many networks there are (`ip in network` for each
    network in turn costs about 0.2 µs a network: 50 µs for 256)."""

    __slots__ = ("_v4", "_v6")

    def __init__(self, networks: Iterable[Network]) -> None:
        tables: dict[int, dict[int, set[int]]] = {4: {}, 6: {}}
        for net in networks:
            shift = net.max_prefixlen - net.prefixlen  # the host bits, dropped before looking
            tables[net.version].setdefault(shift, set()).add(int(net.network_address) >> shift)
        self._v4 = tuple((shift, frozenset(nets)) for shift, nets in sorted(tables[4].items()))
        self._v6 = tuple((shift, frozenset(nets)) for shift, nets in sorted(tables[6].items()))

    def __contains__(self, address: str) -> bool:
        """Tell whether `address` is an IP address in one of the networks; an IPv6 form of
        an IPv4 address (::ffff:a.b.c.d, a dual-stack socket's) is that address."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6:
            mapped = ip.ipv4_mapped
            if mapped is not None and _within(int(mapped), self._v4):
                return True
            return _within(int(ip), self._v6)
        return _within(int(ip), self._v4)


def _within(number: int, table: tuple[tuple[int, frozenset[int]], ...]) -> bool:
    return any(number >> shift in nets for shift, nets in table)
