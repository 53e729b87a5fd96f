"""A site's audit trail as the dashboard says it: one sentence per entry in the page's
language ("Nhập số liệu từ bộ đếm cũ: +13.457 lượt xem"), the time in the site's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statsvc.i18n import N_, _, moment, ngettext, number

# a setting's name in a sentence, and the words of the settings whose values are words
SETTINGS = {
    "name": N_("name"),
    "domains": N_("domains"),
    "timezone": N_("time zone"),
    "week_start": N_("week starts on"),
    "locale": N_("language"),
    "online_window": N_("online window"),
    "query_keys": N_("query keys that tell pages apart"),
    "respect_dnt": N_("respect Do Not Track"),
    "exclude_ips": N_("excluded IP addresses"),
    "sites": N_("member sites"),  # a group's
    "groups": N_("member groups"),
}
WORDS = {
    "monday": N_("Monday"),
    "sunday": N_("Sunday"),
    "vi": N_("Vietnamese"),
    "en": N_("English"),
}
# who made a change, when not a site's token: the admin token, the command line
WHO = {"admin": N_("admin"), "cli": N_("command line")}
# the old counters `statsvc migrate` reads, as their makers name them
COUNTERS = {
    "vinaora": "Vinaora Visitors Counter",
    "nukeviet": "NukeViet",
    "wp-statistics": "WP Statistics",
    "wp-postviews": "WP-PostViews",
    "post-views-counter": "Post Views Counter",
    "busuanzi": "busuanzi",
}


def audit_rows(entries: list[dict[str, Any]], zone: ZoneInfo) -> list[dict[str, str]]:
    """Return audit entries as the dashboard's rows: when (in `zone`), by whom, what."""
    return [
        {"when": _when(entry.get("at"), zone), "by": _who(entry.get("by")), "what": sentence(entry)}
        for entry in entries
    ]


def sentence(entry: dict[str, Any]) -> str:
    """Return what an audit entry records, as one sentence."""
    action = entry.get("action")
    detail = entry.get("detail")
    if not isinstance(detail, dict):
        detail = {}
    if action == "settings":
        changes = _changes({k: v for k, v in detail.items() if k != "created"})
        if detail.get("created"):
            if not changes:
                return _("Created the site")
            return _("Created the site: {changes}").format(changes=changes)
        return _("Changed the site's settings: {changes}").format(changes=changes or "-")
    if action == "group":
        changes = _changes({k: v for k, v in detail.items() if k != "created"}) or "-"
        if detail.get("created"):
            return _("Created the group: {changes}").format(changes=changes)
        return _("Changed the group: {changes}").format(changes=changes)
    if action == "token_create":
        return _("Made a read-only token ({token})").format(token=detail.get("token_id", "?"))
    if action == "token_revoke":
        return _("Revoked the read-only token {token}").format(token=detail.get("token_id", "?"))
    if action == "import":
        return _imported(detail)
    if not detail:
        return _("Other change ({action})").format(action=action)
    return _("Other change ({action}): {changes}").format(action=action, changes=_changes(detail))


def _imported(detail: dict[str, Any]) -> str:
    views, visits = _count(detail, "views"), _count(detail, "visits")
    days, total_only, pages = (_count(detail, k) for k in ("days", "days_total_only", "pages"))
    parts = [ngettext("+{n} view", "+{n} views", views).format(n=number(views))]
    if visits:
        parts.append(ngettext("+{n} visit", "+{n} visits", visits).format(n=number(visits)))
    if days:
        parts.append(ngettext("{n} day", "{n} days", days).format(n=number(days)))
    if total_only:
        parts.append(
            ngettext(
                "{n} older day in the totals only", "{n} older days in the totals only", total_only
            ).format(n=number(total_only))
        )
    if pages:
        parts.append(ngettext("{n} page", "{n} pages", pages).format(n=number(pages)))
    figures = ", ".join(parts)
    source = detail.get("source")
    if isinstance(source, dict):
        kind = str(source.get("kind", "?"))
        return _("Moved figures from {counter} ({where}): {figures}").format(
            counter=COUNTERS.get(kind, kind), where=source.get("from", "?"), figures=figures
        )
    return _("Imported figures from an old counter: {figures}").format(figures=figures)


def _count(detail: dict[str, Any], name: str) -> int:
    value = detail.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _changes(fields: dict[str, Any]) -> str:
    """Return changed settings as `time zone Asia/Ho_Chi_Minh; language Vietnamese`."""
    return "; ".join(f"{_label(name)} {_value(name, value)}" for name, value in fields.items())


def _label(name: str) -> str:
    return _(SETTINGS[name]) if name in SETTINGS else name


def _value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "online_window" and isinstance(value, int):
        return ngettext("{n} second", "{n} seconds", value).format(n=number(value))
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else _("none")
    if name == "name":
        return f"“{value}”"
    text = str(value)
    return _(WORDS[text]) if text in WORDS else text


def _who(token_id: object) -> str:
    if isinstance(token_id, str) and token_id in WHO:
        return _(WHO[token_id])
    return _("token {token}").format(token=token_id)


def _when(at: object, zone: ZoneInfo) -> str:
    try:
        instant = datetime.fromisoformat(str(at))
    except ValueError:
        return str(at)
    return moment(instant, zone)
