"""Text a client sends: which characters a page may not hold, and log lines it cannot forge."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from statsvc.core.errors import BadInput
from statsvc.core.pageview import check_path_text
from statsvc.core.text import has_invisible, one_line

INVISIBLE_CATEGORIES = ("Cf", "Zl", "Zp")


def test_every_invisible_character_of_this_python_is_refused() -> None:
    """The written list of format characters and separators holds every one this Python's
    Unicode database names, and no other character it knows (a newer Unicode's, unassigned
    in an older Python, may be in it)."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category in INVISIBLE_CATEGORIES:
            assert has_invisible(char), f"U+{code:04X}"
        elif category != "Cn":
            assert not has_invisible(char), f"U+{code:04X}"


@pytest.mark.parametrize(
    "text",
    ["/a\u202e", "/\u200b", "/\ufeffa", "/a\u2028", "/a\u2029", "/\u00ad", "/a\x1b", "/\ud800"],
)
def test_check_path_text_refuses_what_does_not_show_as_itself(text: str) -> None:
    """check_path_text (the check of hits, pings, counts, badges and imports) refuses control,
    format and separator characters and lone surrogates with invalid_path."""
    with pytest.raises(BadInput) as caught:
        check_path_text(text)
    assert caught.value.code == "invalid_path"


def test_check_path_text_returns_a_visible_path() -> None:
    """A path that shows as it is comes back unchanged."""
    assert check_path_text("/tin-t\u1ee9c/a b") == "/tin-t\u1ee9c/a b"


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("/a\n2026-11-26 statsvc forged", "/a\\x0a2026-11-26 statsvc forged"),
        ("/a\r\n", "/a\\x0d\\x0a"),
        ("/\x1b[31mred\x1b[0m", "/\\x1b[31mred\\x1b[0m"),
        ("/\x9b31m", "/\\x9b31m"),  # the one-byte CSI of C1
        ("/x\u202egnp.exe", "/x\\u202egnp.exe"),
        ("/a\u2028b\u2029", "/a\\u2028b\\u2029"),
        ("/\u200b\u2066\ufeff", "/\\u200b\\u2066\\ufeff"),
        ("/\ud800", "/\\ud800"),
        ("/\U000e0041", "/\\U000e0041"),
        ("/a\\x0a", "/a\\\\x0a"),  # a written escape cannot pass for an escaped character
        ("/tin-t\u1ee9c", "/tin-t\u1ee9c"),
        (ValueError("bad\nline"), "bad\\x0aline"),
    ],
)
def test_one_line_escapes_what_could_forge_or_colour_a_log_line(value: object, line: str) -> None:
    """one_line writes control, format and separator characters, lone surrogates and the
    backslash as escapes; other text stays as it is."""
    assert one_line(value) == line
    assert one_line(value).isprintable()
