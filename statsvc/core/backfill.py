"""Import documents: an older counter's figures (or an export), checked and split into parts.

Pure code: what an import may say, its pages as a hit would count them, its digest, CSV rows,
and how a large import is cut into parts that are each idempotent and together add exactly what
the whole would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from statsvc.core.errors import BadInput
from statsvc.core.pageview import OTHER_PAGE, normalise_path, raw_path
from statsvc.core.reasons import REASONS
from statsvc.core.referrer import DIRECT, OTHER_SOURCE, canonical, is_source

EXPORT_FORMAT = "statsvc-export/1"
IMPORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d would take any script's
DIGITS = re.compile(r"[0-9]{1,15}")  # a CSV figure: ASCII digits, not Arabic-Indic or fullwidth
MAX_DAYS = 100_000  # daily rows in one import
MAX_PAGES = 100_000  # page rows in one import
MAX_COUNT = 10**10  # one figure: sums of a whole import stay exact in Lua's doubles
MAX_FIGURE = 2**53 - 1  # no stored figure may pass it: past it a double (Lua's, JSON's) loses units
DOCUMENT_KEYS = frozenset(
    ("import_id", "total", "days", "pages", "format", "site", "exported_at")  # an export's too
)
DAY_KEYS = frozenset(("date", "views", "visits"))
MAX_DAY_SOURCES = 10_000  # sources of one day in an import (the store keeps its cap of them)
_JSON = json.JSONDecoder()  # as json.loads decodes
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace
PART_ROWS = 1000  # daily rows in one part of a large import (the CLI's chunks)
DIGEST_ROWS = 1000  # rows hashed per step: no one long call keeps other threads waiting


@dataclass(frozen=True)
class Day:
    """One local day of an import: its views, visits, hits not counted by reason, and
    visits by source (statsvc.core.referrer; an export's)."""

    day: date
    views: int
    visits: int
    rejected: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Import:
    """A checked import: the old counter's totals (which include its days), days and pages."""

    import_id: str
    total: tuple[int, int] | None  # views, visits
    days: tuple[Day, ...] = ()
    pages: tuple[tuple[str, int], ...] = ()

    def digest(self) -> str:
        """Return a digest of what this import adds (the same figures, the same digest): the
        SHA-256 of the JSON of {"days", "pages", "total"}, keys sorted, written a thousand rows
        at a time (the same text as one json.dumps, so digests stored before still match; and
        neither one long call nor 100,000 rows kept at once, which would hold up other threads
        and the garbage collector)."""
        hashed = hashlib.sha256(b'{"days": [')
        days = sorted(self.days, key=lambda d: d.day)
        for n in range(0, len(days), DIGEST_ROWS):
            # a day's sources only when it has some: digests of imports before them still match
            rows = [
                (d.day.isoformat(), d.views, d.visits, sorted(d.rejected.items()))
                + ((sorted(d.sources.items()),) if d.sources else ())
                for d in days[n : n + DIGEST_ROWS]
            ]
            hashed.update((", " if n else "").encode() + json.dumps(rows)[1:-1].encode())
        hashed.update(b'], "pages": [')
        pages = sorted(self.pages)
        for n in range(0, len(pages), DIGEST_ROWS):
            rows_text = json.dumps(pages[n : n + DIGEST_ROWS])[1:-1]
            hashed.update((", " if n else "").encode() + rows_text.encode())
        hashed.update(f'], "total": {json.dumps(self.total)}}}'.encode())
        return hashed.hexdigest()

    def added(self) -> tuple[int, int]:
        """Return the views and visits this import adds to the total: the old total includes
        its days, so the larger of the total and the sum of the days."""
        views, visits = sum(d.views for d in self.days), sum(d.visits for d in self.days)
        if self.total is None:
            return views, visits
        return max(self.total[0], views), max(self.total[1], visits)


def load_document(raw: bytes) -> dict[str, Any]:
    """Decode an import document, a JSON object, as json.loads would, but the elements of its
    arrays one call each: a large document decoded in one call holds every other thread of the
    process, the event loop's too, for its whole length (some 40 ms for 100,000 days, and
    several times that on a busy machine); between calls they get their turns."""
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        return _object(text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError among them
        raise BadInput("invalid_json", "the request body is not valid JSON") from None


def parse_import(document: object) -> Import:
    """Check an import document (POST /import's body, or an export); raise BadInput."""
    if not isinstance(document, dict):
        raise BadInput("invalid_import", "the import must be a JSON object")
    unknown = sorted(set(document) - DOCUMENT_KEYS)
    if unknown:
        raise BadInput("invalid_import", f"unknown field {unknown[0][:80]!r}")
    if "format" in document and document["format"] != EXPORT_FORMAT:
        raise BadInput("invalid_import", f"format must be {EXPORT_FORMAT!r}")
    import_id = document.get("import_id")
    if not isinstance(import_id, str) or not IMPORT_ID.fullmatch(import_id):
        raise BadInput(
            "invalid_import_id",
            "import_id must be 1 to 200 characters of A-Z a-z 0-9 . _ : / @ + = -",
        )
    total = None
    if document.get("total") is not None:
        total = _figures(document["total"], "total")
    days = tuple(_day(row) for row in _rows(document.get("days"), "days", MAX_DAYS))
    if len({d.day for d in days}) < len(days):
        raise BadInput("invalid_import", "days lists a date twice")
    pages = tuple(_page(row) for row in _rows(document.get("pages"), "pages", MAX_PAGES))
    if len({path for path, _ in pages}) < len(pages):
        raise BadInput("invalid_import", "pages lists a path twice")
    if total is None and not days and not pages:
        raise BadInput("empty_import", "an import needs a total, days or pages")
    return Import(import_id, total, days, pages)


def normalised(imported: Import, query_keys: tuple[str, ...]) -> Import:
    """Return an import with its pages as a hit would count them on a site with these query
    keys (statsvc.core.pageview.normalise_path): paths that name one page add up. Real pages
    come most viewed first (ties by path), so the most viewed take the places left below the
    page cap; "(other)" comes last and takes none."""
    pages: dict[str, int] = {}
    for path, views in imported.pages:
        try:
            page = path if path == OTHER_PAGE else normalise_path(path, query_keys)
        except BadInput as exc:
            raise BadInput("invalid_path", f"page {path[:80]!r}: {exc.message}") from None
        pages[page] = pages.get(page, 0) + views
    other = pages.pop(OTHER_PAGE, None)
    ordered = sorted(pages.items(), key=lambda page: (-page[1], page[0]))
    if other is not None:
        ordered.append((OTHER_PAGE, other))
    return replace(imported, pages=tuple(ordered))


def export_path(page: str) -> str:
    """Return the path an export gives a page: one that normalise_path reads back as the same
    page. Its path part keeps a "%" as "%25", since normalise_path decodes percent-escapes and
    a page may hold a "%" that reads as one ("/a%41" is the page of a hit on /a%2541)."""
    path, mark, query = page.partition("?")
    return path.replace("%", "%25") + mark + query


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Return the rows of a `date,views,visits` CSV (with that header) as import day rows."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    if header != ["date", "views", "visits"]:
        raise BadInput("invalid_csv", "the first line must be the header date,views,visits")
    rows: list[dict[str, Any]] = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 3 or not all(DIGITS.fullmatch(cell.strip()) for cell in row[1:]):
            raise BadInput("invalid_csv", f"line {line}: expected date,views,visits")
        if len(rows) == MAX_DAYS:
            raise BadInput("too_many_rows", f"more than {MAX_DAYS} days")
        rows.append({"date": row[0].strip(), "views": int(row[1]), "visits": int(row[2])})
    return rows


def parts(whole: Import, size: int = PART_ROWS) -> list[Import]:
    """Cut an import into parts of at most `size` days, each with an id of its own derived
    from the whole's, that together add exactly what the whole adds: the days first (each
    part adds its days), then the rest of the total with the pages."""
    if len(whole.days) <= size:
        return [whole]
    days = sorted(whole.days, key=lambda d: d.day)
    cut = [
        Import(f"{whole.import_id}:{n // size + 1}", None, tuple(days[n : n + size]))
        for n in range(0, len(days), size)
    ]
    views, visits = whole.added()
    rest = (views - sum(d.views for d in days), visits - sum(d.visits for d in days))
    if rest != (0, 0) or whole.pages:
        cut.append(replace(whole, import_id=f"{whole.import_id}:rest", total=rest, days=()))
    return cut


def _object(text: str) -> dict[str, Any]:
    """Decode a JSON object, each value whole except arrays, decoded element by element."""
    at = _space(text, 0)
    if not text.startswith("{", at):
        raise BadInput("invalid_json", "the request body must be a JSON object")
    document: dict[str, Any] = {}
    at = _space(text, at + 1)
    if text.startswith("}", at):
        at += 1
    else:
        while True:
            if not text.startswith('"', at):
                raise ValueError("a key is a string")
            key, at = _JSON.raw_decode(text, at)
            at = _space(text, at)
            if not text.startswith(":", at):
                raise ValueError("a key is followed by a colon")
            at = _space(text, at + 1)
            if text.startswith("[", at):
                document[key], at = _array(text, _space(text, at + 1))
                at += 1  # the "]"
            else:
                document[key], at = _JSON.raw_decode(text, at)
            at = _space(text, at)
            if text.startswith("}", at):
                at += 1
                break
            if not text.startswith(",", at):
                raise ValueError("members are separated by commas")
            at = _space(text, at + 1)
    if _space(text, at) < len(text):
        raise ValueError("nothing may follow the object")
    return document


def _array(text: str, at: int) -> tuple[list[Any], int]:
    """Decode the elements of a JSON array from `at` (after its "["); return them and the
    index of its "]"."""
    items: list[Any] = []
    if text.startswith("]", at):
        return items, at
    while True:
        item, at = _JSON.raw_decode(text, at)
        items.append(item)
        at = _space(text, at)
        if text.startswith("]", at):
            return items, at
        if not text.startswith(",", at):
            raise ValueError("elements are separated by commas")
        at = _space(text, at + 1)


def _space(text: str, at: int) -> int:
    """Return the index of the first character from `at` that is not JSON whitespace."""
    found = _SPACE.match(text, at)
    assert found is not None  # the pattern matches the empty string
    return found.end()


def _rows(value: object, name: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput("invalid_import", f"{name} must be a list")
    if len(value) > limit:
        raise BadInput("too_many_rows", f"{name} has more than {limit} rows")
    return value


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BadInput("invalid_import", f"{name} must be a whole number from 0 to {MAX_COUNT}")
    return value


def _figures(value: object, name: str) -> tuple[int, int]:
    if not isinstance(value, dict) or set(value) != {"views", "visits"}:
        raise BadInput("invalid_import", f"{name} must be an object of views and visits")
    views = _count(value["views"], f"{name}.views")
    visits = _count(value["visits"], f"{name}.visits")
    if visits > views:
        raise BadInput("invalid_import", f"{name}: visits cannot exceed views")
    return views, visits


def _day(row: object) -> Day:
    if not isinstance(row, dict) or not DAY_KEYS <= set(row) <= {*DAY_KEYS, "rejected", "sources"}:
        raise BadInput(
            "invalid_import", "a day is an object of date, views, visits [, rejected, sources]"
        )
    text = row["date"]
    try:
        if not isinstance(text, str) or not DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInput("invalid_date", f"{str(text)[:40]!r} is not a date YYYY-MM-DD") from None
    views, visits = _figures({"views": row["views"], "visits": row["visits"]}, text)
    rejected = row.get("rejected") or {}
    if not isinstance(rejected, dict) or not set(rejected) <= set(REASONS):
        raise BadInput("invalid_import", f"{text}: rejected maps {', '.join(REASONS)} to numbers")
    tally = {r: _count(n, f"{text}.rejected.{r}") for r, n in rejected.items()}
    sources = _sources(row.get("sources") or {}, text)
    if sum(sources.values()) > visits:
        raise BadInput("invalid_import", f"{text}: its sources add up to more than its visits")
    return Day(day, views, visits, {r: n for r, n in tally.items() if n}, sources)


def _sources(value: object, text: str) -> dict[str, int]:
    """Return a day's visits by source as the store counts them: each host folded as a hit's
    would be (statsvc.core.referrer.canonical), "(direct)" and "(other)" as they are."""
    if not isinstance(value, dict) or len(value) > MAX_DAY_SOURCES:
        raise BadInput(
            "invalid_import",
            f"{text}: sources maps at most {MAX_DAY_SOURCES} hosts, (direct) or (other) to visits",
        )
    sources: dict[str, int] = {}
    for source, n in value.items():
        if not is_source(source) or not source:
            raise BadInput("invalid_import", f"{text}: {source[:80]!r} is not a bare host")
        folded = source if source in (DIRECT, OTHER_SOURCE) else canonical(source)
        visits = _count(n, f"{text}.sources.{source[:80]}")
        if visits:
            sources[folded] = sources.get(folded, 0) + visits
    return sources


def _page(row: object) -> tuple[str, int]:
    if not isinstance(row, dict) or set(row) != {"path", "views"}:
        raise BadInput("invalid_import", "a page is an object of path and views")
    path = row["path"]
    if path != OTHER_PAGE:
        try:  # what a hit may not send, an import may not write
            path = raw_path(path)
        except BadInput as exc:
            named = repr(path[:80]) if isinstance(path, str) else "path"
            raise BadInput("invalid_path", f"page {named}: {exc.message}") from None
    return path, _count(row["views"], f"page {path[:80]!r}")
