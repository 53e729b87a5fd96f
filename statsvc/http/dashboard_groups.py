"""The dashboard's groups (DESIGN §6 /admin/groups/{group}): a group's roll-up figures, its
member sites ranked, online figures live (the site page's mechanism: static/dashboard.js
reads the page's `data-live` URL), the choice of its period report (the report page is
statsvc.http.dashboard_report's), and the site list's sites under their groups."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from statsvc.core.calendar import local_day
from statsvc.core.errors import BadInput
from statsvc.core.group import Group, check_group_id, resolve
from statsvc.http.appkeys import GROUPS, SETTINGS, STATS
from statsvc.http.audit_sentences import audit_rows
from statsvc.http.body import json_reply
from statsvc.http.dashboard import LIVE_SECONDS, METRICS, WINDOWS, readable_session, require_session
from statsvc.http.report_periods import period_choices
from statsvc.i18n import _
from statsvc.service import auth, groups
from statsvc.service.reports import GROUP_WEEK_START
from statsvc.service.sessions import Session

AUDIT_ENTRIES = 20


async def group_session(request: web.Request) -> tuple[Session, str]:
    """Return the session and the group of the URL, which the session's token may read."""
    refusal = _("This token may not read the group “{group}”.")
    return await readable_session(request, "group", check_group_id, auth.allows_group, refusal)


@aiohttp_jinja2.template("admin_group.html")
async def group(request: web.Request) -> dict[str, Any]:
    """Show one group: its figures, its member sites ranked (online live), its audit trail."""
    session, group_id = await group_session(request)
    window = request.query.get("window", "today")
    if window not in WINDOWS:
        raise BadInput("invalid_window", f"window must be one of {', '.join(WINDOWS)}")
    stats = request.app[STATS]
    figures = request.app[GROUPS]
    found, (counts, ranked), trail, members = await asyncio.gather(
        groups.get_group(stats, group_id),
        figures.counts_and_ranked(group_id, window),  # one reading: header and rows agree
        groups.group_audit(stats, group_id, AUDIT_ENTRIES),
        groups.member_sites(stats, group_id),
    )
    zone = counts["timezone"] or "UTC"
    instance_zone = request.app[SETTINGS].timezone
    calendar = ZoneInfo(instance_zone)
    return {
        "session": session,
        "group": found,
        "stats": counts,
        "ranked": ranked["sites"],
        "window": window,
        "windows": WINDOWS,
        "metrics": METRICS,
        "subgroups": _readable(session, found),
        "audit": audit_rows(trail, ZoneInfo(zone)),
        "audit_zone": zone,
        "live_seconds": LIVE_SECONDS,
        "report_zone": instance_zone,
        "report_periods": period_choices(stats, members, calendar, GROUP_WEEK_START),
        "today": local_day(stats.now(), calendar),
    }


async def live(request: web.Request) -> web.Response:
    """Answer the figures the group page updates live: the group's, and each member's online
    now and its views and visits of the page's window."""
    _, group_id = await group_session(request)
    counts, ranked = await request.app[GROUPS].counts_and_ranked(
        group_id, request.query.get("window", "today")
    )
    members = {
        row["site"]: {"online": row["online"], "views": row["views"], "visits": row["visits"]}
        for row in ranked["sites"]
    }
    body = {
        "online": counts["online"],
        "views": counts["views"],
        "visits": counts["visits"],
        "sites": members,
    }
    return json_reply(body)


@aiohttp_jinja2.template("admin_sites.html")
async def sites(request: web.Request) -> dict[str, Any]:
    """List the sites the session may read, with today's figures: under each group its
    sites, then the sites in no group."""
    session = await require_session(request)
    stats = request.app[STATS]
    ids = [
        site_id
        for site_id in await stats.site_ids()
        if auth.allows(session.principal, site_id, write=False)
    ]
    found = await asyncio.gather(*(stats.site(i) for i in ids))
    counts = await asyncio.gather(*(stats.counts(i, None) for i in ids))
    rows = [
        {"site": site, "counts": figures}
        for site, figures in sorted(zip(found, counts, strict=True), key=lambda s: s[0].id)
    ]
    grouped, ungrouped = await grouped_sites(request, session, rows)
    return {"session": session, "sites": rows, "groups": grouped, "ungrouped": ungrouped}


async def grouped_sites(
    request: web.Request, session: Session, rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the groups the session may read, each with its member sites' rows (nested
    groups resolved) and its subgroups, and the rows of the sites in none of them."""
    everything = await groups.all_groups(request.app[STATS])
    by_site = {row["site"].id: row for row in rows}
    shown: list[dict[str, Any]] = []
    in_a_group: set[str] = set()
    for found in everything.values():
        if not auth.allows_group(session.principal, found.id, write=False):
            continue
        site_ids, _ = resolve(everything, found.id)
        members = [by_site[s] for s in site_ids if s in by_site]
        in_a_group.update(row["site"].id for row in members)
        shown.append({"group": found, "sites": members, "subgroups": _readable(session, found)})
    return shown, [row for row in rows if row["site"].id not in in_a_group]


def _readable(session: Session, found: Group) -> list[str]:
    return [g for g in found.groups if auth.allows_group(session.principal, g, write=False)]
