"""What an old counter says (Snapshot), what earlier runs added from it (Ledger), and the
imports that add the difference (plan).

An old counter keeps counting until its box is replaced, and some of its figures are rolling
(today's bucket, the all-time total), so one import id per source could never take the rows
that came after it. Each run instead adds the difference between what the source says now
and the ledger, which the import script stores with the import in the same atomic run. The
import ids are the source's id and the ledger's run number: two runs that read the same
ledger send the same id, so only one of them is applied.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from statsvc.core.backfill import IMPORT_ID, MAX_COUNT, MAX_PAGES, PART_ROWS, Import, parse_import
from statsvc.core.errors import BadInput
from statsvc.core.pageview import OTHER_PAGE, normalise_path, raw_path

Figures = tuple[int, int]  # views, visits


@dataclass(frozen=True)
class Snapshot:
    """An old counter's figures in the site's calendar: views and visits per local day, the
    all-time total (which includes the days; None: the days' sum), all-time views per page
    path, and an opening balance kept outside its tables (visits, counted as views too).
    `by_key` names the pages the old counter could only name by a query key (WordPress's
    `/?p=ID` for a post without a permalink): a page of its own on a site whose query keys
    keep that key, else "(other)", never the page "/" the rest of the query falls to."""

    days: dict[date, Figures] = field(default_factory=dict)
    total: Figures | None = None
    pages: dict[str, int] = field(default_factory=dict)
    initial: int = 0
    by_key: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Ledger:
    """What the runs so far added to a site from one source: the run count, the figures added
    to the total (days and opening balance included), per day and per page path. The
    opening balance is not kept apart: it is in the total, so a later run with a larger
    --initial adds the difference and one with a smaller adds nothing for it."""

    runs: int = 0
    total: Figures = (0, 0)
    days: dict[date, Figures] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        """Return the ledger as the JSON the store keeps."""
        return json.dumps(
            {
                "runs": self.runs,
                "total": list(self.total),
                "days": {d.isoformat(): list(f) for d, f in sorted(self.days.items())},
                "pages": self.pages,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> Ledger:
        """Return the ledger the store keeps (an empty one for a source never migrated); an
        "initial" that ledgers of the first release hold is not read (the total has it)."""
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            runs=int(raw["runs"]),
            total=(int(raw["total"][0]), int(raw["total"][1])),
            days={date.fromisoformat(d): (int(f[0]), int(f[1])) for d, f in raw["days"].items()},
            pages={str(p): int(n) for p, n in raw["pages"].items()},
        )


@dataclass(frozen=True)
class Step:
    """One import of a run, and the ledger to keep with it when it is applied."""

    imported: Import
    ledger: Ledger


def source_id(kind: str, where: str, prefix: str) -> str:
    """Return the id of a source (its ledger's name, the stem of its import ids): the kind,
    the server and database (or Redis host and site host), and the table prefix."""
    text = f"migrate:{kind}:{where}:{prefix}"
    text = re.sub(r"[^A-Za-z0-9._:/@+=-]", "-", text)
    if len(text) > 160 or not IMPORT_ID.fullmatch(text):  # room for ":<run>" in the ids
        text = f"migrate:{kind}:" + hashlib.sha256(text.encode()).hexdigest()[:32]
    return text


def plan(
    source: str,
    snapshot: Snapshot,
    ledger: Ledger,
    today: date,
    query_keys: tuple[str, ...] = (),
) -> list[Step]:
    """Return the imports that add what `snapshot` says beyond `ledger`: nothing when the
    source has nothing new. Days after the site's today wait for a later run; a figure the
    source now says is lower than what was added (a purge, a reset) adds nothing. A page no
    hit on a site with these query keys could count on goes into "(other)"."""
    kept = {d: f for d, f in snapshot.days.items() if d <= today}
    held = [f for d, f in snapshot.days.items() if d > today]
    sums = _sum(kept.values())
    if snapshot.total is None:
        whole = sums
    else:
        later = _sum(held)
        whole = (
            max(snapshot.total[0] - later[0], sums[0]),
            max(snapshot.total[1] - later[1], sums[1]),
        )
    target = (whole[0] + snapshot.initial, whole[1] + snapshot.initial)

    days: dict[date, Figures] = {}
    for day, (views, visits) in sorted(kept.items()):
        had = ledger.days.get(day, (0, 0))
        more_views = max(0, views - had[0])
        more_visits = min(max(0, visits - had[1]), more_views)
        if more_views:
            days[day] = (more_views, more_visits)
    pages = {}
    for path, views in _pages(snapshot, query_keys).items():
        more = views - ledger.pages.get(path, 0)
        if more > 0:
            pages[path] = more
    day_sums = _sum(days.values())
    views = max(target[0] - ledger.total[0], day_sums[0], 0)
    visits = min(max(target[1] - ledger.total[1], day_sums[1], 0), views)
    if not days and not pages and (views, visits) == (0, 0):
        return []

    steps: list[Step] = []
    dated = sorted(days.items())
    chunks = [dated[n : n + PART_ROWS] for n in range(0, len(dated), PART_ROWS)] or [[]]
    rest, now = (views, visits), ledger
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        added = (rest[0], min(rest[1], rest[0])) if last else _sum(f for _, f in chunk)
        rest = (rest[0] - added[0], rest[1] - added[1])
        runs = now.runs + 1
        document: dict[str, Any] = {
            "import_id": f"{source}:{runs}",
            "days": [{"date": d.isoformat(), "views": v, "visits": u} for d, (v, u) in chunk],
        }
        if last:
            document["total"] = {"views": added[0], "visits": added[1]}
            document["pages"] = [{"path": p, "views": v} for p, v in sorted(pages.items())]
        now = Ledger(
            runs=runs,
            total=_plus(now.total, added),
            days=now.days | {d: _plus(now.days.get(d, (0, 0)), f) for d, f in chunk},
            pages=now.pages | {p: now.pages.get(p, 0) + v for p, v in pages.items()}
            if last
            else now.pages,
        )
        steps.append(Step(parse_import(document), now))
    return steps


def summary(steps: list[Step]) -> dict[str, object]:
    """Return what a run's imports add: views and visits, days, first and last day, pages."""
    days = sorted(d.day for s in steps for d in s.imported.days)
    return {
        "views": sum(s.imported.added()[0] for s in steps),
        "visits": sum(s.imported.added()[1] for s in steps),
        "days": len(days),
        "first_day": days[0].isoformat() if days else None,
        "last_day": days[-1].isoformat() if days else None,
        "pages": len({p for s in steps for p, _ in s.imported.pages}),
    }


def _pages(snapshot: Snapshot, query_keys: tuple[str, ...]) -> dict[str, int]:
    """Return the pages an import may carry: at most MAX_PAGES of them (the least read folded
    into "(other)"), each within MAX_COUNT. An old counter's page paths are whatever its
    clients requested (a uri column holds `/%FF` and `/a%0Ab` too): a path a hit could not
    count on goes into "(other)", its views kept, by the hit path's own checks."""
    clean: dict[str, int] = {}
    for path, views in snapshot.pages.items():
        if views > 0:
            name = _page(path, query_keys, path in snapshot.by_key)
            clean[name] = min(clean.get(name, 0) + views, MAX_COUNT)
    if len(clean) > MAX_PAGES:
        ranked = sorted(clean.items(), key=lambda item: (-item[1], item[0]))
        kept = dict(ranked[: MAX_PAGES - 1])
        rest = sum(n for p, n in ranked[MAX_PAGES - 1 :]) + kept.pop(OTHER_PAGE, 0)
        kept[OTHER_PAGE] = min(rest, MAX_COUNT)
        clean = kept
    return clean


def _page(path: str, query_keys: tuple[str, ...], by_key: bool) -> str:
    """Return the path an import carries for an old counter's page (as a hit would send it,
    statsvc.core.pageview.raw_path), or "(other)" where no hit could count on it: a path
    raw_path or normalise_path refuses, or one named by a query key the site drops."""
    if path == OTHER_PAGE:
        return path
    try:
        raw = raw_path(path)
        page = normalise_path(raw, query_keys)
    except BadInput:
        return OTHER_PAGE
    if by_key and "?" not in page:  # a decoded "?" reads as %3F: this is the kept query
        return OTHER_PAGE
    return raw


def _sum(figures: Iterable[Figures]) -> Figures:
    views = visits = 0
    for v, u in figures:
        views += v
        visits += u
    return views, visits


def _plus(a: Figures, b: Figures) -> Figures:
    return a[0] + b[0], a[1] + b[1]
