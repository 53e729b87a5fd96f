"""The store's plain records, off the hit path: site settings and the list of sites, daily
salts, figures by day and page, read-only tokens, the audit trail and imports (commands and
registered scripts; every key of one site). A part of Store."""

from __future__ import annotations

import asyncio
import json
from calendar import monthrange
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from redis.commands.core import AsyncScript

from statsvc.core.keys import Keys
from statsvc.core.site import Site, site_from_json
from statsvc.core.visitor import new_salt
from statsvc.store.failures import UNREACHABLE
from statsvc.store.limits import Limits
from statsvc.store.lua import script
from statsvc.store.resp import as_bytes, as_int

SALT_TTL = 2 * 86400  # a day's salt outlives the longest local day, then is gone
AUDIT_CAP = 1000  # entries kept in a site's audit trail
MAX_TOKENS = 100  # read-only tokens of one site


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """An import, checked and laid out as the import script takes it."""

    import_id: str
    digest: str
    entry: dict[str, Any]  # its audit entry
    views: int  # added to the total
    visits: int
    months: list[tuple[str, int, list[tuple[int, int, int]]]]  # month, lifetime, (DD, v, u)
    rejected: list[tuple[date, dict[str, int]]]  # refused hits by reason, of days
    pages: list[tuple[str, int]]  # page totals: real pages in the order they take free places
    ledger: tuple[str, str] | None = None  # a migration's source id and ledger (JSON), kept
    sources: tuple[tuple[date, dict[str, int]], ...] = ()  # visits by source, of days


