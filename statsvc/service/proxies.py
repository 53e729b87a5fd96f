"""Signs of a reverse proxy statsvc is not told about, watched in this process's memory:
requests that name their client in X-Forwarded-For from a peer not in
STATSVC_TRUSTED_PROXIES, and a site whose recent hits nearly all come from one address with
many browsers (every reader behind the proxy reads as the proxy). Each sign is logged at
most once an hour and shown by /readyz and the dashboard until an hour has passed without it.

- Untrusted X-Forwarded-For: of the last FORWARDED_WINDOW requests whose client was read
  (hits, heartbeats, badges, sign-ins), at least half came with the header from a peer not
  trusted. A reverse proxy adds it to every request; a reader's own proxy (a mobile
  carrier's, an office's) to a few, which this share leaves unremarked.
- Shared address: per site, RUN hits in a row of which at most RUN // 10 come from another
  address than the run's (at least 90 % from one address), with at least MANY_AGENTS
  distinct User-Agents among that address's. A commune office's NAT, a dozen computers that
  mostly run one browser build, does not reach MANY_AGENTS; a proxy in front of a portal's
  readers does within its first RUN hits.

Cost: a method call and a few integer, set and dictionary operations per request, no
allocation but a site's first run (bench/proxies.py: about 0.07 µs per request and 0.2 µs
per hit on the AMD EPYC host, against the 147 µs of statsvc's CPU a hit takes there,
docs/benchmarks.md)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from statsvc.core.requester import Client

FORWARDED_WINDOW = 100  # requests whose share of untrusted X-Forwarded-For is looked at
RUN = 50  # hits of a site in a row that the shared-address rule looks at
MANY_AGENTS = 20  # distinct User-Agents from one address that no office NAT shows
REMEMBER_SECONDS = 3600.0  # a sign is logged once in this time, and shown this long after
MAX_WATCHED_SITES = 10_000  # runs kept; past it they start again (memory stays bounded)
log = logging.getLogger("statsvc")


class ProxyWarning(StrEnum):
    """A sign of a misconfigured proxy, as /readyz names it."""

    UNTRUSTED_FORWARDED_FOR = "untrusted_forwarded_for"
    SHARED_ADDRESS = "shared_address"


@dataclass(slots=True)
class _Run:
    """The hits of one site in a row, since the last address that broke the run."""

    address: str
    hits: int = 0
    others: int = 0
    agents: set[str] = field(default_factory=set)

    def restart(self, address: str) -> None:
        """Start a new run from `address` (in place: no allocation on the hit path)."""
        self.address, self.hits, self.others = address, 0, 0
        self.agents.clear()


@dataclass(frozen=True, slots=True)
class Sighting:
    """The last time a sign was seen, and what it was seen with: the peer that sent
    X-Forwarded-For, or the address a site's hits share and the site. A shared address is
    named only when private or loopback (a proxy in the operator's own network): a public
    one may be a NAT of readers, and statsvc logs no reader's address."""

    at: float
    address: str  # "" when not named
    site: str = ""


class ProxyWatch:
    """Watches the requests of this process for the signs of a proxy not trusted."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._runs: dict[str, _Run] = {}
        self._requests = self._forwarded = 0  # of the current FORWARDED_WINDOW
        self._peer = ""  # the last peer that sent X-Forwarded-For untrusted
        self._seen: dict[ProxyWarning, Sighting] = {}
        self._logged: dict[ProxyWarning, float] = {}

    def request(self, untrusted_peer: str | None) -> None:
        """Note a request whose client was read: `untrusted_peer` is its peer's address when
        it came with X-Forwarded-For from a peer not trusted, else None."""
        self._requests += 1
        if untrusted_peer is not None:
            self._forwarded += 1
            self._peer = untrusted_peer
        if self._requests >= FORWARDED_WINDOW:
            if self._forwarded * 2 >= self._requests:
                sighting = Sighting(self._clock(), self._peer)
                self._sight(ProxyWarning.UNTRUSTED_FORWARDED_FOR, sighting)
            self._requests = self._forwarded = 0

    def hit(self, site_id: str, client: Client) -> None:
        """Note a hit of a site (a few dictionary operations: this is the hit path)."""
        run = self._runs.get(site_id)
        if run is None:
            if len(self._runs) >= MAX_WATCHED_SITES:
                self._runs.clear()
            run = self._runs[site_id] = _Run(client.ip)
        if client.ip != run.address:
            run.others += 1
            if run.others > RUN // 10:  # under 90 %: a new run, from this address
                run.restart(client.ip)
                run.hits = 1
                run.agents.add(client.user_agent)
            return
        run.hits += 1
        if len(run.agents) < MANY_AGENTS:
            run.agents.add(client.user_agent)
        if run.hits + run.others >= RUN:
            if len(run.agents) >= MANY_AGENTS:
                named = run.address if _is_internal(run.address) else ""
                sighting = Sighting(self._clock(), named, site_id)
                self._sight(ProxyWarning.SHARED_ADDRESS, sighting)
            run.restart(client.ip)

    def warnings(self) -> dict[ProxyWarning, Sighting]:
        """Return the signs seen within the last REMEMBER_SECONDS, and their last sighting."""
        now = self._clock()
        return {w: s for w, s in self._seen.items() if now - s.at < REMEMBER_SECONDS}

    def _sight(self, warning: ProxyWarning, sighting: Sighting) -> None:
        self._seen[warning] = sighting
        logged = self._logged.get(warning)
        if logged is not None and sighting.at - logged < REMEMBER_SECONDS:
            return
        self._logged[warning] = sighting.at
        if warning is ProxyWarning.UNTRUSTED_FORWARDED_FOR:
            log.warning(
                "requests come with X-Forwarded-For from %s, which is not a trusted proxy: "
                "the header is ignored and every reader behind it counts as one address. "
                "If %s is your reverse proxy, set STATSVC_TRUSTED_PROXIES=%s",
                sighting.address,
                sighting.address,
                sighting.address,
            )
        else:
            log.warning(
                "site %s: at least %d of its last %d hits came from one address (%s), with "
                "%d or more browsers: a reverse proxy statsvc is not told about? If a reverse "
                "proxy is in front, set STATSVC_TRUSTED_PROXIES to its address and have it send "
                "X-Forwarded-For; if it is your office's address, add it to the site's excluded "
                "IP addresses (exclude_ips) instead",
                sighting.site,
                RUN - RUN // 10,
                RUN,
                sighting.address or "a public one",
                MANY_AGENTS,
            )


def _is_internal(address: str) -> bool:
    """Tell whether `address` is a loopback or private address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private
