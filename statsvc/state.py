"""The typed keys of what the application holds."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from statsvc.attempts import Attempts
from statsvc.counter import Clock, Counter
from statsvc.settings import Settings

SETTINGS: Final = web.AppKey("settings", Settings)
CLOCK: Final = web.AppKey[Clock]("clock")
COUNTER: Final = web.AppKey("counter", Counter)
ATTEMPTS: Final = web.AppKey("attempts", Attempts)
