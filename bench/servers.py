"""The comparison servers of the benchmark, with the same worker setup as statsvc.

  A, "bare":  reads the POST body and answers a small JSON object, on uvloop as statsvc is;
              "bare-asyncio" the same on asyncio's own event loop.
  B, "naive": parses the JSON, makes an HMAC visitor id and awaits one redis-py EVALSHA of a
              15-command script per request: the design statsvc must beat.

Usage: python bench/servers.py bare|naive PORT WORKERS [REDIS_URL]
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import sys
import time
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from statsvc.serve import new_event_loop

SALT = b"bench-salt"
NAIVE_SCRIPT = (Path(__file__).parent / "naive.lua").read_text()


async def bare(request: web.Request) -> web.Response:
    """Read the body; answer a small JSON object."""
    await request.read()
    return web.json_response({"ok": True})


async def naive(request: web.Request) -> web.Response:
    """Count with one awaited EVALSHA per request."""
    data = json.loads(await request.read())
    ip, ua = request.remote or "", request.headers.get("User-Agent", "")
    visitor = hmac.new(SALT, f"{data['site']}\0{ip}\0{ua}".encode(), hashlib.sha256).hexdigest()[
        :16
    ]
    path = data["url"].split("/", 3)[-1]
    site = data["site"]
    keys = [
        f"n:{{{site}}}:{name}" for name in ("total", "day", "visitors", "online", "pages", "ids")
    ]
    script = request.app[SCRIPT]
    total, today, visits, online, page = await script(
        keys=keys, args=[visitor, path, int(time.time() * 1000), data["id"]]
    )
    return web.json_response(
        {
            "views": {"total": total, "today": today},
            "visits": {"today": visits},
            "online": online,
            "page": {"total": page},
        }
    )


REDIS = web.AppKey("redis", Redis)
SCRIPT = web.AppKey("script", AsyncScript)


def run(kind: str, port: int, redis_url: str | None) -> None:
    """Serve one worker on the shared port."""
    app = web.Application()
    if kind == "naive":
        assert redis_url is not None

        async def connect(app: web.Application):  # type: ignore[no-untyped-def]
            app[REDIS] = Redis.from_url(redis_url)
            app[SCRIPT] = app[REDIS].register_script(NAIVE_SCRIPT)
            yield
            await app[REDIS].aclose()

        app.cleanup_ctx.append(connect)
    app.router.add_post("/api/v1/hit", naive if kind == "naive" else bare)
    loop = asyncio.new_event_loop() if kind == "bare-asyncio" else new_event_loop()
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        reuse_port=True,
        access_log=None,
        print=None,
        loop=loop,  # statsvc's event loop (uvloop), so the comparison is of the same stack
    )


def main() -> None:
    """Start WORKERS processes of one kind."""
    kind, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    redis_url = sys.argv[4] if len(sys.argv) > 4 else None
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=run, args=(kind, port, redis_url)) for _ in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()


if __name__ == "__main__":
    main()