class Records:
    """Site settings, salts, figures, tokens, the audit trail and imports."""

    _redis: Any
    _keys: Keys
    _limits: Limits

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
            await self._announce_settings()
        return bool(stored)

    async def _announce_settings(self) -> None:
        """Raise the counter of settings changes, after a change was written (not with it: in a
        cluster the counter is in a slot of its own). Not raised, the change is saved all the
        same, and every process reads its copy again within SITE_MAX_AGE (60 s)."""
        with suppress(*UNREACHABLE):
            await self._redis.incr(self._keys.sites_version())

    async def sites_version(self) -> bytes | None:
        """Return the counter of site settings changes (None before the first): raised after
        every change, so a cached copy older than its last value may be out of date."""
        version = await self._redis.get(self._keys.sites_version())
        return version if isinstance(version, bytes) else None

    async def site_ids(self) -> list[str]:
        """Return every site id, sorted."""
        members = await self._redis.smembers(self._keys.sites())
        return sorted(as_bytes(m).decode() for m in members)

    async def salt(self, site_id: str, day: date) -> bytes:
        """Return the salt of a site's visitor ids on a local day, making it on first use."""
        fresh = new_salt()
        old = await self._redis.set(
            self._keys.salt(site_id, day), fresh, nx=True, get=True, ex=SALT_TTL
        )
        return old if isinstance(old, bytes) else fresh

    @property
    def limits(self) -> Limits:
        """Return the bounds of what this store keeps."""
        return self._limits

    @cached_property
    def _adjust_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("adjust.lua"))
        return registered

    @cached_property
    def _month_pages_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("month_pages.lua"))
        return registered

    @cached_property
    def _import_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("import.lua"))
        return registered

    async def totals(self, site_id: str) -> tuple[int, int]:
        """Return a site's all-time views and visits."""
        views, visits = await self._redis.hmget(self._keys.total(site_id), ["v", "u"])
        return as_int(views), as_int(visits)

    async def day_figures(self, site_id: str, days: Sequence[date]) -> list[tuple[int, int]]:
        """Return the views and visits of each day: one HMGET per month, pipelined."""
        months: dict[str, list[date]] = {}
        for day in days:
            months.setdefault(day.strftime("%Y-%m"), []).append(day)
        pipe = self._redis.pipeline(transaction=False)
        for month, in_month in months.items():
            fields = [f"{day.day:02d}{kind}" for day in in_month for kind in "vu"]
            pipe.hmget(self._keys.month(site_id, month), fields)
        figures: dict[date, tuple[int, int]] = {}
        for in_month, got in zip(months.values(), await pipe.execute(), strict=True):
            for n, day in enumerate(in_month):
                figures[day] = (as_int(got[2 * n]), as_int(got[2 * n + 1]))
        return [figures[day] for day in days]

    async def month_days(self, site_id: str, months: Sequence[str]) -> dict[date, tuple[int, int]]:
        """Return every day of these months ("YYYY-MM") that has figures, with them."""
        pipe = self._redis.pipeline(transaction=False)
        for month in months:
            pipe.hgetall(self._keys.month(site_id, month))
        days: dict[date, list[int]] = {}
        for month, fields in zip(months, await pipe.execute(), strict=True):
            for name, value in fields.items():
                field_name = as_bytes(name).decode()
                # <DD>v and <DD>u (not <DD>p, which says a day's page views are pending)
                if len(field_name) == 3 and field_name[:2].isdigit() and field_name[2] in "vu":
                    day = date.fromisoformat(f"{month}-{field_name[:2]}")
                    figures = days.setdefault(day, [0, 0])
                    figures[field_name[2] == "u"] = as_int(value)
        return {day: (v, u) for day, (v, u) in sorted(days.items())}

    async def rejected(self, site_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        """Return each day's hits not counted, by reason."""
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self._keys.rejected(site_id, day))
        return [
            {as_bytes(reason).decode(): as_int(n) for reason, n in tally.items()}
            for tally in await pipe.execute()
        ]

    async def page_views(
        self,
        site_id: str,
        *,
        days: Sequence[date] = (),
        month: str | None = None,
        months: Sequence[str] = (),
        limit: int,
    ) -> list[tuple[str, int]]:
        """Return the most viewed pages, most viewed first (ties by path): of the days and
        `months` given (summed), else of the month given, else of all time."""
        scored: Any  # pairs (path, views)
        if month is not None and not days and not months:
            months = [month]
        if months:  # a month's tally and its pending days' (count.lua), read at once
            keys = [self._keys.pages_day(site_id, day) for day in days]
            args = [len(days)]
            for name in months:
                first = date.fromisoformat(name + "-01")
                size = monthrange(first.year, first.month)[1]
                keys += [self._keys.month(site_id, name), self._keys.pages_month(site_id, name)]
                keys += [
                    self._keys.pages_day(site_id, first.replace(day=n)) for n in range(1, size + 1)
                ]
                args.append(size)
            flat = await self._month_pages_script(keys=keys, args=args)
            scored = list(zip(flat[::2], flat[1::2], strict=True))
        elif len(days) > 1:  # summed: ZUNION of one site's keys, one slot
            keys = [self._keys.pages_day(site_id, day) for day in days]
            scored = await self._redis.zunion(keys, withscores=True)
        else:
            key = self._keys.pages_day(site_id, days[0]) if days else self._keys.pages(site_id)
            scored = await self._redis.zrange(key, 0, limit - 1, desc=True, withscores=True)
            if len(scored) == limit:  # the last views may be shared: take the first paths
                last = scored[-1][1]
                kept = [page for page in scored if page[1] > last]
                scored = kept + await self._redis.zrangebyscore(
                    key, last, last, start=0, num=limit - len(kept), withscores=True
                )
        pages = [(as_bytes(path).decode(), int(float(score))) for path, score in scored]
        pages.sort(key=lambda page: (-page[1], page[0]))
        return pages[:limit]

    async def save_settings(self, site: Site, entry: dict[str, Any]) -> None:
        """Store a site's settings and record the change in its audit trail, atomically."""
        data = json.dumps(site.to_json(), ensure_ascii=False)
        await self._adjust(site.id, self._keys.site(site.id), "set", "", data, entry)
        await self._redis.sadd(self._keys.sites(), site.id)
        await self._announce_settings()

    async def token(self, site_id: str, token_id: str) -> dict[str, Any] | None:
        """Return the record of a site's read-only token, or None."""
        raw = await self._redis.hget(self._keys.tokens(site_id), token_id)
        return None if raw is None else dict(json.loads(raw))

    async def tokens(self, site_id: str) -> dict[str, dict[str, Any]]:
        """Return the records of a site's read-only tokens by token id."""
        records = await self._redis.hgetall(self._keys.tokens(site_id))
        return {as_bytes(k).decode(): json.loads(v) for k, v in records.items()}

    async def add_token(
        self, site_id: str, token_id: str, record: dict[str, Any], entry: dict[str, Any]
    ) -> bool:
        """Add a token record and its audit entry, atomically; False if the site has
        MAX_TOKENS tokens already."""
        key, data = self._keys.tokens(site_id), json.dumps(record)
        return await self._adjust(site_id, key, "hset", token_id, data, entry)

    async def remove_token(self, site_id: str, token_id: str, entry: dict[str, Any]) -> bool:
        """Remove a token and record it in the audit trail, atomically; False if there was none."""
        return await self._adjust(site_id, self._keys.tokens(site_id), "hdel", token_id, "", entry)

    async def _adjust(
        self, site_id: str, key: str, op: str, name: str, value: str, entry: dict[str, Any]
    ) -> bool:
        keys = [key, self._keys.audit(site_id)]
        audit = json.dumps(entry, ensure_ascii=False)
        args: list[str | int] = [op, name, value, MAX_TOKENS, audit, AUDIT_CAP]
        return int(await self._adjust_script(keys=keys, args=args)) == 1

    async def audit(self, site_id: str, limit: int) -> list[dict[str, Any]]:
        """Return the latest entries of a site's audit trail, newest first."""
        entries = await self._redis.lrange(self._keys.audit(site_id), 0, limit - 1)
        return [json.loads(entry) for entry in entries]

    async def migration_ledger(self, site_id: str, source: str) -> str | None:
        """Return what earlier migrations added to a site from `source` (JSON), if any."""
        found = await self._redis.hget(self._keys.migrations(site_id), source)
        return None if found is None else as_bytes(found).decode()

    async def apply_import(self, site_id: str, plan: ImportPlan) -> str:
        """Apply an import unless its id was applied before: "applied", or, changing nothing,
        "same" / "different" (the id was applied with the same / another digest), "too_large"
        (a stored figure would pass 2^53 - 1), "pages_exceed_total". The pages go as one
        argument, written in a thread: 100,000 pages as 200,000 arguments took redis-py 160 ms
        of the event loop to pack."""
        keys = [
            self._keys.total(site_id),
            self._keys.imports(site_id),
            self._keys.audit(site_id),
            self._keys.pages(site_id),
            *(self._keys.month(site_id, month) for month, _, _ in plan.months),
            *(self._keys.rejected(site_id, day) for day, _ in plan.rejected),
            *(self._keys.sources_day(site_id, day) for day, _ in plan.sources),
        ]
        if plan.ledger is not None:
            keys.append(self._keys.migrations(site_id))
        args: list[str | int] = [
            plan.import_id,
            plan.digest,
            json.dumps(plan.entry, ensure_ascii=False),
            AUDIT_CAP,
            plan.views,
            plan.visits,
            self._limits.page_cap,
            len(plan.months),
            len(plan.rejected),
            self._limits.month_ttl,
            await asyncio.to_thread(_page_lines, plan.pages),
            self._limits.source_cap,
            len(plan.sources),
        ]
        for _, lifetime, days in plan.months:
            args += [lifetime, len(days)]
            for day, views, visits in days:
                args += [f"{day:02d}", views, visits]
        for _, tally in plan.rejected:
            args.append(len(tally))
            for reason, n in tally.items():
                args += [reason, n]
        for _, by_source in plan.sources:
            args.append(len(by_source))
            for source, n in by_source.items():
                args += [source, n]
        if plan.ledger is not None:
            args += list(plan.ledger)
        return as_bytes(await self._import_script(keys=keys, args=args)).decode()


def _page_lines(pages: list[tuple[str, int]]) -> str:
    """Return pages as the import script reads them: each path, a newline, its views, a
    newline (a page path holds no control character)."""
    return "".join([f"{path}\n{views}\n" for path, views in pages])
