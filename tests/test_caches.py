"""The per-process caches of issue 12 hold what the README says at their caps."""

from __future__ import annotations

from bench.caches import agents, measured, paths
from statsvc.core.pageview import MAX_URL
from statsvc.service import counting

MiB = 2**20


def test_the_bot_answers_stay_within_18_mib_at_their_cap() -> None:
    """8,192 agents of 512 characters past U+FFFF (the worst) hold at most 18 MiB."""
    assert measured(lambda: agents("\U0001f600")) <= 18 * MiB


def test_the_paths_stay_within_13_mib_at_their_cap() -> None:
    """The path cache full of the longest paths it keeps, of characters past U+FFFF, holds
    at most 13 MiB; a longer raw path (up to a hit's URL cap) is not kept at all."""
    assert measured(lambda: paths("\U0001f600", counting.MAX_CACHED_PATH)) <= 13 * MiB
    assert measured(lambda: paths("\U0001f600", MAX_URL)) <= 1 * MiB
