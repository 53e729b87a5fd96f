"""Running the service: the embedded store, one or N worker processes, one-off store access."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import signal
from collections.abc import Awaitable, Callable
from dataclasses import replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from prometheus_client.multiprocess import mark_process_dead

from statsvc.app import create_app
from statsvc.core.config import Settings
from statsvc.core.keys import Keys
from statsvc.embedded import EmbeddedStore, running_url
from statsvc.http.lane import LaneRunner
from statsvc.http.logs import OneLine, ServerLines
from statsvc.store import Limits, Store

log = logging.getLogger("statsvc")
GC_THRESHOLD = 10_000  # allocations between two passes of the youngest generation (700)
ACCESS_LOG_FORMAT = '%t "%r" %s %b %Tf'  # aiohttp's default less %a, the client's address
T = TypeVar("T")


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


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return uvloop's event loop where it is installed (it is on Linux and macOS), else
    asyncio's: the hit path spends much of its time in the loop's socket handling."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _run_worker(settings: Settings, *, reuse_port: bool = True) -> None:
    """Serve in this process until SIGINT or SIGTERM: aiohttp's run_app, less its printing,
    with the hit lane's runner (statsvc.http.lane)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiohttp.server").addFilter(ServerLines())
    logging.getLogger("aiohttp.access").addFilter(OneLine())
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve_app(settings, reuse_port))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve_app(settings: Settings, reuse_port: bool) -> None:
    runner = LaneRunner(
        create_app(settings),
        handle_signals=True,  # SIGINT and SIGTERM raise GracefulExit
        keepalive_timeout=settings.client_timeout,  # create_app's handler_args say the same
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        access_log_format=ACCESS_LOG_FORMAT,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port or None)
        await site.start()
        # what start-up made lives as long as the process: kept out of the collector's
        # passes, which a hit's short-lived objects then set off far less often (issue 13)
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        log.info(
            "statsvc serving on http://%s:%s/ (pid %d)", settings.host, settings.port, os.getpid()
        )
        await asyncio.Event().wait()  # until a signal
    finally:
        await runner.cleanup()


def _metrics_dir(data_dir: Path) -> Path:
    """Make an empty directory for the workers' metric files; point prometheus_client at it.

    prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported, which in a
    spawned worker is before anything else runs: so it is set here, for the workers to
    inherit. Emptied at each start: the files of an earlier run would add old counts in."""
    path = data_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _run_workers(settings: Settings) -> int:
    """Run N worker processes that share the port (SO_REUSEPORT), the store and the metrics."""
    settings = replace(settings, metrics_dir=_metrics_dir(settings.data_dir))
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
        if worker.pid is not None:
            mark_process_dead(worker.pid, str(settings.metrics_dir))
    return 0 if stopping else 1


async def _with_store(settings: Settings, action: Callable[[Store], Awaitable[T]]) -> T:
    limits = Limits(retention_days=settings.retention_days, page_cap=settings.page_cap)
    store = Store.from_url(
        settings.redis_url or "", Keys(settings.key_prefix), limits, timeout=settings.store_timeout
    )
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
