"""The route table: every URL statsvc answers (DESIGN §3, §5 and §6)."""

from __future__ import annotations

from aiohttp import web

from statsvc.http import (
    admin_api,
    api,
    dashboard,
    dashboard_forms,
    dashboard_groups,
    dashboard_import,
    dashboard_report,
    groups_api,
    openapi,
    report_api,
    widget,
)
from statsvc.http.metrics import metrics_page


def add_routes(app: web.Application, metrics_token: str | None) -> None:
    """Add every route to `app` (/metrics behind `metrics_token` when one is set)."""
    app.router.add_get("/", widget.landing)
    app.router.add_get("/widget.js", widget.widget)
    app.router.add_get("/widget.{version:[0-9a-f]{16}}.js", widget.widget)
    app.router.add_get("/static/{name}", widget.static)
    app.router.add_get("/api/v1/badge.svg", widget.badge, allow_head=False)  # HEAD must not count
    app.router.add_get("/healthz", api.healthz)
    app.router.add_get("/readyz", api.readyz)
    app.router.add_get("/metrics", metrics_page(metrics_token))
    app.router.add_get("/api/v1/openapi.json", openapi.openapi_json)
    app.router.add_get("/admin", dashboard_groups.sites)
    app.router.add_get("/admin/login", dashboard.signin_form)
    app.router.add_post("/admin/login", dashboard.signin)
    app.router.add_post("/admin/logout", dashboard.signout)
    app.router.add_get("/admin/sites/{site}", dashboard.site)
    app.router.add_get("/admin/sites/{site}/live", dashboard.live)
    app.router.add_get("/admin/sites/{site}/export", dashboard.export)
    app.router.add_get("/admin/sites/{site}/report", dashboard_report.report_page)
    app.router.add_get("/admin/sites/{site}/report.{format}", dashboard_report.report_file)
    add_form_routes(app)
    app.router.add_post("/api/v1/hit", api.hit)
    app.router.add_post("/api/v1/ping", api.ping)
    app.router.add_get("/api/v1/counts", api.counts)
    app.router.add_get("/api/v1/sites", admin_api.list_sites)
    app.router.add_get("/api/v1/sites/{site}", admin_api.get_site)
    app.router.add_put("/api/v1/sites/{site}", admin_api.put_site)
    app.router.add_get("/api/v1/sites/{site}/stats", admin_api.stats)
    app.router.add_get("/api/v1/sites/{site}/pages", admin_api.pages)
    app.router.add_get("/api/v1/sites/{site}/sources", admin_api.sources)
    app.router.add_get("/api/v1/sites/{site}/series", admin_api.series)
    app.router.add_get("/api/v1/sites/{site}/report", report_api.site_report)
    app.router.add_get("/api/v1/sites/{site}/audit", admin_api.audit)
    app.router.add_get("/api/v1/sites/{site}/export", admin_api.export)
    app.router.add_post("/api/v1/sites/{site}/import", admin_api.import_counts)
    app.router.add_post("/api/v1/sites/{site}/tokens", admin_api.create_token)
    app.router.add_get("/api/v1/sites/{site}/tokens", admin_api.list_tokens)
    app.router.add_delete("/api/v1/sites/{site}/tokens/{token_id}", admin_api.revoke_token)
    add_group_routes(app)


def add_group_routes(app: web.Application) -> None:
    """Add the groups' admin API and dashboard pages."""
    app.router.add_get("/api/v1/groups", groups_api.list_groups)
    app.router.add_get("/api/v1/groups/{group}", groups_api.get_group)
    app.router.add_put("/api/v1/groups/{group}", groups_api.put_group)
    app.router.add_get("/api/v1/groups/{group}/stats", groups_api.stats)
    app.router.add_get("/api/v1/groups/{group}/sites", groups_api.sites)
    app.router.add_get("/api/v1/groups/{group}/audit", groups_api.audit)
    app.router.add_post("/api/v1/groups/{group}/tokens", groups_api.create_token)
    app.router.add_get("/api/v1/groups/{group}/tokens", groups_api.list_tokens)
    app.router.add_delete("/api/v1/groups/{group}/tokens/{token_id}", groups_api.revoke_token)
    app.router.add_get("/admin/groups/{group}", dashboard_groups.group)
    app.router.add_get("/admin/groups/{group}/live", dashboard_groups.live)
    app.router.add_get("/api/v1/groups/{group}/report", report_api.group_report)
    app.router.add_get("/admin/groups/{group}/report", dashboard_report.group_report_page)
    app.router.add_get("/admin/groups/{group}/report.{format}", dashboard_report.group_report_file)


def add_form_routes(app: web.Application) -> None:
    """Add the dashboard's forms of an admin session (dashboard_forms, dashboard_import)."""
    forms, imports = dashboard_forms, dashboard_import
    app.router.add_get("/admin/new-site", forms.new_site_form)
    app.router.add_post("/admin/new-site", forms.create_site)
    app.router.add_get("/admin/sites/{site}/settings", forms.settings_form)
    app.router.add_post("/admin/sites/{site}/settings", forms.save_settings)
    app.router.add_get("/admin/sites/{site}/tokens", forms.tokens)
    app.router.add_post("/admin/sites/{site}/tokens", forms.make_token)
    app.router.add_post("/admin/sites/{site}/tokens/{token_id}/revoke", forms.revoke_token)
    app.router.add_get("/admin/sites/{site}/import", imports.import_form)
    app.router.add_post("/admin/sites/{site}/import/preview", imports.preview)
    app.router.add_post("/admin/sites/{site}/import", imports.apply)
