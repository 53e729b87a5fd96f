"""The hit lane: a hit (or a heartbeat) served on its connection as aiohttp parses it,
without the request, task, router, middleware and response objects aiohttp makes for every
request (issue 13: the hit is the product, and those cost more than the hit's own work).

HitLane is aiohttp's connection handler (RequestHandler) with one change: a message its
parser hands over is taken by the lane when it is a plain hit, else queued for aiohttp's
own handling exactly as aiohttp does. A plain hit is `POST /api/v1/hit` (or a heartbeat's
`POST /api/v1/ping`, with the same body) over HTTP/1.1,
kept alive, its body (at most a hit's, application/json or text/plain, not encoded) whole,
no Expect or Upgrade, on a connection where nothing is in progress and no access log is
kept. Everything else (a preflight, a chunked or early-sent body, an error of HTTP itself,
every other route) goes aiohttp's way, through the same parser. The lane answers as the
routes do (statsvc.http.api.hit and ping past own_edge): the same bytes, headers (less the
order), metrics and error shapes; tests/test_hit_lane.py compares the two.

Order on a connection is kept: a message that comes while the lane's hit awaits the store
(pipelined) is held, and queued for aiohttp once the hit is answered; messages parsed
together (pipelined) all go aiohttp's way, with its queue's bounds and pauses. A graceful
shutdown answers a hit in flight before the connection closes (what was held behind it is
not answered then, as aiohttp leaves pipelined requests at a shutdown).

The lane reads aiohttp's connection state (its parser, message queue, waiter, keep-alive
timer); LANE_READY tells whether this aiohttp has them, and without them every hit goes
aiohttp's way (tests/test_hit_lane.py fails then, so an upgrade of aiohttp is noticed).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from email.utils import formatdate
from functools import partial
from http import HTTPStatus
from typing import Any, NoReturn

import orjson
from aiohttp import StreamReader, web
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11, RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import HttpRequestParser
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from statsvc.core.pageview import MAX_BODY, parse_body
from statsvc.core.results import HitResult
from statsvc.http.api import REPLIES
from statsvc.http.appkeys import METRICS, SETTINGS, STATS
from statsvc.http.body import is_page_view_type
from statsvc.http.errors import error_body, problem_at
from statsvc.http.requester import read_client
from statsvc.service.counting import Beat, Flight, Landing

HIT, PING = "/api/v1/hit", "/api/v1/ping"
ROUTES = (HIT, PING)  # the lane's: a page view and a heartbeat, both a page view's body
_STATE = (
    "_parser", "_messages", "_waiter", "_payload_parser", "_upgraded", "_message_tail",
    "_force_close", "_close", "_request_count", "_buffer_paused", "_max_msg_queue_size",
    "_next_keepalive_close_time", "_keepalive_handle", "_keepalive_timeout", "_logging_enabled",
)  # fmt: skip


def _has_state() -> bool:
    """Tell whether aiohttp's RequestHandler keeps the state the lane reads."""
    names: set[str] = set()
    for kind in RequestHandler.__mro__:
        names.update(getattr(kind, "__slots__", ()))
    methods = ("_pause_reading_for_buffer", "_process_keepalive", "shutdown")
    return (
        all(name in names for name in _STATE)
        and all(hasattr(RequestHandler, m) for m in methods)
        and hasattr(HttpRequestParser, "message_consumed")  # its queue of parsed messages
    )


LANE_READY = _has_state()
_REPLY_HEAD = (
    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
    b"Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"
    b"Content-Length: %d\r\nDate: %s\r\nServer: " + SERVER_SOFTWARE.encode() + b"\r\n%s\r\n"
)
_Message = tuple[Any, Any]  # a parsed message and its payload, as aiohttp queues them
_HIT_LINE, _PING_LINE = (b"POST %s HTTP/1.1\r\n" % route.encode() for route in ROUTES)
# header fields as aiohttp's parser takes them without a doubt: a token, a colon, a value of
# visible characters, spaces, tabs and bytes past ASCII (no control character, no NUL)
_QUICK_FIELDS = re.compile(rb"(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n)+\r\n")
_QUICK_HEAD_MAX = 8190  # aiohttp's max_line_size and max_field_size: past it, its way
_QUICK_FIELDS_MAX = 128  # aiohttp's max_headers
_NOT_QUICK = frozenset(
    ("transfer-encoding", "expect", "upgrade", "content-encoding", "sec-websocket-key1")
)


