"""The SQL counters' rows, read as each one's own code writes them (the schemas are in
statsvc.core.migrate's modules and docs/migrate.md), handed to the pure conversions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial

from statsvc.core.migrate import joomla, nukeviet, wordpress
from statsvc.sources.errors import SourceError
from statsvc.sources.reading import Reading, with_initial
from statsvc.sources.sql import Database

QUARTER = 900  # seconds: 1.x's one row per visit, grouped (every zone's offset is whole quarters)


def vinaora(
    db: Database, prefix: str, initial: int | None, source: str, origin: dict[str, str]
) -> Reading:
    """Vinaora Visitors Counter: 2.x/3.x `vvisit_counter`, 2.0 `vvcounter_logs`, 1.x
    `vvisitcounter`; the opening balance from --initial, else the module's parameters."""
    tables = db.tables()
    if initial is None:
        initial = 0
        if f"{prefix}modules" in tables:
            db.need(f"{prefix}modules", "module", "params")
            params = db.rows(
                f"SELECT params FROM `{prefix}modules` WHERE module = 'mod_vvisit_counter'"
            )
            initial = joomla.initial_value(str(row[0] or "") for row in params)
    opening = initial
    for name in ("vvisit_counter", "vvcounter_logs"):
        table = prefix + name
        if table in tables:
            db.need(table, "time", "visits")
            rows = [(int(t), int(v)) for t, v in db.rows(f"SELECT time, visits FROM `{table}`")]
            return Reading(source, origin, partial(joomla.from_buckets, rows, initial=opening))
    table = prefix + "vvisitcounter"
    if table in tables:
        db.need(table, "tm")
        rows = [
            (int(t), int(n))
            for t, n in db.rows(
                f"SELECT FLOOR(tm / {QUARTER}) * {QUARTER}, COUNT(*) FROM `{table}` GROUP BY 1"
            )
        ]
        return Reading(source, origin, partial(joomla.from_visits, rows, initial=opening))
    missing = f"{prefix}vvisit_counter (nor {prefix}vvcounter_logs, {prefix}vvisitcounter)"
    raise SourceError("no_table", table=missing, database=db.name)


def nukeviet_counter(
    db: Database, prefix: str, initial: int | None, source: str, origin: dict[str, str]
) -> Reading:
    """NukeViet 4: `PREFIX_counter` (c_type, c_val, c_count)."""
    table = f"{prefix}_counter"
    db.need(table, "c_type", "c_val", "c_count")
    rows = [
        (str(kind), str(value), int(count or 0))
        for kind, value, count in db.rows(
            f"SELECT c_type, c_val, c_count FROM `{table}`"
            " WHERE c_type IN ('total', 'year', 'day', 'c_time')"
        )
    ]
    return with_initial(Reading(source, origin, partial(nukeviet.from_rows, rows)), initial)


def wp_statistics(
    db: Database, prefix: str, initial: int | None, source: str, origin: dict[str, str]
) -> Reading:
    """WP Statistics 14: `statistics_visitor` (required), `statistics_summary_totals`,
    `statistics_pages` and `statistics_historical` where present."""
    visitor = f"{prefix}statistics_visitor"
    db.need(visitor, "last_counter", "hits")
    tables = db.tables()
    visitor_days = [
        (_day(d), int(v), int(u))
        for d, v, u in db.rows(
            "SELECT last_counter, SUM(GREATEST(COALESCE(hits, 1), 1)), COUNT(*)"
            f" FROM `{visitor}` GROUP BY last_counter"
        )
    ]
    summary: list[tuple[date, int, int]] = []
    if f"{prefix}statistics_summary_totals" in tables:
        db.need(f"{prefix}statistics_summary_totals", "date", "views", "visitors")
        summary = [
            (_day(d), int(v), int(u))
            for d, v, u in db.rows(
                f"SELECT date, views, visitors FROM `{prefix}statistics_summary_totals`"
            )
        ]
    pages: list[tuple[str, int]] = []
    if f"{prefix}statistics_pages" in tables:
        db.need(f"{prefix}statistics_pages", "uri", "count")
        pages = [
            (str(uri), int(n))
            for uri, n in db.rows(
                f"SELECT uri, SUM(count) FROM `{prefix}statistics_pages` GROUP BY uri"
            )
        ]
    historical: list[tuple[str, str, int]] = []
    if f"{prefix}statistics_historical" in tables:
        db.need(f"{prefix}statistics_historical", "category", "uri", "value")
        historical = [
            (str(c), str(uri), int(v))
            for c, uri, v in db.rows(
                f"SELECT category, uri, value FROM `{prefix}statistics_historical`"
            )
        ]
    snapshot = wordpress.wp_statistics(visitor_days, summary, pages, historical)
    return with_initial(Reading(source, origin, lambda _zone: snapshot), initial)


