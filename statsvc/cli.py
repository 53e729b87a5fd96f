"""`statsvc token|import|export|migrate`: the admin service from the command line, on the
store."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from statsvc.core.backfill import normalised, parse_csv, parse_import, parts
from statsvc.core.config import Settings
from statsvc.core.errors import StatsvcError, UnknownSite
from statsvc.core.migrate import KINDS
from statsvc.i18n import N_, _, day, number
from statsvc.serve import run_with_store
from statsvc.service import admin, auth, backfill, migrate
from statsvc.service.counting import StatsService
from statsvc.sources import SourceError, read
from statsvc.store import Store

CLI = auth.Principal("cli", None)  # who the audit trail names for the command line
FIGURES = ("views", "visits", "days", "days_total_only", "pages")  # an import's reply sums
# What `statsvc migrate` prints, in one table, translated where it is printed
MIGRATE_TEXT = {
    "would_add": N_("{kind} -> site {site}: would add (dry run, nothing written)"),
    "added": N_("{kind} -> site {site}: added"),
    "nothing": N_("{kind} -> site {site}: nothing new to add"),
    "views": N_("views"),
    "visits": N_("visits"),
    "days": N_("days"),
    "span": N_("first and last day"),
    "pages": N_("pages"),
    "raced": N_("{skipped} import(s) were applied by another run of the same source first"),
}


async def save_site(
    store: Store, settings: Settings, site_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Create a site or change the settings given (`statsvc site add`), in the audit trail;
    return all its settings."""
    saved, _ = await admin.save_settings(
        StatsService(store, time.time),
        site_id,
        changes,
        CLI,
        timezone=settings.timezone,
        locale=settings.locale,
    )
    return saved


def token_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc token create|list|revoke SITE`."""

    async def run(store: Store) -> Any:
        stats = StatsService(store, time.time)
        if args.action == "create":
            return await auth.create_token(stats, args.site, CLI)
        if args.action == "list":
            return await auth.list_tokens(stats, args.site)
        return await auth.revoke_token(stats, args.site, args.token_id, CLI)

    result = _run(settings, run)
    if args.action == "create":
        notice = _(
            "statsvc: token {token} of site “{site}”: shown this once, only its hash is kept"
        )
        print_new_token(result, notice.format(token=result["token_id"], site=args.site))
    elif args.action == "list":
        print(json.dumps(result, indent=2))
    elif not result:
        raise SystemExit(
            _("statsvc: site “{site}” has no token “{token}”").format(
                site=args.site, token=args.token_id
            )
        )
    return 0


def export_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc export SITE`: the export document on stdout."""

    async def run(store: Store) -> dict[str, Any]:
        return await backfill.export_site(StatsService(store, time.time), args.site)

    print(json.dumps(_run(settings, run), ensure_ascii=False))
    return 0


def import_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc import SITE FILE`: a JSON import (or export) document, or a CSV of
    `date,views,visits`, applied in parts of 1,000 days, each once however often it is run."""
    raw = Path(args.file).read_bytes()
    default_id = "file:" + hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8-sig")
    if args.file.endswith(".csv") or text.lstrip().lower().startswith("date"):
        document: Any = {"import_id": default_id, "days": parse_csv(text)}
    else:
        document = json.loads(text)
        if isinstance(document, dict):
            document.setdefault("import_id", default_id)
    if args.import_id and isinstance(document, dict):
        document["import_id"] = args.import_id
    checked = parse_import(document)  # a bad file fails here, before the store is opened

    async def run(store: Store) -> dict[str, Any]:
        stats = StatsService(store, time.time)
        if await store.get_site(args.site) is None and isinstance(document.get("site"), dict):
            changes = {k: v for k, v in document["site"].items() if k != "id"}
            await admin.save_settings(stats, args.site, changes, CLI, timezone="", locale="")
        whole = normalised(checked, (await stats.site(args.site)).query_keys)
        cut = parts(whole)
        summary: dict[str, Any] = dict.fromkeys(FIGURES, 0)
        summary |= {"import_id": whole.import_id, "parts": len(cut), "applied": 0, "skipped": 0}
        done = 0
        for n, part in enumerate(cut, start=1):
            reply = await backfill.apply_import(stats, args.site, part, CLI)
            done += len(part.days)
            if reply["imported"]:
                summary["applied"] += 1
                for name in FIGURES:
                    summary[name] += reply[name]
            else:
                summary["skipped"] += 1
            if len(cut) > 1:
                if reply["imported"]:
                    line = _("statsvc: part {n}/{parts} imported: {done} of {days} days")
                else:
                    line = _("statsvc: part {n}/{parts} already imported: {done} of {days} days")
                done_days, days = number(done), number(len(whole.days))
                print(line.format(n=n, parts=len(cut), done=done_days, days=days), file=sys.stderr)
        return summary

    print(json.dumps(_run(settings, run)))
    return 0


def migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run `statsvc migrate KIND --from URL --site SITE`: read the old counter (exit status 2
    and nothing written when it cannot be read), then add what it has beyond earlier runs."""
    try:
        reading = read(
            args.kind,
            args.source_url,
            prefix=args.prefix,
            initial=args.initial,
            host=args.site_host,
            urls=args.urls,
        )
    except SourceError as exc:
        print(f"statsvc: {args.kind}: {exc}", file=sys.stderr)
        return 2

    async def run(store: Store) -> dict[str, Any]:
        return await migrate.migrate(
            StatsService(store, time.time),
            args.site,
            reading.source,
            reading.snapshot_of,
            reading.origin,
            CLI,
            dry_run=args.dry_run,
        )

    result = _run(settings, run)
    print(migrate_table(result, args.kind, args.site))
    return 0


def migrate_table(result: dict[str, Any], kind: str, site: str) -> str:
    """Return what a migration adds (or would add) as the table `statsvc migrate` prints."""
    text = {name: _(message) for name, message in MIGRATE_TEXT.items()}
    empty = not (result["views"] or result["visits"] or result["days"] or result["pages"])
    head = "would_add" if result.get("dry_run") else "nothing" if empty else "added"
    lines = [text[head].format(kind=kind, site=site)]
    if not empty:
        span = "-"
        if result["days"]:
            first, last = (date.fromisoformat(result[k]) for k in ("first_day", "last_day"))
            span = f"{day(first)} .. {day(last)}"
        rows = [
            (text["views"], number(result["views"])),
            (text["visits"], number(result["visits"])),
            (text["days"], number(result["days"])),
            (text["span"], span),
            (text["pages"], number(result["pages"])),
        ]
        width = max(len(name) for name, _ in rows)
        lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    if result.get("skipped"):
        lines.append(text["raced"].format(skipped=result["skipped"]))
    return "\n".join(lines)


def _run(settings: Settings, action: Any) -> Any:
    """Run an action on the store; turn the admin service's refusals into an exit message."""
    try:
        return run_with_store(settings, action)
    except UnknownSite as exc:
        raise SystemExit(_("statsvc: no site “{site}”").format(site=exc.site)) from None
    except StatsvcError as exc:  # BadInput, Conflict, …
        raise SystemExit(f"statsvc: {exc}") from None


def add_parsers(commands: Any, store: argparse.ArgumentParser, site_id: Any) -> None:
    """Add the token, import and export commands to the command-line parser."""
    token = commands.add_parser("token", help=_("make, list or revoke a site's read-only tokens"))
    sub = token.add_subparsers(dest="action", required=True, title=_("commands"))
    for name, text in (("create", _("make a token (printed once)")), ("list", _("list tokens"))):
        made = sub.add_parser(name, parents=[store], help=text)
        made.add_argument("site", type=site_id, help=_("the site's id"))
    revoke = sub.add_parser("revoke", parents=[store], help=_("revoke a token"))
    revoke.add_argument("site", type=site_id, help=_("the site's id"))
    revoke.add_argument("token_id", help=_("the token's id (statsvc token list SITE)"))
    load = commands.add_parser(
        "import", parents=[store], help=_("import an older counter's counts")
    )
    load.add_argument("site", type=site_id, help=_("the site's id"))
    load.add_argument(
        "file", help=_("a JSON import or export document, or a CSV date,views,visits")
    )
    load.add_argument("--import-id", help=_("the import's id (default: file:<SHA-256 of FILE>)"))
    export = commands.add_parser("export", parents=[store], help=_("print a site's export (JSON)"))
    export.add_argument("site", type=site_id, help=_("the site's id"))
    move = commands.add_parser(
        "migrate",
        parents=[store],
        help=_("add an old counter's figures, read from its own storage"),
    )
    move.add_argument("kind", choices=KINDS, help=_("the old counter"))
    move.add_argument(
        "--from",
        dest="source_url",
        required=True,
        metavar="URL",
        help=_("mysql://user:password@host:port/database, or redis://host:port/db for busuanzi"),
    )
    move.add_argument("--site", required=True, type=site_id, help=_("the statsvc site to add to"))
    move.add_argument("--prefix", help=_("the old counter's table (or key) prefix"))
    move.add_argument(
        "--initial",
        type=_whole,
        help=_("an opening balance the old counter kept outside its tables"),
    )
    move.add_argument(
        "--host", dest="site_host", help=_("busuanzi: the site's host as busuanzi saw it")
    )
    move.add_argument(
        "--urls", type=Path, help=_("busuanzi: a file of the site's URLs, one a line")
    )
    move.add_argument(
        "--dry-run", action="store_true", help=_("print what would be added; write nothing")
    )


def _whole(value: str) -> int:
    if not value.isdigit() or int(value) > 10**10:
        raise argparse.ArgumentTypeError(
            _("a whole number from 0 to {most}").format(most=number(10**10))
        )
    return int(value)


def print_new_token(made: dict[str, str], notice: str) -> None:
    """Print a token just made on stdout (for a pipe) and `notice` of it on stderr."""
    print(made["token"])
    print(notice, file=sys.stderr)
