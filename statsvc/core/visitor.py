"""Anonymous visitor ids: a keyed hash under a daily salt, never the raw IP."""

from __future__ import annotations

import base64
import hmac
import ipaddress

IPV6_BLOCK = 64  # the prefix length an IPv6 address is counted by: one subscriber's block


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """Return the visitor id of (site, IP, User-Agent) under one day's salt."""
    message = "\x00".join((site, ip, user_agent)).encode("utf-8", "surrogatepass")
    digest = hmac.digest(salt, message, "sha256")
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def address_id(salt: bytes, site: str, ip: str) -> str:
    """Return the id of a client address on a site under one day's salt (for the limit per
    address): "@" and a keyed hash of what the address counts as, so it is never a visitor
    id and never the address."""
    counted = "\x00".join(("address", site, counted_as(ip))).encode("utf-8", "surrogatepass")
    digest = hmac.digest(salt, counted, "sha256")
    return "@" + base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def counted_as(address: str) -> str:
    """Return what a client address counts as in a limit: itself (IPv4, as written), or its
    IPv6 /64 block (else each new address of a subscriber's block would start a fresh
    tally); text that is no address, as it is."""
    if ":" not in address:
        return address  # IPv4: as written (most hits: no parsing)
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    mapped = parsed.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1
    if mapped is not None:
        return str(mapped)
    return str(ipaddress.IPv6Network((parsed, IPV6_BLOCK), strict=False))
