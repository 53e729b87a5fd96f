"""The `statsvc` command: the one place that reads the environment."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from platformdirs import user_data_dir

from statsvc.app import create_app
from statsvc.client import parse_networks
from statsvc.embedded import EmbeddedStore, StoreBusy, running_url
from statsvc.keys import Keys
from statsvc.settings import Settings
from statsvc.sites import SettingsError, validate_timezone
from statsvc.store import Limits, Store
from statsvc.views import new_site

log = logging.getLogger("statsvc")
T = TypeVar("T")


def settings_from(env: Mapping[str, str], args: argparse.Namespace) -> Settings:
    """Build the settings from the environment, with command-line flags taking precedence."""

    def pick(flag: str, name: str, default: str) -> str:
        value = getattr(args, flag, None)
        return str(value) if value is not None else env.get(name, default)

    redis_url = pick("redis_url", "STATSVC_REDIS_URL", "") or None
    return Settings(
        redis_url=redis_url,
        host=pick("host", "STATSVC_HOST", "127.0.0.1"),
        port=int(pick("port", "STATSVC_PORT", "8080")),
        workers=max(1, int(pick("workers", "STATSVC_WORKERS", "1"))),
        data_dir=Path(pick("data_dir", "STATSVC_DATA_DIR", user_data_dir("statsvc"))),
        admin_token=env.get("STATSVC_ADMIN_TOKEN") or None,
        trusted_proxies=parse_networks(env.get("STATSVC_TRUSTED_PROXIES", "")),
        timezone=validate_timezone(env.get("STATSVC_TIMEZONE", "UTC")),
        locale=env.get("STATSVC_LOCALE", "vi"),
        retention_days=int(env.get("STATSVC_RETENTION_DAYS", "400")),
        page_cap=int(env.get("STATSVC_PAGE_CAP", "50000")),
        access_log=env.get("STATSVC_ACCESS_LOG", "") == "1",
    )


def serve(settings: Settings) -> int:
    """Run the service until SIGINT or SIGTERM; start the embedded store if no URL is set."""
    if not settings.admin_token:
        log.warning("STATSVC_ADMIN_TOKEN is not set: the admin API is closed")
    embedded = None
    if settings.redis_url is None:
        embedded = EmbeddedStore(settings.data_dir)
        settings = replace(settings, redis_url=embedded.start())
        log.info("embedded Valkey started, data in %s", embedded.dir)
    try:
        if settings.workers == 1:
            _run_worker(settings, reuse_port=False)
            return 0
        return _run_workers(settings)
    finally:
        if embedded is not None:
            embedded.stop()
            log.info("embedded Valkey stopped")


def _run_worker(settings: Settings, *, reuse_port: bool = True) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port or None,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=lambda _: log.info(
            "statsvc serving on http://%s:%s/ (pid %d)", settings.host, settings.port, os.getpid()
        ),
    )


def _run_workers(settings: Settings) -> int:
    """Run N worker processes that share the port (SO_REUSEPORT) and the store."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_run_worker, args=(settings,), name=f"statsvc-worker-{n}")
        for n in range(settings.workers)
    ]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.pid and worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.start()
    wait([w.sentinel for w in workers])  # the first worker to end ends them all
    stop(signal.SIGTERM, None)
    for worker in workers:
        worker.join(timeout=30)
    return 0 if stopping else 1


async def _with_store(settings: Settings, action: Callable[[Store], Awaitable[T]]) -> T:
    limits = Limits(retention_days=settings.retention_days, page_cap=settings.page_cap)
    store = Store.from_url(settings.redis_url or "", Keys(settings.key_prefix), limits)
    try:
        return await action(store)
    finally:
        await store.close()


def run_with_store(settings: Settings, action: Callable[[Store], Awaitable[T]]) -> T:
    """Run `action` on the store: the configured one, the running embedded one, or a new one."""
    if settings.redis_url is not None:
        return asyncio.run(_with_store(settings, action))
    url = running_url(settings.data_dir)
    if url is not None:
        return asyncio.run(_with_store(replace(settings, redis_url=url), action))
    embedded = EmbeddedStore(settings.data_dir)
    try:
        settings = replace(settings, redis_url=embedded.start())
        return asyncio.run(_with_store(settings, action))
    finally:
        embedded.stop()


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
        )
        if value is not None
    }

    async def add(store: Store) -> dict[str, Any]:
        current = await store.get_site(args.id)
        site = (current or new_site(args.id, settings.timezone, settings.locale)).updated(changes)
        await store.put_site(site)
        return site.to_json()

    try:
        print(json.dumps(run_with_store(settings, add), ensure_ascii=False, indent=2))
    except SettingsError as exc:
        print(f"statsvc: {exc.field}: {exc}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    top = argparse.ArgumentParser(prog="statsvc", description="Visit statistics service.")
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the HTTP service")
    run.add_argument("--host", help="address to listen on (STATSVC_HOST, 127.0.0.1)")
    run.add_argument("--port", type=int, help="port to listen on (STATSVC_PORT, 8080)")
    run.add_argument("--workers", type=int, help="worker processes (STATSVC_WORKERS, 1)")
    for sub in (run, site_parser(commands)):
        sub.add_argument("--redis-url", help="Redis/Valkey URL (STATSVC_REDIS_URL; none: embedded)")
        sub.add_argument("--data-dir", help="data directory (STATSVC_DATA_DIR)")
    return top


def site_parser(commands: Any) -> argparse.ArgumentParser:
    """Add `statsvc site …` to the commands and return its parser."""
    site: argparse.ArgumentParser = commands.add_parser("site", help="add, list or show sites")
    sub = site.add_subparsers(dest="site_command", required=True)
    add = sub.add_parser("add", help="create a site, or change the given settings")
    add.add_argument("id", type=_site_id)
    add.add_argument("--name")
    add.add_argument("--timezone", help="IANA time zone, e.g. Asia/Ho_Chi_Minh")
    add.add_argument("--week-start", choices=("monday", "sunday"))
    add.add_argument("--locale", choices=("vi", "en"))
    add.add_argument("--online-window", type=int, help="seconds (30 to 3600)")
    add.add_argument("--domain", action="append", help="hostname allowed to count (repeat)")
    add.add_argument("--query-key", action="append", help="query key that makes pages distinct")
    add.add_argument("--respect-dnt", action=argparse.BooleanOptionalAction, default=None)
    sub.add_parser("list", help="list site ids")
    sub.add_parser("show", help="show a site's settings").add_argument("id", type=_site_id)
    return site


def _site_id(value: str) -> str:
    from statsvc.sites import is_site_id

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
        return site_command(settings, args)
    except (StoreBusy, SettingsError, ValueError) as exc:
        print(f"statsvc: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
