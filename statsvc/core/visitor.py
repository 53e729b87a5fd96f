"""Anonymous visitor ids: a keyed hash under a daily salt, never the raw IP.

The hash is the salt's: a salt made since issue 13 starts with KEYED_BLAKE2B and keys a
one-shot BLAKE2b (half the cost of the hmac module's HMAC-SHA256); an older salt keeps
HMAC-SHA256. A site's salt is made once per local day, at the day's first hit, so the
switch happens at a local midnight, for a day whose visitor set starts empty: the day
running when the new version starts keeps its salt and its HMAC ids (no visitor of it is
counted twice), yesterday's id (a reader online across midnight) is yesterday's salt's,
and the address ids of the limit per address follow the same salt."""

from __future__ import annotations

import binascii
import hmac
import ipaddress
import secrets
from hashlib import blake2b

IPV6_BLOCK = 64  # the prefix length an IPv6 address is counted by: one subscriber's block
KEYED_BLAKE2B = b"b2:"  # the mark of a salt whose ids are keyed BLAKE2b
ID_BYTES = 12  # an id is 12 bytes of the hash, 16 characters of URL-safe base64
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def new_salt() -> bytes:
    """Return a fresh day's salt: its ids are keyed BLAKE2b."""
    return KEYED_BLAKE2B + secrets.token_bytes(32)


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """Return the visitor id of (site, IP, User-Agent) under one day's salt."""
    return _keyed(salt, "\x00".join((site, ip, user_agent)))


def address_id(salt: bytes, site: str, ip: str) -> str:
    """Return the id of a client address on a site under one day's salt (for the limit per
    address): "@" and a keyed hash of what the address counts as, so it is never a visitor
    id and never the address."""
    return "@" + _keyed(salt, "\x00".join(("address", site, counted_as(ip))))


def _keyed(salt: bytes, text: str) -> str:
    """Return the keyed hash of `text` under `salt`, by the salt's kind, in base64url."""
    message = text.encode("utf-8", "surrogatepass")
    if salt.startswith(KEYED_BLAKE2B):
        digest = blake2b(message, key=salt, digest_size=ID_BYTES).digest()
    else:  # a salt made before the switch: its day's ids stay HMAC-SHA256
        digest = hmac.digest(salt, message, "sha256")[:ID_BYTES]
    return binascii.b2a_base64(digest, newline=False).translate(_URL_SAFE).decode("ascii")


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
