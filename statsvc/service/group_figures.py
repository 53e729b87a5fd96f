"""A group's figures (DESIGN §1 "group"): the sums of its distinct member sites' own
figures, each site's windows in its own zone; and its member sites ranked.

Reading 1,000 sites is one script run per store node (statsvc.store.groups), sites of one
zone, week start and online window sharing their windows. Each process keeps what it read of
a group for at most `cache_seconds` (2 s by default, README "Groups"): after half of that a
read starts a new one in the background and answers what it has; older than that, it waits
for a new read. A box drawn for a member site (`site` given) takes that site's own figures
fresh, so a view just counted is in the group's sum at once. The groups' records are kept
while their version (one GET) is the same: a request for an id of no group reads no more."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from statsvc.core.calendar import Windows, windows_at
from statsvc.core.errors import BadInput, UnknownGroup
from statsvc.core.group import Group, groups_from_records, resolve
from statsvc.core.site import Site, site_from_json
from statsvc.service.counting import SITE_CACHE_SECONDS, StatsService
from statsvc.store.groups import FIGURES, Section

GROUP_CACHE_SECONDS = 2.0
REFRESH_AT = 0.75  # of the cache time: a read then starts a new reading, answering the kept
MAX_KEPT_SITES = 100_000  # member sites' settings kept parsed (a few hundred bytes each)
WINDOWS = ("today", "yesterday", "week", "month", "total")
log = logging.getLogger("statsvc")


@dataclass(slots=True)
class Reading:
    """What was read of a group at one instant: its members and their figures."""

    at: float
    group: Group
    sites: list[Site]
    figures: dict[str, list[int]]  # site id -> FIGURES integers (statsvc.store.groups)
    sums: list[int]  # the figures summed over the sites
    body: dict[str, Any] | None = None  # the counts object, once made (never changed)


class GroupFigures:
    """Reads groups' figures, keeping each for at most `cache_seconds` in this process."""

    def __init__(self, stats: StatsService, cache_seconds: float = GROUP_CACHE_SECONDS) -> None:
        self._stats = stats
        self._seconds = cache_seconds
        self._readings: dict[str, Reading] = {}
        self._reading: dict[str, asyncio.Future[Reading]] = {}
        self._sites: dict[str, tuple[bytes, Site]] = {}  # settings as stored, and parsed
        # each group's member sites when their settings were last read: when, ids, settings
        self._members: dict[str, tuple[float, list[str], list[Site]]] = {}
        self._groups: tuple[str, dict[str, Group]] | None = None  # every group, and version

    async def counts(self, group_id: str, site_id: str | None = None) -> dict[str, Any]:
        """Return a group's counts (DESIGN §3 without path and page, with `sites`: how many
        distinct member sites). Given a site, say whether it is a member (`member`) and take
        its own figures fresh."""
        reading = await self.reading(group_id)
        if site_id is None:
            if reading.body is None:  # made once per reading: most reads are of a kept one
                reading.body = _body(reading, reading.sums)
            return reading.body
        sums = reading.sums
        own = reading.figures.get(site_id)
        if own is not None:
            fresh = _figures_of(await self._stats.counts(site_id, None))
            sums = [total - old + new for total, old, new in zip(sums, own, fresh, strict=True)]
        return {**_body(reading, sums), "member": site_id in reading.figures}

    async def ranked(self, group_id: str, window: str) -> dict[str, Any]:
        """Return the group's member sites ranked by views of a window (then by id), each
        with its visits and online."""
        _check_window(window)
        return _ranked(await self.reading(group_id), window)

    async def counts_and_ranked(
        self, group_id: str, window: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return the group's counts and its member sites ranked, both of one reading (a
        refresh between two reads would make them disagree)."""
        _check_window(window)
        reading = await self.reading(group_id)
        if reading.body is None:
            reading.body = _body(reading, reading.sums)
        return reading.body, _ranked(reading, window)

    async def reading(self, group_id: str) -> Reading:
        """Return what was read of the group, read again if older than the cache allows."""
        now = self._stats.now()
        kept = self._readings.get(group_id)
        if kept is not None and now - kept.at < self._seconds:
            if now - kept.at >= self._seconds * REFRESH_AT:
                self._read_soon(group_id)
            return kept
        return await asyncio.shield(self._read_soon(group_id))

    def _read_soon(self, group_id: str) -> asyncio.Future[Reading]:
        """Start reading a group unless a read of it is under way; return that read."""
        pending = self._reading.get(group_id)
        if pending is None:
            pending = self._reading[group_id] = asyncio.ensure_future(self._read(group_id))
            pending.add_done_callback(lambda done: self._finished(group_id, done))
        return pending

    def _finished(self, group_id: str, done: asyncio.Future[Reading]) -> None:
        self._reading.pop(group_id, None)
        if done.cancelled():
            return
        error = done.exception()
        if error is None:
            self._readings[group_id] = done.result()
        elif isinstance(error, UnknownGroup):
            self._readings.pop(group_id, None)

    async def _read(self, group_id: str) -> Reading:
        stats = self._stats
        now = stats.now()
        groups = await self._all_groups()
        group = groups.get(group_id)
        if group is None:
            raise UnknownGroup(group_id)
        site_ids, _ = resolve(groups, group_id)
        kept = self._members.get(group_id)
        if kept is not None and kept[1] == site_ids and now - kept[0] < SITE_CACHE_SECONDS:
            sites = kept[2]  # settings change rarely: read as often as the hit path reads them
        else:
            sites = self._parsed(site_ids, await stats.store.site_records(site_ids))
            self._members[group_id] = (now, site_ids, sites)
        sections: dict[tuple[str, str, int], Section] = {}
        calendars: dict[tuple[str, str], Windows] = {}
        for site in sites:
            zone = (site.timezone, site.week_start)
            if zone not in calendars:
                calendars[zone] = windows_at(now, site.zone, site.week_start)
            key = (*zone, site.online_window)
            if key not in sections:
                since = int(now * 1000) - site.online_window * 1000
                sections[key] = Section(calendars[zone], since, [])
            sections[key].sites.append(site.id)
        figures: dict[str, list[int]] = {}
        sums = [0] * FIGURES
        if sites:
            figures, sums = await stats.store.many_figures(list(sections.values()))
        return Reading(now, group, sites, figures, sums)

    async def _all_groups(self) -> dict[str, Group]:
        """Return every group: the records kept while the groups' version is the same (one
        GET), else read again (an id of no group costs a request no more than that GET)."""
        store = self._stats.store
        kept = self._groups
        if kept is not None and kept[0] == await store.groups_version():
            return kept[1]
        version, records = await store.groups_state()
        self._groups = (version, groups_from_records(records))
        return self._groups[1]

    def _parsed(self, site_ids: list[str], records: list[bytes | None]) -> list[Site]:
        """Return the sites of these settings (JSON), parsed only when they changed."""
        if len(self._sites) > MAX_KEPT_SITES:
            self._sites.clear()
        sites = []
        for site_id, raw in zip(site_ids, records, strict=True):
            if raw is None:
                continue  # gone meanwhile
            kept = self._sites.get(site_id)
            if kept is None or kept[0] != raw:
                kept = self._sites[site_id] = (raw, site_from_json(site_id, json.loads(raw)))
            sites.append(kept[1])
        return sites

    def forget(self) -> None:
        """Drop every kept reading (a group changed in this process)."""
        self._readings.clear()
        self._members.clear()
        self._groups = None


def _check_window(window: str) -> None:
    """Raise BadInput unless `window` is one of WINDOWS."""
    if window not in WINDOWS:
        raise BadInput("invalid_window", f"window must be one of {', '.join(WINDOWS)}")


def _ranked(reading: Reading, window: str) -> dict[str, Any]:
    """Return the reading's member sites ranked by views of a window (then by id)."""
    at = WINDOWS.index(window)
    figures = reading.figures
    ranked = sorted(reading.sites, key=lambda site: (-figures[site.id][at], site.id))
    rows = [
        {
            "site": site.id,
            "name": site.name,
            "views": figures[site.id][at],
            "visits": figures[site.id][5 + at],
            "online": figures[site.id][10],
        }
        for site in ranked
    ]
    return {"group": reading.group.id, "window": window, "sites": rows}


def _figures_of(counts: dict[str, Any]) -> list[int]:
    """Return a site's counts object as the FIGURES integers of a reading."""
    views, visits = counts["views"], counts["visits"]
    return [*(views[w] for w in WINDOWS), *(visits[w] for w in WINDOWS), counts["online"]]


def _body(reading: Reading, sums: list[int]) -> dict[str, Any]:
    """Return the group's counts object."""
    zones = {site.timezone for site in reading.sites}
    locales = Counter(site.locale for site in reading.sites)
    zone = next(iter(zones)) if len(zones) == 1 else None
    today = None
    if zone is not None:
        site = reading.sites[0]
        today = windows_at(reading.at, site.zone, site.week_start).today.isoformat()
    return {
        "group": reading.group.id,
        "name": reading.group.name,
        "sites": len(reading.sites),
        "date": today,  # null when the members are in several zones: each has its own day
        "timezone": zone,
        "locale": locales.most_common(1)[0][0] if locales else "vi",
        "online": sums[10],
        "views": dict(zip(WINDOWS, sums[0:5], strict=True)),
        "visits": dict(zip(WINDOWS, sums[5:10], strict=True)),
    }
