"""The `statsvc` command: subcommands and flags (statsvc.settings reads the environment), its
help and messages in the language of its environment (statsvc.i18n.environment_locale)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from statsvc import cli, cli_groups, i18n
from statsvc.core.errors import StatsvcError
from statsvc.core.site import SettingsError, is_site_id
from statsvc.embedded import StoreBusy
from statsvc.i18n import _
from statsvc.serve import run_with_store, serve
from statsvc.settings import Settings, settings_from
from statsvc.store import Store

ADMIN_COMMANDS = {
    "token": cli.token_command,
    "import": cli.import_command,
    "export": cli.export_command,
    "migrate": cli.migrate_command,
    "group": cli_groups.group_command,
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
            print(_("statsvc: no site “{site}”").format(site=args.id), file=sys.stderr)
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
        cause = exc.__cause__  # a setting the site model refused: told in the CLI's language
        said = f"{cause.field}: {cause.translated()}" if isinstance(cause, SettingsError) else None
        print(f"statsvc: {said or exc.message}", file=sys.stderr)
        return 2
    return 0


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, its own words (usage:) in the catalogue's language."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An argument parser whose own words (headings, -h, the error line) are the
    catalogue's; its subcommands' parsers are of this class too."""

    def __init__(self, *, add_help: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(add_help=False, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        if add_help:
            self.add_argument("-h", "--help", action="help", help=_("show this help and exit"))

    def error(self, message: str) -> NoReturn:
        """Print the usage and the error, and exit with status 2."""
        self.print_usage(sys.stderr)
        self.exit(2, _("{prog}: error: {message}").format(prog=self.prog, message=message) + "\n")


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    store = Parser(add_help=False)
    store.add_argument(
        "--redis-url", help=_("Redis/Valkey URL (STATSVC_REDIS_URL; none: embedded)")
    )
    store.add_argument("--data-dir", help=_("data directory (STATSVC_DATA_DIR)"))
    top = Parser(prog="statsvc", description=_("Visit statistics service."))
    commands = top.add_subparsers(dest="command", required=True, title=_("commands"))
    run = commands.add_parser("serve", parents=[store], help=_("run the HTTP service"))
    run.add_argument("--host", help=_("address to listen on (STATSVC_HOST, 127.0.0.1)"))
    run.add_argument("--port", type=int, help=_("port to listen on (STATSVC_PORT, 8080)"))
    run.add_argument(
        "--workers", help=_("worker processes, or auto: one per usable CPU (STATSVC_WORKERS, 1)")
    )
    site = commands.add_parser("site", help=_("add, list or show sites"))
    sub = site.add_subparsers(dest="site_command", required=True, title=_("commands"))
    add = sub.add_parser(
        "add", parents=[store], help=_("create a site, or change the settings given")
    )
    add.add_argument("id", type=_site_id, help=_("the site's id, e.g. xa-tu-son"))
    add.add_argument("--name", help=_("the site's name, as the dashboard shows it"))
    add.add_argument("--timezone", help=_("IANA time zone, e.g. Asia/Ho_Chi_Minh"))
    add.add_argument(
        "--week-start", choices=("monday", "sunday"), help=_("the first day of a week")
    )
    add.add_argument("--locale", choices=("vi", "en"), help=_("the language of the site's box"))
    add.add_argument("--online-window", type=int, help=_("seconds (30 to 3600)"))
    add.add_argument("--domain", action="append", help=_("hostname allowed to count (repeat)"))
    add.add_argument(
        "--query-key", action="append", help=_("query key that makes pages distinct (repeat)")
    )
    add.add_argument(
        "--respect-dnt",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=_("leave out the views of browsers that send Do Not Track"),
    )
    add.add_argument(
        "--exclude-ip",
        action="append",
        help=_("address or CIDR range whose views are not counted (repeat; replaces the list)"),
    )
    sub.add_parser("list", parents=[store], help=_("list site ids"))
    show = sub.add_parser("show", parents=[store], help=_("show a site's settings"))
    show.add_argument("id", type=_site_id, help=_("the site's id"))
    cli.add_parsers(commands, store, _site_id)
    cli_groups.add_group_parser(commands, store, _site_id)
    return top


def _site_id(value: str) -> str:
    if not is_site_id(value):
        raise argparse.ArgumentTypeError(
            _("a site id is 1 to 63 lowercase letters, digits, - and _ (^[a-z0-9][a-z0-9_-]*$)")
        )
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the statsvc command line, in the language of its environment."""
    language = i18n.use(i18n.environment_locale(os.environ))
    try:
        return _main(argv)
    finally:
        i18n.reset(language)


def _main(argv: Sequence[str] | None) -> int:
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
        print(f"statsvc: {exc.field}: {exc.translated()}", file=sys.stderr)
        return 2
    except (StoreBusy, ValueError) as exc:
        print(f"statsvc: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
