"""The `statsvc` command: subcommands and flags (statsvc.settings reads the environment)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from statsvc import cli
from statsvc.core.errors import StatsvcError
from statsvc.core.site import SettingsError, is_site_id
from statsvc.embedded import StoreBusy
from statsvc.serve import run_with_store, serve
from statsvc.settings import Settings, settings_from
from statsvc.store import Store

ADMIN_COMMANDS = {
    "token": cli.token_command,
    "import": cli.import_command,
    "export": cli.export_command,
    "migrate": cli.migrate_command,
}


def site_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc site add|list|show`."""
    if args.site_command == "list":
        for site_id in run_with_store(settings, lambda store: store.site_ids()):
            print(site_id)
        return 0
    if args.site_command == "show":
        site = run_with_store(settings, lambda store: store.get_site(args.id))
        if site is None:
            print(f"statsvc: no site {args.id!r}", file=sys.stderr)
            return 1
        print(json.dumps(site.to_json(), ensure_ascii=False, indent=2))
        return 0
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("name", args.name),
            ("timezone", args.timezone),
            ("week_start", args.week_start),
            ("locale", args.locale),
            ("online_window", args.online_window),
            ("domains", args.domain),
            ("query_keys", args.query_key),
            ("respect_dnt", args.respect_dnt),
            ("exclude_ips", args.exclude_ip),
        )
        if value is not None
    }

    async def add(store: Store) -> dict[str, Any]:
        return await cli.save_site(store, settings, args.id, changes)

    try:
        print(json.dumps(run_with_store(settings, add), ensure_ascii=False, indent=2))
    except StatsvcError as exc:
        print(f"statsvc: {exc.message}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--redis-url", help="Redis/Valkey URL (STATSVC_REDIS_URL; none: embedded)")
    store.add_argument("--data-dir", help="data directory (STATSVC_DATA_DIR)")
    top = argparse.ArgumentParser(prog="statsvc", description="Visit statistics service.")
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", parents=[store], help="run the HTTP service")
    run.add_argument("--host", help="address to listen on (STATSVC_HOST, 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to listen on (STATSVC_PORT, 8080)")
    run.add_argument(
        "--workers", help="worker processes, or auto: one per usable CPU (STATSVC_WORKERS, 1)"
    )
    site = commands.add_parser("site", help="add, list or show sites")
    sub = site.add_subparsers(dest="site_command", required=True)
    add = sub.add_parser("add", parents=[store], help="create a site, or change given settings")
    add.add_argument("id", type=_site_id)
    add.add_argument("--name")
    add.add_argument("--timezone", help="IANA time zone, e.g. Asia/Ho_Chi_Minh")
    add.add_argument("--week-start", choices=("monday", "sunday"))
    add.add_argument("--locale", choices=("vi", "en"))
    add.add_argument("--online-window", type=int, help="seconds (30 to 3600)")
    add.add_argument("--domain", action="append", help="hostname allowed to count (repeat)")
    add.add_argument("--query-key", action="append", help="query key that makes pages distinct")
    add.add_argument("--respect-dnt", action=argparse.BooleanOptionalAction, default=None)
    add.add_argument(
        "--exclude-ip",
        action="append",
        help="address or CIDR range whose views are not counted (repeat; replaces the list)",
    )
    sub.add_parser("list", parents=[store], help="list site ids")
    show = sub.add_parser("show", parents=[store], help="show a site's settings")
    show.add_argument("id", type=_site_id)
    cli.add_parsers(commands, store, _site_id)
    return top


def _site_id(value: str) -> str:
    if not is_site_id(value):
        raise argparse.ArgumentTypeError("a site id matches ^[a-z0-9][a-z0-9_-]{0,62}$")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the statsvc command line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    try:
        settings = settings_from(os.environ, args)
        if args.command == "serve":
            return serve(settings)
        if args.command in ADMIN_COMMANDS:
            return ADMIN_COMMANDS[args.command](settings, args)
        return site_command(settings, args)
    except SettingsError as exc:
        print(f"statsvc: {exc.field}: {exc}", file=sys.stderr)
        return 2
    except (StoreBusy, ValueError) as exc:
        print(f"statsvc: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
