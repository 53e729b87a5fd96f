"""WordPress counters, their rows as Snapshots: WP Statistics 14, WP-PostViews and Post Views
Counter; and the path of a post under the site's permalink structure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from statsvc.core.migrate.ledger import Snapshot

# Post Views Counter's `post_views.type`: 0 a day (period YYYYMMDD), 1 an ISO week (YYYYWW),
# 2 a month (YYYYMM), 3 a year (YYYY), 4 the post's all-time total (period "total").
PVC_DAY, PVC_TOTAL = 0, 4


@dataclass(frozen=True)
class Post:
    """What a permalink is made of: a post's id, type, slug, and local publishing time."""

    id: int
    type: str
    name: str
    published: datetime | None


def permalink(structure: str, post: Post) -> str:
    """Return a post's path as WordPress links it: the `permalink_structure` option's tags
    filled in (%year% %monthnum% %day% %hour% %minute% %second% %post_id% %postname%) for
    posts, /slug/ for pages; `/?p=ID` (`/?page_id=ID`) where the structure is plain or uses
    a tag that needs more than the post's own row (%category%, %author%)."""
    if post.type == "page":
        return f"/{post.name}/" if structure and post.name else f"/?page_id={post.id}"
    when = post.published
    tags = {
        "%post_id%": str(post.id),
        "%postname%": post.name,
    }
    if when is not None:
        tags |= {
            "%year%": f"{when.year:04d}",
            "%monthnum%": f"{when.month:02d}",
            "%day%": f"{when.day:02d}",
            "%hour%": f"{when.hour:02d}",
            "%minute%": f"{when.minute:02d}",
            "%second%": f"{when.second:02d}",
        }
    path = structure
    for tag, value in tags.items():
        path = path.replace(tag, value)
    if not structure or post.type != "post" or "%" in path or not post.name:
        return f"/?p={post.id}"
    return path if path.startswith("/") else "/" + path


def wp_statistics(
    visitor_days: Iterable[tuple[date, int, int]],
    summary_days: Iterable[tuple[date, int, int]],
    pages: Iterable[tuple[str, int]],
    historical: Iterable[tuple[str, str, int]],
) -> Snapshot:
    """Return WP Statistics' figures, no day counted twice.

    `visitor_days`: per day of `statistics_visitor` the sum of `hits` (views) and the rows
    (visitors); `summary_days`: `statistics_summary_totals` (views, visitors per completed
    day, kept through purges); `pages`: `statistics_pages` views per uri, all days;
    `historical`: `statistics_historical` (category, uri, value), what purges took away:
    "visitors", "visits" (page views) and "uri" (a page's views). A day still in the visitor
    table comes from it; a day only in the summary from the summary. The purged days are in
    both the summary and the historical totals, so the total takes the larger of the two for
    the days no longer in the visitor table."""
    days: dict[date, tuple[int, int]] = {}
    for day, views, visitors in visitor_days:
        days[day] = (views, min(visitors, views))
    summed = (0, 0)
    for day, views, visitors in summary_days:
        if day not in days:
            days[day] = (views, min(visitors, views))
            summed = (summed[0] + views, summed[1] + visitors)
    purged = {"visits": 0, "visitors": 0}
    by_page: dict[str, int] = {}
    for uri, views in pages:
        by_page[uri] = by_page.get(uri, 0) + views
    for category, uri, value in historical:
        if category in purged:
            purged[category] += value
        elif category == "uri":
            by_page[uri] = by_page.get(uri, 0) + value
    live = list(days.values())
    views = sum(v for v, _ in live) - summed[0] + max(summed[0], purged["visits"])
    visits = sum(u for _, u in live) - summed[1] + max(summed[1], purged["visitors"])
    return Snapshot(days=days, total=(views, min(visits, views)), pages=by_page)


def postviews(posts: Iterable[tuple[str, int]]) -> Snapshot:
    """Return WP-PostViews' `views` post meta: all-time views per post, their sum the total
    (it keeps no dates and no visitors)."""
    pages: dict[str, int] = {}
    for path, views in posts:
        pages[path] = pages.get(path, 0) + max(views, 0)
    return Snapshot(total=(sum(pages.values()), 0), pages=pages, by_key=_by_key(pages))


def post_views_counter(
    rows: Iterable[tuple[int, int, str, int]], paths: dict[int, str]
) -> Snapshot:
    """Return Post Views Counter's (post id, type, period, count) rows: the day rows summed
    over posts as days (views only; the dates as the plugin wrote them, in its own time
    zone), each post's all-time row as its page's views, and their sum (or the days', if
    larger) as the total. `paths` names each post id's page (`/?p=ID` when it has none).
    Rows of post id 0 are skipped: they are not a post's."""
    days: dict[date, tuple[int, int]] = {}
    pages: dict[str, int] = {}
    for post_id, kind, period, count in rows:
        if post_id <= 0 or count <= 0:
            continue
        if kind == PVC_DAY and len(period) == 8 and period.isdigit():
            try:
                day = date(int(period[:4]), int(period[4:6]), int(period[6:]))
            except ValueError:
                continue
            days[day] = (days.get(day, (0, 0))[0] + count, 0)
        elif kind == PVC_TOTAL:
            path = paths.get(post_id, f"/?p={post_id}")
            pages[path] = pages.get(path, 0) + count
    total = max(sum(pages.values()), sum(v for v, _ in days.values()))
    return Snapshot(days=days, total=(total, 0), pages=pages, by_key=_by_key(pages))


def _by_key(paths: Iterable[str]) -> frozenset[str]:
    """Return the paths `permalink` could only make of a query key (`/?p=ID`, `/?page_id=ID`)."""
    return frozenset(path for path in paths if path.startswith("/?"))
