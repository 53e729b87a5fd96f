"""The counter box's words, rows and number formats, and the badge's query options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statsvc.core.errors import BadInput
from statsvc.core.text import is_clean_text

ROWS = ("online", "page_online", "today", "yesterday", "week", "month", "total", "page")
DEFAULT_ROWS: tuple[str, ...] = ("online", "today", "week", "total")
PAGE_ROWS = ("page_online", "page")  # a page's figures: drawn only when the page is known
METRICS = ("visits", "views")
THEMES = ("light", "dark")  # "none" is the widget's: unstyled markup, which an image cannot be
MAX_PAD = 20
MAX_TITLE = 40
# the same words, in the same order, as LABELS in widget/widget.js (a test holds them equal)
LABELS: dict[str, tuple[str, ...]] = {
    "vi": ("Thống kê truy cập", "Đang online", "Đang xem trang này", "Hôm nay", "Hôm qua",
           "Trong tuần", "Tháng này", "Tất cả", "Trang này"),
    "en": ("Visit statistics", "Online now", "Reading this page now", "Today", "Yesterday",
           "This week", "This month", "Total", "This page"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BoxOptions:
    """How to draw the box: the widget's data- attributes, as badge query options."""

    lang: str | None = None  # None: the site's locale
    metric: str = "visits"
    rows: tuple[str, ...] = DEFAULT_ROWS
    pad: int = 0
    theme: str = "light"
    title: str | None = None
    count: bool = True


def box_options(query: Mapping[str, str]) -> BoxOptions:
    """Parse the badge's query options, or raise BadInput naming the bad one."""
    lang = _choice(query, "lang", tuple(LABELS), None)
    rows = DEFAULT_ROWS
    if "rows" in query:
        rows = tuple(r.strip() for r in query["rows"].split(",") if r.strip())
        if not rows or len(rows) > len(ROWS) or not set(rows) <= set(ROWS):
            raise BadInput(
                "invalid_rows", f"rows must be a comma-separated list of {','.join(ROWS)}"
            )
    pad = query.get("pad", "0")
    if not re.fullmatch(r"[0-9]{1,2}", pad) or int(pad) > MAX_PAD:
        raise BadInput("invalid_pad", f"pad must be a whole number from 0 to {MAX_PAD}")
    title = query.get("title")
    if title is not None and (len(title) > MAX_TITLE or not is_clean_text(title)):
        raise BadInput(
            "invalid_title", f"title must be at most {MAX_TITLE} characters of plain text"
        )
    count = query.get("count", "1")
    if count not in ("0", "1", "false", "true"):
        raise BadInput("invalid_count", "count must be 0 or 1")
    return BoxOptions(
        lang=lang,
        metric=_choice(query, "metric", METRICS, "visits") or "visits",
        rows=rows,
        pad=int(pad),
        theme=_choice(query, "theme", THEMES, "light") or "light",
        title=title,
        count=count in ("1", "true"),
    )


def _choice(
    query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None
) -> str | None:
    value = query.get(name)
    if value is None:
        return default
    if value not in choices:
        raise BadInput(f"invalid_{name}", f"{name} must be one of {', '.join(choices)}")
    return value


def format_number(n: int, lang: str, pad: int) -> str:
    """Format a count as the box shows it: zero-padded, or grouped per language."""
    if pad:
        return str(n).zfill(pad)
    grouped = f"{n:,}"
    return grouped.replace(",", ".") if lang == "vi" else grouped


def box_lines(
    counts: Mapping[str, Any], options: BoxOptions, locale: str
) -> tuple[str, list[tuple[str, str]]]:
    """Return the box's title and its (label, number) rows for a counts reply; a figure the
    reply does not have (a hit kept through an outage has none) is drawn "…", as the widget
    draws it. Without a page (no path given) the page's rows are left out: no figure of a
    page that is not known is drawn."""
    lang = options.lang or (locale if locale in LABELS else "vi")
    words = LABELS[lang]
    page = counts.get("page", {})  # absent: no page asked for; None: no figures now
    page = {"online": None, "total": None} if page is None else page
    figures = counts.get(options.metric) or {}
    lines = []
    for row in options.rows:
        if row in PAGE_ROWS and "page" not in counts:
            continue
        if row == "online":
            n = counts.get("online")
        elif row == "page_online":
            n = page.get("online", 0)
        elif row == "page":
            n = page.get("total", 0)
        else:
            n = figures.get(row)
        number = "…" if n is None else format_number(n, lang, options.pad)
        lines.append((words[ROWS.index(row) + 1], number))
    return options.title or words[0], lines
