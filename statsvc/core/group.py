"""Groups of sites (DESIGN §1 "group"): a named set of sites and other groups, nested (up to
MAX_DEPTH), without cycles. Pure: checking a group sent, finding a cycle, resolving members."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statsvc.core.errors import BadInput, Conflict
from statsvc.core.site import is_site_id

MAX_NAME = 200  # characters of a group's name
MAX_MEMBERS = 10_000  # sites, and groups, listed in one group
MAX_DEPTH = 32  # groups in the longest chain of groups nested one in another
# the largest JSON body of a group sent: both member lists full of ids of the longest (63
# characters, quoted, with ", " between), and room for the name and the rest
MAX_BODY = 2 * MAX_MEMBERS * (63 + 4) + 16 * 1024


@dataclass(frozen=True, slots=True)
class Group:
    """A group: its id (a site id's rule, in a namespace of its own), name and direct
    members."""

    id: str
    name: str = ""
    sites: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the group as the API shows and the store keeps it."""
        return {"id": self.id, "name": self.name, "sites": [*self.sites], "groups": [*self.groups]}


def group_from_json(group_id: str, data: Mapping[str, Any]) -> Group:
    """Return a group from its stored record."""
    return Group(group_id, str(data.get("name", "")), (*data["sites"],), (*data["groups"],))


def groups_from_records(records: Mapping[str, Mapping[str, Any]]) -> dict[str, Group]:
    """Return the groups of their stored records by id, sorted by id."""
    return {gid: group_from_json(gid, record) for gid, record in sorted(records.items())}


def is_group_id(value: object) -> bool:
    """Tell whether `value` is a valid group id (the rule of a site id)."""
    return is_site_id(value)


def check_group_id(value: object) -> str:
    """Return `value` if it is a valid group id, else raise BadInput."""
    if not is_group_id(value):
        raise BadInput("invalid_group", "a group id matches ^[a-z0-9][a-z0-9_-]{0,62}$")
    assert isinstance(value, str)
    return value


def updated_group(group_id: str, current: Group | None, changes: Mapping[str, Any]) -> Group:
    """Return the group with the fields sent changed (`name`, `sites`, `groups`; those not
    sent keep their values); raise BadInput for anything else."""
    group = current or Group(check_group_id(group_id))
    unknown = sorted(set(changes) - {"id", "name", "sites", "groups"})
    if unknown:
        raise BadInput("invalid_group", f"unknown field {unknown[0]!r}")
    if "id" in changes and changes["id"] != group_id:
        raise BadInput("invalid_group", "id must be the group of the URL")
    name = changes.get("name", group.name)
    if not isinstance(name, str) or len(name) > MAX_NAME or not name.isprintable():
        raise BadInput("invalid_group", f"name must be printable text of at most {MAX_NAME}")
    sites = _members(changes, "sites", group.sites)
    groups = _members(changes, "groups", group.groups)
    if group_id in groups:
        raise Conflict("cycle", f"a group cannot contain itself: {group_id} -> {group_id}")
    return Group(group_id, name.strip(), sites, groups)


def _members(changes: Mapping[str, Any], field: str, kept: tuple[str, ...]) -> tuple[str, ...]:
    """Return a list of member ids sent (each once, in the order sent), checked."""
    if field not in changes:
        return kept
    members = changes[field]
    if not isinstance(members, list) or len(members) > MAX_MEMBERS:
        raise BadInput("invalid_group", f"{field} must be a list of at most {MAX_MEMBERS} ids")
    for member in members:
        if not is_site_id(member):
            raise BadInput("invalid_group", f"{field}: {member!r} is not an id")
    return tuple(dict.fromkeys(members))


def cycle_through(groups: Mapping[str, Group], group: Group) -> list[str] | None:
    """Return a path of group ids from `group` back to itself through its subgroups, as the
    groups would be with `group` stored, or None if there is no cycle. Iterative: a chain of
    any length is walked without recursion."""
    done: set[str] = set()
    path: list[str] = [group.id]
    on_path: set[str] = {group.id}
    stack: list[Iterator[str]] = [iter(group.groups)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            left = path.pop()
            on_path.discard(left)
            done.add(left)
            continue
        if child == group.id:
            return [*path, child]
        if child in done or child in on_path:
            continue
        path.append(child)
        on_path.add(child)
        found = groups.get(child)
        stack.append(iter(found.groups if found is not None else ()))
    return None


def nesting_depth(groups: Mapping[str, Group], group: Group) -> int:
    """Return how many groups the longest chain of groups nested one in another through
    `group` holds, as the groups would be with `group` stored (which has no cycle)."""
    stored = {**groups, group.id: group}
    parents: dict[str, list[str]] = {}
    for found in stored.values():
        for child in found.groups:
            parents.setdefault(child, []).append(found.id)
    below = _longest_chain(group.id, lambda g: stored[g].groups if g in stored else ())
    above = _longest_chain(group.id, lambda g: parents.get(g, ()))
    return below + above - 1


def _longest_chain(start: str, next_of: Callable[[str], Sequence[str]]) -> int:
    """Return how many ids the longest chain from `start` along `next_of` holds (no cycle)."""
    length: dict[str, int] = {}
    stack = [start]
    while stack:
        current = stack[-1]
        if current in length:
            stack.pop()
            continue
        waiting = [n for n in next_of(current) if n not in length]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        length[current] = 1 + max((length[n] for n in next_of(current)), default=0)
    return length[start]


def resolve(groups: Mapping[str, Group], group_id: str) -> tuple[list[str], list[str]]:
    """Return a group's distinct member sites, nested groups resolved (in the order met), and
    the groups reached (itself first). A site reached twice is listed once."""
    sites: dict[str, None] = {}
    reached: dict[str, None] = {}
    todo = [group_id]
    while todo:
        current = todo.pop()
        if current in reached or current not in groups:
            continue
        reached[current] = None
        group = groups[current]
        sites.update(dict.fromkeys(group.sites))
        todo.extend(reversed(group.groups))
    return list(sites), list(reached)
