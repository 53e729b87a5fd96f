"""All access to Redis or Valkey: site settings, salts and the counting script."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from statsvc.keys import Keys
from statsvc.sites import Site, site_from_json
from statsvc.windows import Windows

Mode = Literal["hit", "ping", "read"]
SALT_TTL = 2 * 86400  # a day's salt outlives the longest local day, then is gone
SHORT_TTL = 3 * 86400  # today's visitor and page-view id sets are read until tomorrow ends
PAGE_DAYS = 62  # daily page tallies serve the today, yesterday, week and month windows
StoreError = RedisError


@dataclass(frozen=True, slots=True)
class Figures:
    """Views or visits over the windows of DESIGN §1."""

    today: int
    yesterday: int
    week: int
    month: int
    total: int


@dataclass(frozen=True, slots=True)
class Counts:
    """What one run of the counting script did and read back."""

    counted: bool
    path: str
    online: int
    page_online: int
    views: Figures
    visits: Figures
    page_today: int
    page_total: int


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of what the store keeps."""

    retention_days: int = 400
    page_cap: int = 50_000


class Store:
    """The statsvc data in one Redis or Valkey server."""

    def __init__(self, client: Redis, keys: Keys, limits: Limits) -> None:
        self._redis = client
        self._keys = keys
        self._limits = limits
        self._count = client.register_script(
            files("statsvc.lua").joinpath("count.lua").read_text(encoding="utf-8")
        )

    @classmethod
    def from_url(cls, url: str, keys: Keys, limits: Limits, *, timeout: float = 2.0) -> Store:
        """Open a store; writes are never retried blindly (a lost reply must not double count)."""
        client = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        return cls(client, keys, limits)

    async def close(self) -> None:
        """Close the connections."""
        await self._redis.aclose()

    async def ready(self) -> bool:
        """Tell whether the server answers."""
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def get_site(self, site_id: str) -> Site | None:
        """Return a site's settings, or None for an unknown site."""
        raw = await self._redis.get(self._keys.site(site_id))
        if raw is None:
            return None
        return site_from_json(site_id, json.loads(raw))

    async def put_site(self, site: Site, *, only_new: bool = False) -> bool:
        """Store a site's settings; with only_new, only if the site does not exist yet."""
        data = json.dumps(site.to_json(), ensure_ascii=False)
        stored = await self._redis.set(self._keys.site(site.id), data, nx=only_new)
        if stored:
            await self._redis.sadd(self._keys.sites(), site.id)
        return bool(stored)

    async def site_ids(self) -> list[str]:
        """Return every site id, sorted."""
        members = await self._redis.smembers(self._keys.sites())
        return sorted(_bytes(m).decode() for m in members)

    async def salt(self, site_id: str, day: date) -> bytes:
        """Return the salt of a site's visitor ids on a local day, making it on first use."""
        fresh = secrets.token_bytes(32)
        old = await self._redis.set(
            self._keys.salt(site_id, day), fresh, nx=True, get=True, ex=SALT_TTL
        )
        return old if isinstance(old, bytes) else fresh

    async def count(
        self,
        mode: Mode,
        site: Site,
        windows: Windows,
        *,
        path: str,
        now_ms: int,
        visitor: str = "",
        previous: str = "",
        view_id: str | None = None,
    ) -> Counts:
        """Run the counting script once: count a hit, refresh a heartbeat, or only read."""
        reply: list[Any] = await self._count(
            keys=self._keys.counts(site.id, windows, path),
            args=[
                mode,
                visitor,
                path,
                now_ms,
                site.online_window * 1000,
                self._limits.retention_days * 86400,
                self._limits.page_cap,
                view_id or "",
                SHORT_TTL,
                min(PAGE_DAYS, self._limits.retention_days) * 86400,
                previous,
            ],
        )
        n = [int(x) for x in reply[2:]]
        return Counts(
            counted=reply[0] == 1,
            path=_bytes(reply[1]).decode(),
            online=n[0],
            page_online=n[1],
            views=Figures(*n[2:7]),
            visits=Figures(*n[7:12]),
            page_today=n[12],
            page_total=n[13],
        )

    async def debug_keys(self, site_id: str) -> list[str]:
        """Return the names of every key of a site (for tests and memory reports)."""
        pattern = f"{self._keys.prefix}:{{{site_id}}}:*"
        return sorted([k.decode() async for k in self._redis.scan_iter(match=pattern, count=1000)])


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
