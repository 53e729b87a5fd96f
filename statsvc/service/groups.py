"""Groups of sites (DESIGN §1, §5): making and changing them (no cycles, no unknown
members, no nesting deeper than MAX_DEPTH, every change in the group's audit trail), and
their member sites resolved through nesting. The figures of a group are
statsvc.service.group_figures'."""

from __future__ import annotations

import json
from typing import Any

from statsvc.core.errors import BadInput, Conflict, TooDeep, UnknownGroup, UnknownSite
from statsvc.core.group import (
    MAX_DEPTH,
    Group,
    cycle_through,
    groups_from_records,
    nesting_depth,
    resolve,
    updated_group,
)
from statsvc.core.site import Site, site_from_json
from statsvc.service.audit import audit_entry, iso
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService
from statsvc.store.groups import GROUP_AUDIT_CAP

SAVE_TRIES = 5  # another change of a group came between the check and the write: try again


async def all_groups(stats: StatsService) -> dict[str, Group]:
    """Return every group by id."""
    _, records = await stats.store.groups_state()
    return groups_from_records(records)


async def get_group(stats: StatsService, group_id: str) -> Group:
    """Return a group, or raise UnknownGroup."""
    group = (await all_groups(stats)).get(group_id)
    if group is None:
        raise UnknownGroup(group_id)
    return group


async def member_ids(stats: StatsService, group_id: str) -> tuple[list[str], list[str]]:
    """Return a group's distinct member site ids (nested groups resolved) and the groups it
    reaches (itself first); raise UnknownGroup."""
    groups = await all_groups(stats)
    if group_id not in groups:
        raise UnknownGroup(group_id)
    return resolve(groups, group_id)


async def member_sites(stats: StatsService, group_id: str) -> list[Site]:
    """Return a group's distinct member sites, resolved through nesting, in the order met
    (for the period reports and anyone who needs a group's sites); raise UnknownGroup."""
    site_ids, _ = await member_ids(stats, group_id)
    return await sites_of(stats, site_ids)


async def sites_of(stats: StatsService, site_ids: list[str]) -> list[Site]:
    """Return the settings of these sites, read at once (a site gone meanwhile is left out)."""
    records = await stats.store.site_records(site_ids)
    return [
        site_from_json(site_id, json.loads(raw))
        for site_id, raw in zip(site_ids, records, strict=True)
        if raw is not None
    ]


async def save_group(
    stats: StatsService, group_id: str, changes: dict[str, Any], by: Principal
) -> tuple[dict[str, Any], bool]:
    """Create a group or change the fields sent (`name`, `sites`, `groups`); return it and
    whether it is new. Refused, changing nothing: an unknown member (404), a cycle (409
    `cycle`, with its path), nesting deeper than MAX_DEPTH (422 `too_deep`)."""
    for _ in range(SAVE_TRIES):
        version, records = await stats.store.groups_state()
        groups = groups_from_records(records)
        current = groups.get(group_id)
        group = updated_group(group_id, current, changes)
        for member in group.groups:
            if member not in groups:
                raise UnknownGroup(member)
        for site_id, known in zip(
            group.sites, await stats.store.known_sites(group.sites), strict=True
        ):
            if not known:
                raise UnknownSite(site_id)
        cycle = cycle_through(groups, group)
        if cycle is not None:
            raise Conflict("cycle", "the groups would form a cycle: " + " -> ".join(cycle))
        if nesting_depth(groups, group) > MAX_DEPTH:
            raise TooDeep(
                "too_deep", f"groups may be nested at most {MAX_DEPTH} deep, this one included"
            )
        record = group.to_json()
        changed = {name: record[name] for name in changes if name != "id"}
        entry = audit_entry(iso(stats.now()), by, "group", {"created": current is None, **changed})
        if await stats.store.put_group(group_id, record, version, entry):
            return record, current is None
    raise Conflict("busy", "groups are being changed by others: try again")


async def group_audit(stats: StatsService, group_id: str, limit: int) -> list[dict[str, Any]]:
    """Return the latest entries of a group's audit trail, newest first."""
    if not 1 <= limit <= GROUP_AUDIT_CAP:
        raise BadInput("invalid_limit", f"limit must be from 1 to {GROUP_AUDIT_CAP}")
    await get_group(stats, group_id)
    return await stats.store.group_audit(group_id, limit)
