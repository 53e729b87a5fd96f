"""The issue's "Done when" in real Chromium: an old counter's total, imported twice, shows
once in the widget's "Tất cả"."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.live import Live, box_text

OLD_COUNTER = {"import_id": "old-counter-2026", "total": {"views": 13457, "visits": 13457}}


def test_an_old_total_imported_twice_shows_once_in_the_widgets_total(
    page: Page, live: Live
) -> None:
    """The box that said "Tất cả: 013457" before is replaced by statsvc's after importing
    that total twice (the second import changes nothing): the first view shows 013458."""
    for _ in range(2):
        live.admin("POST", "/api/v1/sites/demo/import", OLD_COUNTER)
    url = live.add_page(
        "index", '<div id="stats"></div>' + live.script(site="demo", target="#stats", pad="6")
    )
    page.goto(url)
    assert box_text(page)[-1] == "Tất cả: 013458"
    assert live.errors == []
