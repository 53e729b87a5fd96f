"""Real servers on loopback for browser tests: statsvc and a portal on another origin."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")


def free_port() -> int:
    """Return a TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopThread:
    """An asyncio loop in a thread of its own, serving aiohttp apps while a sync test runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._runners: list[web.AppRunner] = []

    def run(self, coro: Awaitable[T]) -> T:
        """Run a coroutine on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(_wrap(coro), self.loop).result(timeout=30)

    def serve(self, app: web.Application, port: int, host: str = "127.0.0.1") -> None:
        """Serve `app` on host:port until close()."""

        async def start() -> None:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            self._runners.append(runner)

        self.run(start())

    def stop_serving(self, app: web.Application) -> None:
        """Stop serving one app (its port then refuses connections)."""
        for runner in [r for r in self._runners if r.app is app]:
            self.run(runner.cleanup())
            self._runners.remove(runner)

    def close(self) -> None:
        """Stop every app and the loop."""
        for runner in list(self._runners):
            self.run(runner.cleanup())
        self._runners.clear()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


async def _wrap(coro: Awaitable[T]) -> T:
    return await coro


class Portal:
    """A portal on another origin: serves pages the test writes, under a strict CSP."""

    def __init__(self, service: str) -> None:
        self.pages: dict[str, str] = {}
        self.held: dict[str, tuple[str, str, asyncio.Event]] = {}
        self.csp = (
            f"default-src 'none'; script-src {service}; connect-src {service}; "
            f"img-src {service} data:; style-src 'self'; base-uri 'none'"
        )
        self.app = web.Application()
        self.app.router.add_get("/{name:.*}", self._page)

    def hold(self, name: str, head: str, tail: str) -> asyncio.Event:
        """Publish a page sent in two parts: the tail only once the returned event is set."""
        release = asyncio.Event()
        self.held[name] = (head, tail, release)
        return release

    async def _page(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"].split("/")[0] or "index"
        headers = {"Content-Security-Policy": self.csp, "Content-Type": "text/html"}
        if name in self.held:
            head, tail, release = self.held[name]
            response = web.StreamResponse(headers=headers)
            await response.prepare(request)
            await response.write(head.encode())
            await release.wait()
            await response.write(tail.encode())
            await response.write_eof()
            return response
        if name not in self.pages:
            raise web.HTTPNotFound()
        return web.Response(text=self.pages[name], headers=headers)


def page_html(body: str, title: str = "Cổng thông tin xã Tú Sơn") -> str:
    """Return a portal page with `body` in it."""
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="icon" href="data:,"></head><body><h1>{title}</h1>{body}</body></html>'
    )
