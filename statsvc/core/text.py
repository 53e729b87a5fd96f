"""Checks of text a client sends: it must be Unicode and free of control characters; and the
one way such text is written into a log line."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Unicode's format characters (category Cf: bidi controls, zero-width marks, the BOM, tags)
# and its line and paragraph separators (Zl, Zp), as of Unicode 15 (test_text checks them
# against unicodedata): written here, since finding them at import would cost 0.1 s a process
INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# what a log line never holds as it came: controls (CR, LF, ESC...), the characters above,
# lone surrogates (a log handler cannot encode them), and the backslash that escapes them
MAX_ERROR = 300  # characters of an error's text in a line about it
_UNSAFE_IN_LOG = re.compile(f"[\\\\\x00-\x1f\x7f-\x9f{INVISIBLE}\ud800-\udfff]")


def is_clean_text(text: str) -> bool:
    """Tell whether `text` is valid Unicode (no lone surrogate) without control characters."""
    if _CONTROL.search(text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_invisible(text: str) -> bool:
    """Tell whether `text` has a format character or a line or paragraph separator: text
    that shows as other text (U+202E turns it around, U+200B is not seen at all)."""
    return not text.isascii() and _INVISIBLE.search(text) is not None


def one_line(value: object) -> str:
    """Return `value` as text fit for one log line: every control, format or separator
    character and lone surrogate written as an escape (\\x0a, \\x1b, \\u202e), a backslash
    as two, so a client can neither start a line nor colour or turn one around."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE_IN_LOG.sub(_escape, text)


def error_line(error: BaseException | str, limit: int = MAX_ERROR) -> str:
    """Return an error's text (an exception's str, or the message a driver gave) as one line
    of at most `limit` characters and "...": whitespace runs made one space (aiohttp's parser
    errors lay theirs out over lines), the rest escaped as one_line does, since an error can
    quote what a client made (a request line, a database or host name)."""
    text = error if isinstance(error, str) else str(error)
    text = one_line(" ".join(text.split()))
    return text[:limit] + "..." if len(text) > limit else text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x5C:
        return "\\\\"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
