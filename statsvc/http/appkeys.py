"""The typed keys of what the application holds."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from statsvc.core.config import Settings
from statsvc.http.assets import Asset
from statsvc.service.counting import Clock, StatsService
from statsvc.service.group_figures import GroupFigures
from statsvc.service.metrics import Metrics
from statsvc.service.signin_limit import SignInLimiter

SETTINGS: Final = web.AppKey("settings", Settings)
CLOCK: Final = web.AppKey[Clock]("clock")
STATS: Final = web.AppKey("stats", StatsService)
GROUPS: Final = web.AppKey("groups", GroupFigures)  # the groups' figures, kept a moment
SIGN_INS: Final = web.AppKey("sign_ins", SignInLimiter)
METRICS: Final = web.AppKey("metrics", Metrics)
ASSETS: Final = web.AppKey("assets", dict[str, Asset])  # the widget's files, loaded once
