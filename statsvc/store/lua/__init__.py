"""Lua scripts run by the store (package data)."""

from functools import cache
from importlib.resources import files


@cache
def script(name: str) -> str:
    """Return the text of one of the store's Lua scripts."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
