"""The per-process caches of issue 12 hold what the README says at their caps."""

from __future__ import annotations

from bench.caches import agents, measured, paths
from statsvc.core.keys import Keys
from statsvc.core.pageview import MAX_URL
from statsvc.core.visitor import address_id
from statsvc.service import counting
from statsvc.store import Limits, Store

MiB = 2**20


def test_the_bot_answers_stay_within_18_mib_at_their_cap() -> None:
    """8,192 agents of 512 characters past U+FFFF (the worst) hold at most 18 MiB."""
    assert measured(lambda: agents("\U0001f600")) <= 18 * MiB


def test_the_paths_stay_within_13_mib_at_their_cap() -> None:
    """The path cache full of the longest paths it keeps, of characters past U+FFFF, holds
    at most 13 MiB; a longer raw path (up to a hit's URL cap) is not kept at all."""
    assert measured(lambda: paths("\U0001f600", counting.MAX_CACHED_PATH)) <= 13 * MiB
    assert measured(lambda: paths("\U0001f600", MAX_URL)) <= 1 * MiB


def test_the_address_ids_are_the_hash_and_stay_within_their_cap() -> None:
    """Remembered address ids are address_id's, and the cache never holds more than its
    cap (it starts again when full)."""
    store = Store.from_url("redis://127.0.0.1:1/0", Keys("cache-test"), Limits())
    service = counting.StatsService(store, clock=lambda: 0.0)
    salt = b"b2:" + bytes(29)
    for n in range(counting.MAX_CACHED_ADDRESSES + 5):
        ip = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        assert service._address(salt, "portal", ip) == address_id(salt, "portal", ip)
        assert len(service._addresses) <= counting.MAX_CACHED_ADDRESSES
    assert service._address(salt, "portal", "10.0.0.1") == address_id(salt, "portal", "10.0.0.1")
