"""The store's groups (DESIGN §1 "group"): their records, audit trails and read-only tokens,
all under one hash tag (one cluster slot), and the figures of many sites read at once. A part
of Store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
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
CUT = "\x00"  # in no site id: where a key name is cut for the scripts to put the site id
MAX_KEPT_SLOTS = 100_000  # site ids whose cluster slot is remembered
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

    @cached_property
    def _slots(self) -> dict[str, int]:
        """The cluster slot of each site id met (a site's slot never changes)."""
        return {}

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

    async def groups_version(self) -> str:
        """Return the groups' version alone (it changes with every change of a group)."""
        version = await self._redis.get(self._keys.groups_version())
        return "" if version is None else as_bytes(version).decode()

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

    async def group_tokens(self, group_id: str) -> dict[str, dict[str, Any]]:
        """Return the records of a group's read-only tokens by token id."""
        records = await self._redis.hgetall(self._keys.group_tokens(group_id))
        return {as_bytes(k).decode(): json.loads(v) for k, v in records.items()}

    async def remove_group_token(self, group_id: str, token_id: str, entry: dict[str, Any]) -> bool:
        """Remove a group token and record it in the group's audit trail, atomically; False
        if there was none."""
        keys = [self._keys.group_tokens(group_id), self._keys.group_audit(group_id)]
        audit = json.dumps(entry, ensure_ascii=False)
        args: list[str | int] = ["hdel", token_id, "", MAX_GROUP_TOKENS, audit, GROUP_AUDIT_CAP]
        return int(await self._group_adjust_script(keys=keys, args=args)) == 1

    async def known_sites(self, site_ids: Sequence[str]) -> list[bool]:
        """Tell of each site id whether it names a site (one SMISMEMBER)."""
        if not site_ids:
            return []
        found = await self._redis.smismember(self._keys.sites(), list(site_ids))
        return [bool(f) for f in found]

    async def site_records(self, site_ids: Sequence[str]) -> list[bytes | None]:
        """Return the stored settings (JSON) of many sites, None for a site not there: one
        script run on a single server, one per node in a cluster (a pipeline of 1,000 GETs
        took redis-py 70 ms of the event loop, the script's one reply a few)."""
        before, after = self._keys.site(CUT).split(CUT)
        runs = await self._on_nodes(self._group_sites_script, [before, after], [list(site_ids)])
        got = {
            site_id: raw
            for parts, reply in runs
            for site_id, raw in zip(parts[0], reply, strict=True)
        }
        return [got.get(site_id) for site_id in site_ids]

    async def many_figures(
        self, sections: Sequence[Section]
    ) -> tuple[dict[str, list[int]], list[int]]:
        """Read the figures of many sites, counting nothing: one script run on a single
        server, one per node in a cluster (the runs at once). Return per site FIGURES
        integers (views today, yesterday, week, month, total; visits the same; online), and
        the same summed over the sites (summed by the script: adding 1,000 sites' figures up
        in Python took 6 ms of the event loop)."""
        runs = await self._on_nodes(
            self._group_read_script,
            self._cuts(),
            [section.sites for section in sections],
            lambda n, sites: _section_args(sections[n], sites),
        )
        figures: dict[str, list[int]] = {}
        sums = [0] * FIGURES
        for parts, reply in runs:
            sites = [site_id for part in parts for site_id in part]
            for i, site_id in enumerate(sites):
                figures[site_id] = reply[FIGURES * i : FIGURES * (i + 1)]  # integers (RESP)
            sums = [a + b for a, b in zip(sums, reply[-FIGURES:], strict=True)]
        return figures, sums

    async def _on_nodes(
        self,
        read: AsyncScript,
        head: list[str],
        parts: list[list[str]],
        part_args: Callable[[int, list[str]], list[str | int]] | None = None,
    ) -> list[tuple[list[list[str]], Any]]:
        """Run a read-only script over many sites: once on a single server; in a cluster
        once per node (the runs at once), each with the sites whose slots it serves. Its
        arguments: `head`, then with `part_args` the number of parts and each part's
        arguments, else the site ids. Return each run's parts (their sites) and its reply."""
        cluster = self._redis if isinstance(self._redis, RedisCluster) else None
        runs: dict[str, tuple[Any, list[list[str]]]] = {}
        if cluster is None:
            runs[""] = (None, parts)
        else:
            await cluster.initialize()
            slots = self._slots
            if len(slots) > MAX_KEPT_SLOTS:
                slots.clear()
            nodes: dict[int, Any] = {}  # the slot map may change: read once per run
            for n, sites in enumerate(parts):
                for site_id in sites:
                    slot = slots.get(site_id)
                    if slot is None:
                        slot = slots[site_id] = cluster.keyslot(self._keys.site(site_id))
                    node = nodes.get(slot)
                    if node is None:
                        node = nodes[slot] = cluster.nodes_manager.get_node_from_slot(slot)
                    on_node = runs.setdefault(node.name, (node, [[] for _ in parts]))[1]
                    on_node[n].append(site_id)

        async def run(node: Any, on_node: list[list[str]]) -> tuple[list[list[str]], Any]:
            args: list[str | int] = [*head]
            if part_args is None:
                args.append(",".join(on_node[0]))
            else:
                args.append(len(on_node))
                for n, sites in enumerate(on_node):
                    args += part_args(n, sites)
            target = {} if node is None else {"target_nodes": node}
            try:
                reply = await self._redis.execute_command("EVALSHA", read.sha, 0, *args, **target)
            except NoScriptError:
                reply = await self._redis.execute_command("EVAL", read.script, 0, *args, **target)
            return on_node, reply

        return list(await asyncio.gather(*(run(node, on) for node, on in runs.values())))

    def _cuts(self) -> list[str]:
        """Return the key names of a site cut where its id goes, as group_read.lua takes them."""
        before, total = self._keys.total(CUT).split(CUT)
        month = self._keys.month(CUT, "").split(CUT)[1]
        online = self._keys.online(CUT).split(CUT)[1]
        return [before, total, month, online]

    @cached_property
    def _group_sites_script(self) -> AsyncScript:
        registered: AsyncScript = self._redis.register_script(script("group_sites.lua"))
        return registered

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


def _section_args(section: Section, sites: list[str]) -> list[str | int]:
    """Return a section's arguments of group_read.lua, for these of its sites."""
    windows = section.windows
    today, yday, yday_last, this_week, last_week = windows.day_fields()
    return [
        *(section.online_since_ms, windows.month, windows.last_month),
        *(today, yday, yday_last, this_week, last_week, ",".join(sites)),
    ]
