"""Log lines about requests: a client's text in them escaped to one line (core.text.one_line),
and a kind of line any client can cause at will (a store failure, a malformed request)
written at most once per LOG_EVERY seconds: a flood of lines (or a stderr nobody drains) must
not become the next outage."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from statsvc.core.text import error_line, one_line

LOG_EVERY = 10.0  # seconds between two lines of one kind
SERVER_ERROR = "Error handling request from %s"  # aiohttp's line about a request it refused


class Throttle:
    """Let one line of a kind through per `every` seconds, counting the others."""

    def __init__(
        self, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.every = every
        self.clock = clock
        self.logged_at = -math.inf
        self.unlogged = 0

    def left_out(self) -> int | None:
        """Return None if a line now would come too soon after the last (counting it as left
        out), else how many were left out since the last line (counting again from 0)."""
        now = self.clock()
        if now - self.logged_at < self.every:
            self.unlogged += 1
            return None
        left_out, self.logged_at, self.unlogged = self.unlogged, now, 0
        return left_out


def error_text(exc: BaseException) -> str:
    """Return an error as one short line: its class and its text, whitespace runs (aiohttp's
    parser errors lay theirs out over lines) made one space, the rest escaped."""
    text = error_line(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ServerLines(logging.Filter):
    """Make aiohttp's lines about requests it refused (logger aiohttp.server) one line each,
    at most one per LOG_EVERY seconds: a malformed request line or header, which its parser
    refuses before statsvc sees the request, is otherwise an 11-line traceback per request.
    The client's address is left out (statsvc keeps no IP, not even in its logs); the
    error's text, which quotes the request, is escaped. Its other lines (a bug: an unhandled
    exception) keep their traceback, their message escaped."""

    def __init__(self) -> None:
        super().__init__()
        self.throttle = Throttle()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != SERVER_ERROR:
            record.msg = one_line(record.getMessage())
            record.args = None
            return True
        left_out = self.throttle.left_out()
        if left_out is None:
            return False
        line = "aiohttp refused a request"
        if record.exc_info and record.exc_info[1] is not None:
            line += ": " + error_text(record.exc_info[1])
        record.msg = f"{line} (and {left_out} more since the last such line)"
        record.args = None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class OneLine(logging.Filter):
    """Escape a logger's lines to one line each (aiohttp's access log quotes the request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = one_line(record.getMessage())
        record.args = None
        return True
