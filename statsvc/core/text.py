"""Checks of text a client sends: it must be Unicode and free of control characters."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_clean_text(text: str) -> bool:
    """Tell whether `text` is valid Unicode (no lone surrogate) without control characters."""
    if _CONTROL.search(text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
