"""Measure the memory of the per-process caches at their caps (tracemalloc).

Usage: python bench/caches.py

The bot answers (statsvc.core.bots.is_bot) filled with distinct User-Agents at the length
statsvc judges (MAX_USER_AGENT), and the normalised paths (StatsService._page) filled with
distinct raw paths as long as a hit's URL may be (MAX_URL), each of ASCII characters and
of characters past U+FFFF (four bytes each in a Python string: the worst).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from functools import partial

from statsvc.core import bots
from statsvc.core.errors import BadInput
from statsvc.core.pageview import MAX_URL
from statsvc.core.requester import MAX_USER_AGENT
from statsvc.service import counting
from statsvc.service.counting import StatsService


def measured(fill: Callable[[], object]) -> int:
    """Return the bytes what fill returns holds (all it allocated and kept)."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = fill()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return after - before


def agents(char: str) -> object:
    """Fill the bot answers with distinct agents at the length cap."""
    bots.is_bot.cache_clear()
    for n in range(bots.MAX_CACHED_AGENTS):
        bots.is_bot(f"{n:08}" + char * (MAX_USER_AGENT - 8))
    return None


def paths(char: str, length: int) -> object:
    """Fill a StatsService's path cache with distinct raw paths of a length: the page as
    long (the worst), else (past what a page may be) a long query dropped from the page."""
    service = StatsService.__new__(StatsService)  # only its path cache is used
    service._pages = {}
    keys = ("id",)
    for n in range(counting.MAX_CACHED_PAGES):
        name = f"/{n:06}"
        try:
            service._page(name + char * (length - len(name)), keys)
        except BadInput:
            service._page(name + "?x=" + char * (length - len(name) - 3), keys)
    return service


def main() -> None:
    print(f"bot answers: {bots.MAX_CACHED_AGENTS:,} agents of {MAX_USER_AGENT} characters")
    for name, char in (("ASCII", "a"), ("past U+FFFF", "\U0001f600")):
        print(f"  {name}: {measured(partial(agents, char)) / 2**20:.1f} MiB")
    bots.is_bot.cache_clear()
    print(f"paths: {counting.MAX_CACHED_PAGES:,} raw paths")
    for length in sorted({getattr(counting, "MAX_CACHED_PATH", MAX_URL), MAX_URL}):
        for name, char in (("ASCII", "a"), ("past U+FFFF", "\U0001f600")):
            size = measured(partial(paths, char, length))
            print(f"  of {length} characters, {name}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
