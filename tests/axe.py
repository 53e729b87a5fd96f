"""axe-core in the tests' Chromium: check a page for accessibility violations and keep the report.

The axe-core script is the one vendored by the `axe-playwright-python` test dependency (a
pinned version, so the rules do not change under us); only its file is used. It is put into
the page with Playwright's evaluate, which the page's Content-Security-Policy does not govern,
so the pages are checked under their own strict CSP, as served (no `bypass_csp`). Every
report, the violations of every impact and the checks axe could not finish, is written as JSON
to $STATSVC_AXE_REPORTS (default: statsvc-axe in the temp directory), one file per page and
language; the run's closing lines name the folder."""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

from tests.live import USER_AGENT

AXE_SCRIPT = (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")
REPORTS = Path(os.environ.get("STATSVC_AXE_REPORTS") or Path(tempfile.gettempdir(), "statsvc-axe"))
FAILING = ("serious", "critical")  # the impacts that fail a test; minor and moderate are reported
# WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices (landmarks, headings, ...)
RUN_ONLY = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
written: list[Path] = []  # the reports of this run, for the closing lines


def fresh_context(browser: Browser, **options: Any) -> BrowserContext:
    """Open a browser context for an axe run, with the tests' user agent (a desktop Chrome's:
    statsvc does not count headless Chromium)."""
    return browser.new_context(user_agent=USER_AGENT, **options)


def check(page: Page, name: str, include: str | None = None, save: bool = True) -> dict[str, Any]:
    """Run axe-core on the page (or only the element `include` selects, shadow roots
    included), save the report as `name`.json and fail on any serious or critical violation,
    naming each rule and the nodes it found."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": RUN_ONLY}, "resultTypes": ["violations"]}
    results: dict[str, Any] = page.evaluate(
        "([include, options]) => axe.run(include ? { include: [include] } : document, options)",
        [include, options],
    )
    report = {
        "page": name,
        "url": results["url"],
        "lang": page.evaluate("document.documentElement.lang"),
        "axe": results["testEngine"]["version"],
        "violations": results["violations"],
        "incomplete": results["incomplete"],
    }
    path = REPORTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".json")
    if save:
        save_report(path, report)
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    assert not failing, f"axe on {name} ({path if save else 'not saved'}):\n" + describe(failing)
    return report


def save_report(path: Path, report: dict[str, Any]) -> None:
    """Write a report as JSON; the first of a run first empties the folder of older ones."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    if not written:  # the first report of this run: the folder holds this run's only
        for stale in REPORTS.glob("*.json"):
            stale.unlink()
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(path)


def describe(violations: list[dict[str, Any]]) -> str:
    """Return the violations as lines a person reads: rule, impact, help, then each node."""
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"  at {' '.join(map(str, node['target']))}: {node['html']}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"    {line}" for line in summary.splitlines())
    return "\n".join(lines)