def quick_hit(data: bytes) -> tuple[str, dict[str, str], bytes] | None:
    """Return the route, header fields and body of `data` when it is exactly one plain hit
    (or heartbeat) that aiohttp's parser would take as this does (tests/test_hit_lane.py holds
    the two equal), else None: a POST of the hit (or heartbeat) route over HTTP/1.1, kept
    alive, with a Host, a hit's media type, a Content-Length of at most a hit's body and
    that body whole, each field once, none that changes how the body comes (chunked,
    Expect, Upgrade, an encoding), as _take asks of a message aiohttp parsed. Values are
    aiohttp's: stripped of spaces and tabs, decoded as UTF-8 with surrogateescape."""
    if data.startswith(_HIT_LINE):
        route, start = HIT, len(_HIT_LINE)
    elif data.startswith(_PING_LINE):
        route, start = PING, len(_PING_LINE)
    else:
        return None
    end = data.find(b"\r\n\r\n", start - 2)
    if end < 0 or end > _QUICK_HEAD_MAX or not _QUICK_FIELDS.fullmatch(data, start, end + 4):
        return None
    fields: dict[str, str] = {}
    for line in data[start:end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        key = name.decode("ascii").lower()
        if key in fields or key in _NOT_QUICK:
            return None
        fields[key] = value.strip(b" \t").decode("utf-8", "surrogateescape")
    length = fields.get("content-length", "")
    connection = fields.get("connection", "keep-alive")
    if (
        not is_page_view_type(fields.get("content-type", ""))
        or len(fields) > _QUICK_FIELDS_MAX
        or "host" not in fields
        or not _is_length(length, MAX_BODY)
        or len(data) - end - 4 != int(length)
        or connection.lower() != "keep-alive"
    ):
        return None
    return route, fields, data[end + 4 :]


class _Clock:
    """The Date header's text, made once a second."""

    def __init__(self) -> None:
        self.second = 0
        self.text = b""

    def date(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second, self.text = now, formatdate(now, usegmt=True).encode()
        return self.text


_DATES = _Clock()


class HitLane(RequestHandler):
    """aiohttp's connection handler, with the lane for plain hits."""

    __slots__ = (
        "_app", "_busy", "_clean", "_closing", "_held", "_lane", "_remote", "_route", "_started",
    )  # fmt: skip

    def __init__(self, manager: LaneServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._lane = manager
        self._app = manager.app
        self._remote: str | None = None  # the peer's address, read at the first hit
        self._busy = False  # the lane's hit awaits the store
        self._started = 0.0  # when it came
        self._route = HIT  # its route
        self._closing: asyncio.Future[None] | None = None  # a shutdown waiting for it
        self._held: deque[_Message] = deque()  # what came meanwhile, in order
        self._clean = True  # aiohttp's parser holds nothing: a whole hit may skip it

    def data_received(self, data: bytes) -> None:
        """Parse as aiohttp does; a plain hit takes the lane, anything else is queued as
        aiohttp queues it (its data_received, less the upgrade's and body's branches, which
        stay its own)."""
        if self._force_close or self._close:
            return
        if self._payload_parser is not None or self._upgraded:
            super().data_received(data)
            return
        if self._clean and not self._busy and not self._logging_enabled and self._idle():
            quick = quick_hit(data)
            if quick is not None:  # one whole plain hit: parsed here, the same
                self._request_count += 1
                self._lane.taken += 1
                self._lane.quick += 1
                route, fields, body = quick
                forwarded = fields.get("x-forwarded-for")
                self._serve(route, fields, None if forwarded is None else [forwarded], body)
                return
        assert self._parser is not None
        messages: list[_Message]
        try:
            messages, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            messages = [(_ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD)]
            upgraded, tail = False, b""
        queued = False
        lone = len(messages) == 1  # several (pipelined): aiohttp's, its queue and its pauses
        for message, payload in messages:
            self._request_count += 1
            if self._busy or self._held:
                self._held.append((message, payload))  # after the lane's hit, in order
            elif not (lone and self._idle() and self._take(message, payload)):
                self._messages.append((message, payload))
                queued = True
        waiter = self._waiter
        if queued and waiter is not None and not waiter.done():
            waiter.set_result(None)
        if (
            not self._buffer_paused
            and len(self._messages) + len(self._held) >= self._max_msg_queue_size
        ):
            self._pause_reading_for_buffer()
        self._upgraded = upgraded
        if upgraded and tail:
            self._message_tail = tail
        self._clean = _ends_whole(data, messages) and not upgraded and not self._buffer_paused

    def _idle(self) -> bool:
        """Tell whether aiohttp is waiting for a message: no request of it in progress."""
        waiter = self._waiter
        return waiter is not None and not waiter.done() and not self._messages

    def _take(self, message: RawRequestMessage | _ErrInfo, payload: StreamReader) -> bool:
        """Serve a plain hit in the lane (True), else leave it to aiohttp (False)."""
        if (
            isinstance(message, _ErrInfo)  # refused by the parser: aiohttp answers 400
            or message.path not in ROUTES
            or message.method != "POST"
            or message.version != HttpVersion11
            or message.should_close
            or message.upgrade
            or message.chunked
            or message.compression is not None
            or self._logging_enabled
            or not payload.is_eof()
        ):
            return False
        headers = message.headers
        length = headers.get("Content-Length", "")
        media_type = headers.get("Content-Type", "")
        if (
            not _is_length(length, MAX_BODY)
            or not is_page_view_type(media_type)
            or "Expect" in headers
        ):
            return False
        assert self._parser is not None
        self._parser.message_consumed()  # taken: a slot of aiohttp's queue is free again
        self._lane.taken += 1
        forwarded = headers.getall("X-Forwarded-For", None)
        self._serve(message.path, headers, forwarded, payload.read_nowait(-1))
        return True

    def _serve(
        self, route: str, headers: Mapping[str, str], forwarded: list[str] | None, body: bytes
    ) -> None:
        """Count a hit (or send a heartbeat: `route`): at once when the service has all it
        needs at hand (its answer comes with the batch's), else by its coroutine; answer it
        when it lands."""
        started = time.perf_counter()
        self._route = route
        app = self._app
        stats = app[STATS]
        try:
            view = parse_body(body)
            if self._remote is None:
                self._remote = _remote_of(self.transport)
            trusted = app[SETTINGS].trusted_proxies
            client, untrusted = read_client(headers, forwarded, self._remote, trusted)
            stats.proxies.request(untrusted)
        except Exception as exc:  # refused before it is sent: answered at once
            self._answer(*_error(route, exc), started)
            return
        self._busy, self._started = True, started
        self._keep_open()
        hit = route == HIT
        try:  # (it may land before this returns)
            if hit:
                sent: Landing | None = stats.hit_at_once(view, client, self._landed)
            else:
                sent = stats.ping_at_once(view, client, self._landed)
        except Exception as exc:  # before it was sent
            self._finish(partial(_raise, exc))
            return
        if sent is None:  # the site's settings or the day's salt to read first
            coroutine: Coroutine[Any, Any, HitResult | dict[str, Any]]
            coroutine = stats.hit(view, client) if hit else stats.ping(view, client)
            task: asyncio.Task[HitResult | dict[str, Any]] = asyncio.ensure_future(coroutine)
            task.add_done_callback(self._done)

    def _landed(self, landing: Flight | Beat) -> None:
        self._finish(landing.land)

    def _done(self, task: asyncio.Task[HitResult | dict[str, Any]]) -> None:
        if task.cancelled():  # shut down without an answer
            self._busy = False
            self.force_close()
            self._closed_waiter()
            return
        self._finish(task.result)

    def _finish(self, land: Callable[[], HitResult | dict[str, Any]]) -> None:
        """Answer the lane's hit (or heartbeat), landed; then let what came meanwhile go on."""
        self._busy = False
        try:
            result = land()
            body = REPLIES.encode(result) if type(result) is HitResult else orjson.dumps(result)
            status, reply = 200, _reply(200, body)
        except Exception as exc:
            status, reply = _error(self._route, exc)
        self._answer(status, reply, self._started)
        if self._held:  # pipelined behind the hit: aiohttp's, in order
            self._messages.extend(self._held)
            self._held.clear()
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self._closed_waiter()

    def _closed_waiter(self) -> None:
        if self._closing is not None and not self._closing.done():
            self._closing.set_result(None)

    def _answer(self, status: int, reply: bytes, started: float) -> None:
        """Send a reply; time the request under its route, as own_edge does."""
        transport = self.transport
        if transport is not None and not self._force_close:
            transport.write(reply)
            self._keep_open()
        self._app[METRICS].request(self._route, "POST", status, time.perf_counter() - started)

    def _keep_open(self) -> None:
        """Put off the keep-alive timer's closing of the connection, as aiohttp does at
        each request (its timer closes a connection idle from its point of view)."""
        loop = self._loop
        self._next_keepalive_close_time = loop.time() + self._keepalive_timeout
        if self._keepalive_handle is None and self._keepalive_timeout > 0:
            self._keepalive_handle = loop.call_at(
                self._next_keepalive_close_time, self._process_keepalive
            )

    async def shutdown(self, timeout: float | None = 15.0) -> None:  # noqa: ASYNC109 (aiohttp's)
        """Answer the lane's hit in flight, then shut down as aiohttp does."""
        if self._busy:
            self._closing = self._loop.create_future()
            started = self._loop.time()
            await asyncio.wait([self._closing], timeout=timeout)
            if timeout is not None:  # one timeout for the whole shutdown, as aiohttp's
                timeout = max(timeout - (self._loop.time() - started), 0.0)
        await super().shutdown(timeout)


class LaneServer(web.Server):
    """aiohttp's server, its connections handled by HitLane."""

    def __init__(self, handler: Any, *, app: web.Application, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.app = app
        self.taken = 0  # hits the lane took (the rest went aiohttp's way): for tests
        self.quick = 0  # of them, those parsed by quick_hit

    def __call__(self) -> RequestHandler:
        return HitLane(self, loop=self._loop, **self._kwargs)


class LaneRunner(web.AppRunner):
    """aiohttp's application runner, its server a LaneServer (where LANE_READY)."""

    __slots__ = ()

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        if not LANE_READY:
            return server
        return LaneServer(
            server.request_handler,
            app=self.app,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


def _raise(exc: Exception) -> NoReturn:
    raise exc


def _error(route: str, exc: Exception) -> tuple[int, bytes]:
    """Return the status and reply of an error of the lane's request, as own_edge answers it."""
    problem = problem_at("POST", route, exc)
    extra = b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in problem.headers.items())
    return problem.status, _reply(problem.status, error_body(problem), extra)


def _ends_whole(data: bytes, messages: list[_Message]) -> bool:
    """Tell whether aiohttp's parser holds nothing after `data`, which gave `messages`:
    each message whole, and `data` ends with the last. It does when it ends with a head
    (a head whose body is still to come makes a message not yet whole), or when it ends
    with the one message it gave, whose head ends at the piece's first blank line: true
    unless a blank line came earlier in the piece (the end of a message's body, which then
    makes the sum short) or the head's own blank line began in the piece before (the piece
    then starts with CR or LF, and is not taken).
    tests/test_hit_lane.py cuts streams of requests anywhere to hold it."""
    if not messages or not all(payload.is_eof() for _, payload in messages):
        return False
    if data.endswith(b"\r\n\r\n"):
        return True
    message = messages[0][0]
    if len(messages) > 1 or isinstance(message, _ErrInfo) or data.startswith((b"\r", b"\n")):
        return False  # (a piece that starts so may end a head begun before: its blank line
        # is then not the piece's first, which may be in the body)
    length = message.headers.get("Content-Length", "0")
    head_end = data.find(b"\r\n\r\n")
    whole = _is_length(length, len(data)) and head_end >= 0
    return whole and head_end + 4 + int(length) == len(data)


def _is_length(text: str, most: int) -> bool:
    """Tell whether `text` is a Content-Length of at most `most` bytes, written in at most as
    many digits as `most` (longer, with zeros before it, say: aiohttp's way, whose route reads
    it, or refuses one too long for Python's int(), over 4,300 digits)."""
    return len(text) <= len(str(most)) and text.isascii() and text.isdigit() and int(text) <= most


def _reply(status: int, body: bytes, extra: bytes = b"") -> bytes:
    """Return a whole reply: the hit route's headers, and `extra` ones."""
    phrase = b"OK" if status == 200 else HTTPStatus(status).phrase.encode()
    return _REPLY_HEAD % (status, phrase, len(body), _DATES.date(), extra) + body


def _remote_of(transport: Any) -> str:
    """Return the peer's address as aiohttp's request.remote has it ("" for none)."""
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, (list, tuple)):
        return str(peer[0])
    return str(peer) if peer else ""
