"""The store's traffic sources, off the hit path (count.lua counts them): each local day's
visits by source, read summed over any days. A part of Store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from statsvc.core.keys import Keys
from statsvc.store.resp import as_bytes


class Referrers:
    """Visits by source (the day sets `Keys.sources_day`)."""

    _redis: Any
    _keys: Keys

    async def top_sources(
        self, site_id: str, days: Sequence[date], limit: int | None = None
    ) -> list[tuple[str, int]]:
        """Return a site's sources of these local days with their visits summed, most visits
        first (ties by source), at most `limit` (None: all).

        The one reader of sources for any range of days (the /sources windows, reports): one
        ZUNION of the days' sets, which share the site's slot. A day past the sources'
        lifetime (the retention) or without visits adds nothing. Sources are canonical hosts
        (statsvc.core.referrer), "(direct)" and "(other)" (hosts past a day's cap); their
        visits add up to the days' visits counted by hits (imports add visits without
        sources unless they bring them)."""
        if not days:
            return []
        keys = [self._keys.sources_day(site_id, day) for day in dict.fromkeys(days)]
        scored: Any = await self._redis.zunion(keys, withscores=True)
        sources = [(as_bytes(source).decode(), int(visits)) for source, visits in scored]
        sources.sort(key=lambda pair: (-pair[1], pair[0]))
        return sources if limit is None else sources[:limit]

    async def day_sources(self, site_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        """Return each day's visits by source (for the export), one pipelined read."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.zrange(self._keys.sources_day(site_id, day), 0, -1, withscores=True)
        return [
            {as_bytes(source).decode(): int(visits) for source, visits in scored}
            for scored in await pipe.execute()
        ]
