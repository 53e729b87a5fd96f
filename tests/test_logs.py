"""Log lines about requests: one line each, escaped, and throttled where a client can cause
them at will."""

from __future__ import annotations

import logging
import sys

from aiohttp.http_exceptions import BadHttpMessage

from statsvc.http.logs import LOG_EVERY, SERVER_ERROR, OneLine, ServerLines, Throttle
from tests.helpers import FakeClock


def test_a_throttle_lets_one_line_through_per_period_and_counts_the_rest() -> None:
    """The first line goes through, the next ones within LOG_EVERY are counted, and the line
    after the period says how many were left out."""
    clock = FakeClock(1000.0)
    throttle = Throttle(clock=clock)
    assert throttle.left_out() == 0
    clock.advance(LOG_EVERY - 0.001)
    assert [throttle.left_out() for _ in range(5)] == [None] * 5
    clock.advance(0.001)
    assert throttle.left_out() == 5
    assert throttle.left_out() is None


def parser_error_record(message: str) -> logging.LogRecord:
    """Return the record aiohttp makes of a request its parser refused."""
    try:
        raise BadHttpMessage(message)
    except BadHttpMessage:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, SERVER_ERROR, ("203.0.113.9",), exc_info
    )


def test_aiohttp_parser_errors_become_one_escaped_line_without_the_address() -> None:
    """aiohttp's traceback of a malformed request is one line: its error escaped (no line
    break, no ANSI escape), no traceback, no client address; the next within the period is
    dropped."""
    lines = ServerLines()
    record = parser_error_record("Invalid header value char:\n\n  b'X: \x1b[31m\n'\n      ^")
    assert lines.filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert text == (
        "aiohttp refused a request: BadHttpMessage: 400, message: Invalid header value char:"
        " b'X: \\x1b[31m ' ^ (and 0 more since the last such line)"
    )
    assert not lines.filter(parser_error_record("again"))


def test_aiohttp_lines_about_bugs_keep_their_traceback_and_are_not_throttled() -> None:
    """aiohttp's other lines (an unhandled exception: a bug, not a client's doing) keep their
    traceback, their message escaped, however many come; a parser error's throttle is not
    spent on them."""
    lines = ServerLines()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        exc_info = sys.exc_info()
    for _ in range(3):
        record = logging.LogRecord(
            "aiohttp.server", logging.ERROR, __file__, 1, "Unhandled %s", ("\n\x1b[31m",), exc_info
        )
        assert lines.filter(record)
        assert record.getMessage() == "Unhandled \\x0a\\x1b[31m"
        assert "RuntimeError: a bug" in logging.Formatter("%(message)s").format(record)
    assert lines.filter(parser_error_record("the first of its kind"))


def test_access_log_lines_are_escaped() -> None:
    """A line of the access log is written with its control characters escaped."""
    record = logging.LogRecord(
        "aiohttp.access", logging.INFO, __file__, 1, '"GET /a\nb\x1b[0m HTTP/1.1" %d', (200,), None
    )
    assert OneLine().filter(record)
    assert record.getMessage() == '"GET /a\\x0ab\\x1b[0m HTTP/1.1" 200'