def wp_postviews(
    db: Database, prefix: str, initial: int | None, source: str, origin: dict[str, str]
) -> Reading:
    """WP-PostViews: the `views` rows of `postmeta`, each post's path from `posts`."""
    db.need(f"{prefix}postmeta", "post_id", "meta_key", "meta_value")
    rows = db.rows(f"SELECT post_id, meta_value FROM `{prefix}postmeta` WHERE meta_key = 'views'")
    views = {int(post): _count(value) for post, value in rows}
    paths = _paths(db, prefix, set(views))
    snapshot = wordpress.postviews((paths[post], n) for post, n in views.items())
    return with_initial(Reading(source, origin, lambda _zone: snapshot), initial)


def post_views_counter(
    db: Database, prefix: str, initial: int | None, source: str, origin: dict[str, str]
) -> Reading:
    """Post Views Counter: `post_views` (id, type, period, count), days and totals."""
    table = f"{prefix}post_views"
    db.need(table, "id", "type", "period", "count")
    rows = [
        (int(post), int(kind), str(period), int(count))
        for post, kind, period, count in db.rows(
            f"SELECT id, type, period, count FROM `{table}` WHERE type IN (0, 4)"
        )
    ]
    paths = _paths(db, prefix, {post for post, kind, _, _ in rows if kind == 4})
    snapshot = wordpress.post_views_counter(rows, paths)
    return with_initial(Reading(source, origin, lambda _zone: snapshot), initial)


Reader = Callable[[Database, str, int | None, str, dict[str, str]], Reading]
READERS: dict[str, Reader] = {
    "vinaora": vinaora,
    "nukeviet": nukeviet_counter,
    "wp-statistics": wp_statistics,
    "wp-postviews": wp_postviews,
    "post-views-counter": post_views_counter,
}


def _paths(db: Database, prefix: str, ids: set[int]) -> dict[int, str]:
    """Return each post's path under the site's permalink structure (`/?p=ID` for a post
    the posts table does not have)."""
    paths = {post: f"/?p={post}" for post in ids}
    posts, options = f"{prefix}posts", f"{prefix}options"
    if not ids or posts not in db.tables():
        return paths
    structure = ""
    if options in db.tables():
        found = db.rows(
            f"SELECT option_value FROM `{options}` WHERE option_name = 'permalink_structure'"
        )
        structure = str(found[0][0] or "") if found else ""
    db.need(posts, "ID", "post_type", "post_name", "post_date")
    for post, kind, name, published in db.rows(
        f"SELECT ID, post_type, post_name, post_date FROM `{posts}`"
    ):
        if int(post) in paths:
            when = published if isinstance(published, datetime) else None
            paths[int(post)] = wordpress.permalink(
                structure, wordpress.Post(int(post), str(kind), str(name or ""), when)
            )
    return paths


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _count(value: object) -> int:
    """Return a post meta's number (a string in WordPress), 0 if it is not one."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else 0
