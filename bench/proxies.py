"""Measure what watching for a misconfigured proxy adds to a hit (statsvc.service.proxies).

Usage: python bench/proxies.py

Times ProxyWatch.request (every request whose client is read) and ProxyWatch.hit (every
hit not refused by a rule) over a realistic mix: many sites, readers from many addresses
with browsers of a few hundred builds; and the worst case for the shared-address rule,
one site whose every hit comes from one address with a new User-Agent.
"""

from __future__ import annotations

import time
import timeit

from statsvc.core.requester import Client
from statsvc.service.proxies import ProxyWatch

N = 200_000


def per_call(statement: str, namespace: dict[str, object]) -> float:
    """Return the best time of one call of `statement`, in nanoseconds."""
    runs = timeit.repeat(statement, "i = 0", globals=namespace, number=N, repeat=5)
    return min(runs) / N * 1e9


def main() -> None:
    watch = ProxyWatch(time.time)
    mixed = [
        Client(f"198.51.{i % 200}.{i % 250 + 1}", f"Mozilla/5.0 Chrome/{i % 300}", None, False)
        for i in range(4096)
    ]
    sites = [f"site-{i % 300}" for i in range(4096)]
    shared = [Client("10.0.0.2", f"Mozilla/5.0 Chrome/{i}", None, False) for i in range(4096)]
    namespace: dict[str, object] = {"w": watch, "c": mixed, "s": sites, "sh": shared}
    loop = "i = (i + 1) & 4095; "
    base = per_call(loop + "c[i]; s[i]", namespace)
    request = per_call(loop + "w.request(None)", namespace) - base
    forwarded = per_call(loop + "w.request('10.0.0.2')", namespace) - base
    hit = per_call(loop + "w.hit(s[i], c[i])", namespace) - base
    worst = per_call(loop + "w.hit('one', sh[i])", namespace) - base
    print(f"request(), no X-Forwarded-For:     {request:6.0f} ns")
    print(f"request(), untrusted forwarded:    {forwarded:6.0f} ns")
    print(f"hit(), 300 sites, many addresses:  {hit:6.0f} ns")
    print(f"hit(), one site, one address:      {worst:6.0f} ns")


if __name__ == "__main__":
    main()
