"""A hit's reply as bytes, assembled from pre-encoded parts: byte for byte what orjson makes
of HitResult.body() (the counts object of DESIGN §3), without the dicts made per hit."""

from __future__ import annotations

from datetime import date

import orjson

from statsvc.core.pageview import NO_PAGE
from statsvc.core.results import HitResult, Outcome
from statsvc.core.site import Site

_FIGURES = b'{"today":%d,"yesterday":%d,"week":%d,"month":%d,"total":%d}'
_COUNTS = b',"online":%d,"views":' + _FIGURES + b',"visits":' + _FIGURES
_PAGE = b',"page":{"today":%d,"total":%d,"online":%d}'
_COUNTED = {Outcome.COUNTED: b',"counted":true', Outcome.REFUSED: b',"counted":false'}
MAX_CACHED_DAYS = 10_000  # sites x days whose encoded parts are kept


class HitReplies:
    """Encodes hit replies, keeping each site's and day's encoded parts."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, str, str, date], tuple[bytes, bytes]] = {}

    def encode(self, result: HitResult) -> bytes:
        """Return the reply of a hit as JSON bytes."""
        counts = result.counts
        if counts is None:  # queued: no figures (rare: the store cannot be reached)
            return orjson.dumps(result.body())
        site_part, day_part = self._parts(result.site, result.windows.today)
        parts = [site_part]
        page = result.path != NO_PAGE
        if page:
            parts += (b',"path":', orjson.dumps(counts.path))
        parts += (
            _COUNTED[result.outcome],
            day_part,
            _COUNTS % (counts.online, *counts.views, *counts.visits),
        )
        if page:
            parts.append(_PAGE % (counts.page_today, counts.page_total, counts.page_online))
        if result.reason is not None:
            parts += (b',"reason":', orjson.dumps(str(result.reason)))
        parts.append(b"}")
        return b"".join(parts)

    def _parts(self, site: Site, day: date) -> tuple[bytes, bytes]:
        """Return the encoded start of a site's reply and its day's date, zone and locale."""
        key = (site.id, site.timezone, site.locale, day)
        parts = self._days.get(key)
        if parts is None:
            day_fields = {"date": day.isoformat(), "timezone": site.timezone, "locale": site.locale}
            parts = (
                b'{"site":' + orjson.dumps(site.id),
                b"," + orjson.dumps(day_fields)[1:-1],
            )
            if len(self._days) >= MAX_CACHED_DAYS:
                self._days.clear()
            self._days[key] = parts
        return parts
