"""`statsvc token|import|export`: the admin service from the command line, on the store."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from statsvc.core.backfill import normalised, parse_csv, parse_import, parts
from statsvc.core.config import Settings
from statsvc.core.errors import StatsvcError, UnknownSite
from statsvc.serve import run_with_store
from statsvc.service import admin, auth, backfill
from statsvc.service.counting import StatsService
from statsvc.store import Store

CLI = auth.Principal("cli", None)  # who the audit trail names for the command line
FIGURES = ("views", "visits", "days", "days_total_only", "pages")  # an import's reply sums


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
        print(result["token"])
        print(
            f"statsvc: token {result['token_id']} of site {args.site!r}: shown this once, "
            "only its hash is kept",
            file=sys.stderr,
        )
    elif args.action == "list":
        print(json.dumps(result, indent=2))
    elif not result:
        raise SystemExit(f"statsvc: site {args.site!r} has no token {args.token_id!r}")
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
                state = "imported" if reply["imported"] else "already imported"
                print(
                    f"statsvc: part {n}/{len(cut)} {state}: {done:,} of {len(whole.days):,} days",
                    file=sys.stderr,
                )
        return summary

    print(json.dumps(_run(settings, run)))
    return 0


def _run(settings: Settings, action: Any) -> Any:
    """Run an action on the store; turn the admin service's refusals into an exit message."""
    try:
        return run_with_store(settings, action)
    except UnknownSite as exc:
        raise SystemExit(f"statsvc: no site {exc.site!r}") from None
    except StatsvcError as exc:  # BadInput, Conflict, …
        raise SystemExit(f"statsvc: {exc}") from None


def add_parsers(commands: Any, store: argparse.ArgumentParser, site_id: Any) -> None:
    """Add the token, import and export commands to the command-line parser."""
    token = commands.add_parser("token", help="make, list or revoke a site's read-only tokens")
    sub = token.add_subparsers(dest="action", required=True)
    for name, text in (("create", "make a token (printed once)"), ("list", "list tokens")):
        sub.add_parser(name, parents=[store], help=text).add_argument("site", type=site_id)
    revoke = sub.add_parser("revoke", parents=[store], help="revoke a token")
    revoke.add_argument("site", type=site_id)
    revoke.add_argument("token_id")
    load = commands.add_parser("import", parents=[store], help="import an older counter's counts")
    load.add_argument("site", type=site_id)
    load.add_argument("file", help="a JSON import or export document, or a CSV date,views,visits")
    load.add_argument("--import-id", help="the import's id (default: file:<SHA-256 of FILE>)")
    export = commands.add_parser("export", parents=[store], help="print a site's export (JSON)")
    export.add_argument("site", type=site_id)
