"""What people see: the widget script, the SVG badge and the landing page."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from statsvc import __version__, i18n
from statsvc.core.box import DEFAULT_ROWS, LABELS, ROWS, BoxOptions, box_lines, box_options
from statsvc.core.group import check_group_id
from statsvc.core.pageview import NO_PAGE, PageView, check_site_id
from statsvc.http import language
from statsvc.http.api import group_counts, query_path
from statsvc.http.appkeys import ASSETS, GROUPS, SETTINGS, STATS
from statsvc.http.assets import asset_response
from statsvc.http.requester import client_of, public_origin

BADGE_WIDTH = 240  # px: the widget's width
CHAR_WIDTH = 8.6  # px: a generous width of one character at 14 px
LANDING_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def widget(request: web.Request) -> web.Response:
    """Serve widget.js (short cache) or its versioned, immutable URL."""
    asset = request.app[ASSETS]["widget.js"]
    version = request.match_info.get("version")
    if version is not None and version != asset.etag:
        raise web.HTTPNotFound()
    return asset_response(request, asset, immutable=version is not None)


async def static(request: web.Request) -> web.Response:
    """Serve the landing page's own script and style sheet."""
    asset = request.app[ASSETS].get("static/" + request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    return asset_response(request, asset)


async def badge(request: web.Request) -> web.Response:
    """Draw the box as an SVG image; count a view unless count=0. Without `path` the view is
    the site's and no page's: the page that shows the image is not known (under the browsers'
    default referrer policy its Referer names the origin only), so no page is guessed. With
    `group` it draws the group's figures (the site's own if the site is not a member); the
    view, if any, counts for `site`."""
    options = box_options(request.query)
    grouped = "group" in request.query
    site_id = request.query.get("site")
    if grouped and site_id is None:  # a group's box alone counts nothing
        counts = await group_counts(request)
        return _badge(request, options, counts)
    site_id = check_site_id(site_id)
    path = query_path(request)
    stats = request.app[STATS]
    if grouped:  # an unknown group is refused before the view counts
        await request.app[GROUPS].reading(check_group_id(request.query.get("group")))
    if options.count:
        client = client_of(request, request.app[SETTINGS].trusted_proxies)
        view = PageView(site_id, path or NO_PAGE, None, None)
        counts = (await stats.hit(view, client)).body()
    else:
        counts = await stats.counts(site_id, path)
    if grouped:
        group = await group_counts(request)
        counts = group if group["member"] else counts
    return _badge(request, options, counts)


def _badge(request: web.Request, options: BoxOptions, counts: dict[str, Any]) -> web.Response:
    """Draw a counts object as the SVG box."""
    title, lines = box_lines(counts, options, counts["locale"])
    longest = max([len(title)] + [len(label) + len(value) + 3 for label, value in lines])
    context = {
        "title": title,
        "lines": lines,
        "theme": options.theme,
        "width": max(BADGE_WIDTH, 24 + round(CHAR_WIDTH * longest)),
    }
    response = aiohttp_jinja2.render_template("badge.svg", request, context)
    response.content_type = "image/svg+xml"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


async def landing(request: web.Request) -> web.Response:
    """Show what statsvc is, the live box, a sample portal and the snippet builder, in the
    page's language."""
    base = public_origin(request, request.app[SETTINGS].trusted_proxies)
    snippet = (
        '<div id="thong-ke"></div>\n'
        f'<script src="{base}/widget.js" data-site="demo" data-target="#thong-ke" async></script>\n'
        f'<noscript><img src="{base}/api/v1/badge.svg?site=demo&amp;rows={",".join(DEFAULT_ROWS)}"'
        ' alt="Thống kê truy cập"></noscript>'
    )
    token = language.enter(request)
    try:
        context = {
            "base": base,
            "snippet": snippet,
            "rows": ROWS,
            "row_labels": LABELS[i18n.current()][1:],
            "default_rows": DEFAULT_ROWS,
            "version": __version__,
        }
        response = aiohttp_jinja2.render_template("landing.html", request, context)
    finally:
        language.leave(token)
    language.keep(request, response)
    response.headers["Content-Security-Policy"] = LANDING_CSP
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"  # frame-ancestors, for browsers without it
    # the snippet names the origin the request's Host and X-Forwarded-* headers give: a cache
    # must not serve one client's page to another
    response.headers["Cache-Control"] = "no-store"
    return response
