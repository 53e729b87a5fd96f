"""GET /api/v1/sites/{site}/report and /api/v1/groups/{group}/report (DESIGN §5): the period
report as JSON, CSV or XLSX, read with the admin token or a token of the site (or group), as
/series and a group's /stats are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from statsvc.core.calendar import local_day
from statsvc.core.errors import BadInput
from statsvc.core.periods import Period
from statsvc.http.admin_api import day, site_request
from statsvc.http.appkeys import SETTINGS, STATS
from statsvc.http.body import json_reply
from statsvc.http.groups_api import group_request
from statsvc.i18n import DEFAULT, LOCALES, reset, use
from statsvc.service import admin, report_files, reports


async def site_report(request: web.Request) -> web.Response:
    """Answer with a site's report from `from` to `to` (default: this month up to today, in
    the site's time zone)."""
    _, site_id = await site_request(request, write=False)
    form, lang = reports.check_format(request.query.get("format", "json")), report_language(request)
    stats = request.app[STATS]
    period = await _asked_period(request, lambda: admin.local_today(stats, site_id))
    report = await reports.site_report(stats, site_id, period)
    return await report_reply(report, form, lang)


async def group_report(request: web.Request) -> web.Response:
    """Answer with a group's report from `from` to `to` (default: this month up to today, in
    the instance's time zone), its member sites ranked."""
    _, group_id = await group_request(request, write=False)
    form, lang = reports.check_format(request.query.get("format", "json")), report_language(request)
    stats, zone = request.app[STATS], request.app[SETTINGS].timezone

    async def today() -> date:
        return local_day(stats.now(), ZoneInfo(zone))

    period = await _asked_period(request, today)
    report = await reports.group_report(stats, group_id, period, timezone=zone)
    return await report_reply(report, form, lang)


async def _asked_period(request: web.Request, today: Callable[[], Awaitable[date]]) -> Period:
    """Return the period of the query's `from` and `to`: without `to`, `today()`; without
    `from`, the first day of `to`'s month (400 invalid_date for a bad date)."""
    end, start = day(request, "to"), day(request, "from")
    if start is None or end is None:
        end = end or await today()
        start = start or end.replace(day=1)
    return Period(start, end)


def report_language(request: web.Request) -> str:
    """Return the language of a report's headings: `lang`, Vietnamese by default."""
    lang = request.query.get("lang", DEFAULT)
    if lang not in LOCALES:
        raise BadInput("invalid_lang", f"lang must be one of {', '.join(LOCALES)}")
    return lang


async def report_reply(report: dict[str, Any], form: str, lang: str) -> web.Response:
    """Answer with a report in a format: JSON, or a file to download in the language."""
    if form == "json":
        return json_reply(report)
    token = use(lang)
    try:
        render = report_files.to_xlsx if form == "xlsx" else report_files.to_csv
        body = await asyncio.to_thread(render, report)  # the context (language) goes along
        name = report_files.file_name(report, form)
    finally:
        reset(token)
    return web.Response(
        body=body,
        headers={
            "Content-Type": report_files.MEDIA_TYPES[form],
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
