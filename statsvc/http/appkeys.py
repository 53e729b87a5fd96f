"""The typed keys of what the application holds."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from statsvc.service.counting import Clock, Counter
from statsvc.service.signin_limit import Attempts
from statsvc.settings import Settings

SETTINGS: Final = web.AppKey("settings", Settings)
CLOCK: Final = web.AppKey[Clock]("clock")
COUNTER: Final = web.AppKey("counter", Counter)
ATTEMPTS: Final = web.AppKey("attempts", Attempts)
