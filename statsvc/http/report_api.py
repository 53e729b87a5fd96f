"""GET /api/v1/sites/{site}/report (DESIGN §5): the period report as JSON, CSV or XLSX, read
with the admin token or the site's own token, as /series is."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from statsvc.core.errors import BadInput
from statsvc.core.periods import Period
from statsvc.http.admin_api import day, site_request
from statsvc.http.appkeys import STATS
from statsvc.http.body import json_reply
from statsvc.i18n import DEFAULT, LOCALES, reset, use
from statsvc.service import admin, report_files, reports


async def site_report(request: web.Request) -> web.Response:
    """Answer with a site's report from `from` to `to` (default: this month up to today)."""
    _, site_id = await site_request(request, write=False)
    form = reports.check_format(request.query.get("format", "json"))
    lang = report_language(request)
    stats = request.app[STATS]
    end = day(request, "to")
    start = day(request, "from")
    if start is None or end is None:
        today = await admin.local_today(stats, site_id)
        end = end or today
        start = start or end.replace(day=1)
    report = await reports.site_report(stats, site_id, Period(start, end))
    return await report_reply(report, form, lang)


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
