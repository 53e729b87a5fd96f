"""The issue's "Done when" in real Chromium: an old counter's total, imported twice, shows
once in the widget's "Tất cả"."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import Page

from tests.conftest import ADMIN_TOKEN
from tests.test_widget_browser import Live, box_text, browser, live, page  # noqa: F401

OLD_COUNTER = {"import_id": "old-counter-2026", "total": {"views": 13457, "visits": 13457}}


def test_an_old_total_imported_twice_shows_once_in_the_widgets_total(
    page: Page,  # noqa: F811
    live: Live,  # noqa: F811
) -> None:
    """The box that said "Tất cả: 013457" before is replaced by statsvc's after importing
    that total twice (the second import changes nothing): the first view shows 013458."""
    for _ in range(2):
        request = urllib.request.Request(
            f"{live.service}/api/v1/sites/demo/import",
            data=json.dumps(OLD_COUNTER).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()
    url = live.add_page(
        "index", '<div id="stats"></div>' + live.script(site="demo", target="#stats", pad="6")
    )
    page.goto(url)
    assert box_text(page)[-1] == "Tất cả: 013458"
    assert live.errors == []
