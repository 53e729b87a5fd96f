"""The store's groups (DESIGN §1 "group"): their records, audit trails and read-only tokens,
all under one hash tag (one cluster slot), and the figures of many sites read at once. A part
of Store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from redis.asyncio import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from statsvc.core.calendar import Windows
from statsvc.core.keys import Keys
from statsvc.store.lua import script
from statsvc.store.resp import as_bytes

GROUP_AUDIT_CAP = 1000  # entries kept in a group's audit trail
MAX_GROUP_TOKENS = 100  # read-only tokens of one group
FIGURES = 11  # views (5 windows), visits (5 windows), online: what group_read.lua gives a site


@dataclass(frozen=True, slots=True)
class Section:
    """Sites read with the same windows: one zone, week start and online window."""

    windows: Windows
    online_since_ms: int
    sites: list[str]


class GroupRecords:
    """Groups, their audit trails and tokens; the figures of many sites."""

    _redis: Any
    _keys: Keys

    async def groups_state(self) -> tuple[str, dict[str, dict[str, Any]]]:
        """Return the groups' version and every group's record by id, read together."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._keys.groups_version())
        pipe.hgetall(self._keys.groups())
        version, records = await pipe.execute()
        return (
            "" if version is None else as_bytes(version).decode(),
            {as_bytes(k).decode(): json.loads(v) for k, v in records.items()},
        )

    async def put_group(
        self, group_id: str, record: dict[str, Any], version: str, entry: dict[str, Any]
    ) -> bool:
        """Store a group and its audit entry unless a group changed since `version` was read:
        then change nothing and return False."""
        keys = [self._keys.groups(), self._keys.groups_version(), self._keys.group_audit(group_id)]
        args: list[str | int] = [
            version,
            group_id,
            json.dumps(record, ensure_ascii=False),
            json.dumps(entry, ensure_ascii=False),
            GROUP_AUDIT_CAP,
        ]
        return int(await self._group_put_script(keys=keys, args=args)) == 1

    async def group_audit(self, group_id: str, limit: int) -> list[dict[str, Any]]:
        """Return the latest entries of a group's audit trail, newest first."""
        entries = await self._redis.lrange(self._keys.group_audit(group_id), 0, limit - 1)
        return [json.loads(entry) for entry in entries]

    async def group_token(self, group_id: str, token_id: str) -> dict[str, Any] | None:
        """Return the record of a group's read-only token, or None."""
        raw = await self._redis.hget(self._keys.group_tokens(group_id), token_id)
        return None if raw is None else dict(json.loads(raw))

    async def add_group_token(
        self, group_id: str, token_id: str, record: dict[str, Any], entry: dict[str, Any]
    ) -> bool:
        """Add a group token and its audit entry, atomically (the site tokens' script: the
        two keys share the groups' slot); False if the group has MAX_GROUP_TOKENS already."""
        keys = [self._keys.group_tokens(group_id), self._keys.group_audit(group_id)]
        audit = json.dumps(entry, ensure_ascii=False)
        args: list[str | int] = [
            "hset",
            token_id,
            json.dumps(record),
            MAX_GROUP_TOKENS,
            audit,
            GROUP_AUDIT_CAP,
        ]
        return int(await self._group_adjust_script(keys=keys, args=args)) == 1

    async def known_sites(self, site_ids: Sequence[str]) -> list[bool]:
        """Tell of each site id whether it names a site (one SMISMEMBER)."""
        if not site_ids:
            return []
        found = await self._redis.smismember(self._keys.sites(), list(site_ids))
        return [bool(f) for f in found]

    async def site_records(self, site_ids: Sequence[str]) -> list[bytes | None]:
        """Return the stored settings (JSON) of many sites: GETs pipelined (in a cluster,
        one pipeline per node)."""
        pipe = self._redis.pipeline(transaction=False)
        for site_id in site_ids:
            pipe.get(self._keys.site(site_id))
        return list(await pipe.execute()) if site_ids else []

    async def many_figures(self, sections: Sequence[Section]) -> dict[str, list[int]]:
        """Read the figures of many sites, counting nothing: one script run on a single
        server, one per node in a cluster (the runs at once). Per site FIGURES integers: views
        today, yesterday, week, month, total; visits the same; online."""
        cluster = self._redis if isinstance(self._redis, RedisCluster) else None
        if cluster is None:
            return await self._read_on(None, sections)
        await cluster.initialize()
        by_node: dict[str, tuple[Any, list[Section]]] = {}
        for section in sections:
            for site_id in section.sites:
                slot = cluster.keyslot(self._keys.total(site_id))
                node = cluster.nodes_manager.get_node_from_slot(slot)
                _, parts = by_node.setdefault(node.name, (node, []))
                if not parts or parts[-1].windows is not section.windows:
                    parts.append(Section(section.windows, section.online_since_ms, []))
                parts[-1].sites.append(site_id)
        figures: dict[str, list[int]] = {}
        reads = (self._read_on(node, parts) for node, parts in by_node.values())
        for read in await asyncio.gather(*reads):
            figures.update(read)
        return figures

    async def _read_on(self, node: Any, sections: Sequence[Section]) -> dict[str, list[int]]:
        """Run the read script for these sections (on `node` of a cluster, or the server)."""
        args: list[str | int] = [*self._cuts(), len(sections)]
        for section in sections:
            windows = section.windows
            today, yday, yday_last, this_week, last_week = windows.day_fields()
            args += [section.online_since_ms, windows.month, windows.last_month]
            args += [today, yday, yday_last, this_week, last_week, len(section.sites)]
            args += section.sites
        read = self._group_read_script
        target = {} if node is None else {"target_nodes": node}
        try:
            got = await self._redis.execute_command("EVALSHA", read.sha, 0, *args, **target)
        except NoScriptError:
            got = await self._redis.execute_command("EVAL", read.script, 0, *args, **target)
        ids = [site_id for section in sections for site_id in section.sites]
        return {
            site_id: [int(n) for n in got[FIGURES * i : FIGURES * (i + 1)]]
            for i, site_id in enumerate(ids)
        }

    def _cuts(self) -> list[str]:
        """Return the key names of a site cut where its id goes, as group_read.lua takes them."""
        mark = "\x00"  # in no site id
        before, total = self._keys.total(mark).split(mark)
        month = self._keys.month(mark, "").split(mark)[1]
        online = self._keys.online(mark).split(mark)[1]
        return [before, total, month, online]

    @cached_property
    def _group_read_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("group_read.lua"))
        return registered

    @cached_property
    def _group_adjust_script(self) -> AsyncScript:  # the sites' adjust.lua, on groups' keys
        registered: AsyncScript = self._redis.register_script(script("adjust.lua"))
        return registered

    @cached_property
    def _group_put_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("group_put.lua"))
        return registered
