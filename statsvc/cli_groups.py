"""`statsvc group put|list|show|token`: groups of sites from the command line, on the store
(the admin service's rules: no cycles, no unknown members, every change audited)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from statsvc.cli import print_new_token
from statsvc.core.config import Settings
from statsvc.core.errors import StatsvcError
from statsvc.i18n import _
from statsvc.serve import run_with_store
from statsvc.service import auth, groups
from statsvc.service.counting import StatsService
from statsvc.store import Store

CLI = auth.Principal("cli", None)  # who the audit trail names for the command line


def group_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc group put|list|show|token`."""

    async def run(store: Store) -> Any:
        stats = StatsService(store, time.time)
        if args.group_command == "list":
            return [group.to_json() for group in (await groups.all_groups(stats)).values()]
        if args.group_command == "show":
            found = await groups.get_group(stats, args.id)
            member_sites, _ = await groups.member_ids(stats, args.id)
            return {**found.to_json(), "member_sites": member_sites}
        if args.group_command == "token":
            return await auth.create_group_token(stats, args.id, CLI)
        changes: dict[str, Any] = {}
        if args.name is not None:
            changes["name"] = args.name
        if args.site is not None:
            changes["sites"] = args.site
        if args.group is not None:
            changes["groups"] = args.group
        saved, _ = await groups.save_group(stats, args.id, changes, CLI)
        return saved

    try:
        result = run_with_store(settings, run)
    except StatsvcError as exc:
        print(f"statsvc: {exc.message}", file=sys.stderr)
        return 2
    if args.group_command == "token":
        notice = _(
            "statsvc: token {token} of group “{group}”: shown this once, only its hash is kept"
        )
        print_new_token(result, notice.format(token=result["token_id"], group=args.id))
        return 0
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def add_group_parser(commands: Any, store: argparse.ArgumentParser, group_id: Any) -> None:
    """Add `statsvc group …` to the command-line parser (`group_id` checks an id)."""
    group = commands.add_parser("group", help=_("make, list or show groups of sites"))
    sub = group.add_subparsers(dest="group_command", required=True, title=_("commands"))
    put = sub.add_parser("put", parents=[store], help=_("make a group, or change what is given"))
    put.add_argument("id", type=group_id, help=_("the group's id, e.g. huyen-son-dong"))
    put.add_argument("--name", help=_("the group's name, as the dashboard shows it"))
    put.add_argument("--site", action="append", help=_("a member site (repeat; replaces the list)"))
    put.add_argument(
        "--group", action="append", help=_("a member group (repeat; replaces the list)")
    )
    sub.add_parser("list", parents=[store], help=_("list the groups"))
    show = sub.add_parser("show", parents=[store], help=_("show a group and its member sites"))
    show.add_argument("id", type=group_id, help=_("the group's id"))
    token = sub.add_parser(
        "token", parents=[store], help=_("make a read-only token of the group (printed once)")
    )
    token.add_argument("id", type=group_id, help=_("the group's id"))
