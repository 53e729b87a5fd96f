"""Period reports (DESIGN §5 /report): the figures, the previous period, pages of whole months
and of days, local time zones, the CSV and XLSX files equal to the JSON, bad input, rights."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from redis.asyncio import Redis

from statsvc.core.calendar import local_day
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.periods import Period, period_of, recent_periods, whole_months
from statsvc.core.requester import Client as Client_
from statsvc.core.site import Site
from statsvc.service import reports
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store
from tests.helpers import (
    DAY,
    STORE_TIMEOUT,
    Client,
    FakeClock,
    admin_request,
    check_reply,
    dump,
    error_code,
    examples,
    forget,
    instant,
    new_token,
    ok,
    post_hit,
    put_site,
)

REPORT = "/api/v1/sites/demo/report"


async def hits(client: Client, path: str, n: int, site: str = "demo") -> None:
    """Count `n` views of `path` (one visitor: one visit a day)."""
    for _ in range(n):
        await post_hit(client, {"site": site, "path": path})


async def history(client: Client, clock: FakeClock) -> None:
    """Views on 2026-11-28, 29, 30 and 2026-12-01, 02 (Ho Chi Minh City), today 2026-12-02."""
    clock.set(datetime(2026, 11, 28, 3, tzinfo=UTC))
    for n, path in enumerate(["/a", "/b", "/a", "/c", "/a"]):
        await hits(client, path, n + 1)
        await post_hit(client, {"site": "demo", "path": "/"}, {"User-Agent": f"Mozilla/5.0 {n}"})
        clock.advance(DAY)
    clock.advance(-DAY)


async def test_report_sums_its_days_and_compares_across_a_month_boundary(
    client: Client, clock: FakeClock
) -> None:
    """A report of 2026-12-01..02 has its days' views and visits, the previous two days
    (2026-11-29..30, across the month's end) and the change in percent."""
    await history(client, clock)
    report = await ok(client, "GET", f"{REPORT}?from=2026-12-01&to=2026-12-02")
    assert (report["from"], report["to"], report["timezone"]) == (
        "2026-12-01",
        "2026-12-02",
        "Asia/Ho_Chi_Minh",
    )
    assert report["days"] == [
        {"date": "2026-12-01", "views": 5, "visits": 2},
        {"date": "2026-12-02", "views": 6, "visits": 2},
    ]
    assert (report["views"], report["visits"]) == (11, 4)
    assert report["previous"] == {
        "from": "2026-11-29",
        "to": "2026-11-30",
        "views": 3 + 4,
        "visits": 4,
    }
    assert report["change"] == {"views": round(4 * 100 / 7, 1), "visits": 0.0}
    assert report["pages"] == [
        {"path": "/a", "views": 5},
        {"path": "/c", "views": 4},
        {"path": "/", "views": 2},
    ]
    assert report["sources"] == [{"source": "(direct)", "name": "(direct)", "visits": 4}]
    assert "sites" not in report
    check_reply("GET", "/api/v1/sites/{site}/report", 200, report)


async def test_report_pages_of_whole_months_and_single_days(
    client: Client, clock: FakeClock
) -> None:
    """Pages of a range sum the whole months it covers (November) and its other days
    (December's first), most viewed first, ties by path."""
    await history(client, clock)
    report = await ok(client, "GET", f"{REPORT}?from=2026-11-01&to=2026-12-01")
    assert report["pages"] == [
        {"path": "/", "views": 4},
        {"path": "/a", "views": 4},
        {"path": "/c", "views": 4},
        {"path": "/b", "views": 2},
    ]


async def test_report_without_a_previous_period_kept_says_so(
    client: Client, clock: FakeClock
) -> None:
    """A report whose previous period reaches before the figures kept has null previous
    figures and null changes, not zeros."""
    clock.set(datetime(2026, 11, 26, 10, tzinfo=UTC))
    await hits(client, "/", 2)
    report = await ok(client, "GET", f"{REPORT}?from=2026-01-01&to=2026-11-26")
    assert report["previous"]["views"] is None
    assert report["previous"]["visits"] is None
    assert report["change"] == {"views": None, "visits": None}
    assert (report["views"], report["visits"]) == (2, 1)
    assert report["pages"] == [{"path": "/", "views": 2}]


async def test_report_defaults_to_this_month_up_to_today(client: Client) -> None:
    """A report without dates runs from the 1st of the site's month to its local today."""
    report = await ok(client, "GET", REPORT)
    assert (report["from"], report["to"], len(report["days"])) == ("2026-11-01", "2026-11-26", 26)
    assert report["change"] == {"views": None, "visits": None}  # nothing before: no change


async def test_months_and_quarters_begin_at_local_midnight(
    client: Client, clock: FakeClock
) -> None:
    """In a site's own zone (UTC-4 in October in New York) a view at 23:30 on 30 September
    belongs to the third quarter and one at 00:30 on 1 October to the fourth."""
    await put_site(client, "ny", {"timezone": "America/New_York"})
    clock.now = instant("2026-09-30T23:30:00-04:00")  # 2026-10-01 03:30 UTC
    await hits(client, "/q3", 1, site="ny")
    clock.now = instant("2026-10-01T00:30:00-04:00")
    await hits(client, "/q4", 2, site="ny")
    q4 = period_of("quarter", date(2026, 10, 1), "monday")
    report = await ok(client, "GET", f"/api/v1/sites/ny/report?from={q4.start}&to=2026-10-01")
    assert (report["views"], report["timezone"]) == (2, "America/New_York")
    assert report["pages"] == [{"path": "/q4", "views": 2}]
    assert report["previous"] == {
        "from": "2026-09-30",
        "to": "2026-09-30",
        "views": 1,
        "visits": 1,
    }
    assert report["change"] == {"views": 100.0, "visits": 0.0}


async def test_a_month_not_yet_over_is_compared_with_as_many_days(client: Client) -> None:
    """A report asked for the whole of this month ends today (26 November): its previous
    period is the 26 days before it, not a whole month, so the change compares like with like;
    a period wholly to come is today's one day, with nothing in it."""
    await hits(client, "/", 3)
    report = await ok(client, "GET", f"{REPORT}?from=2026-11-01&to=2026-11-30")
    assert (report["from"], report["to"], len(report["days"])) == ("2026-11-01", "2026-11-26", 26)
    assert (report["previous"]["from"], report["previous"]["to"]) == ("2026-10-06", "2026-10-31")
    ahead = await ok(client, "GET", f"{REPORT}?from=2026-12-01&to=2026-12-31")
    assert (ahead["from"], ahead["to"], ahead["views"]) == ("2026-12-01", "2026-12-01", 0)


async def test_names_that_look_like_formulas_stay_text_in_the_files(client: Client) -> None:
    """A site named like a spreadsheet formula ("=1+1") is text in the XLSX and, quoted, in
    the CSV: opening a report never runs what a name says."""
    await put_site(client, "demo", {"name": '=HYPERLINK("http://x.example","a")+1'})
    response = await admin_request(client, "GET", f"{REPORT}?format=xlsx")
    summary = load_workbook(io.BytesIO(await response.read())).worksheets[0]
    cell = summary["C2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x.example","a")+1', "s")
    response = await admin_request(client, "GET", f"{REPORT}?format=csv")
    first = csv_sections(await response.read())[0]
    assert first[1][2] == '\'=HYPERLINK("http://x.example","a")+1'


def test_calendar_periods_of_a_day() -> None:
    """Days, weeks (from the site's week start), months, quarters and years hold the day, and
    the recent ones go back to the oldest kept, the current one cut at today."""
    day = date(2026, 11, 26)  # a Thursday
    assert period_of("day", day, "monday") == Period(day, day)
    assert period_of("week", day, "monday") == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert period_of("week", day, "sunday") == Period(date(2026, 11, 22), date(2026, 11, 28))
    assert period_of("month", date(2024, 2, 10), "monday") == Period(
        date(2024, 2, 1), date(2024, 2, 29)
    )
    assert period_of("quarter", day, "monday") == Period(date(2026, 10, 1), date(2026, 12, 31))
    assert period_of("year", day, "monday") == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert recent_periods("quarter", day, "monday", date(2026, 1, 1)) == [
        Period(date(2026, 10, 1), day),
        Period(date(2026, 7, 1), date(2026, 9, 30)),
        Period(date(2026, 4, 1), date(2026, 6, 30)),
        Period(date(2026, 1, 1), date(2026, 3, 31)),
    ]
    assert Period(date(2026, 3, 1), date(2026, 3, 10)).previous() == Period(
        date(2026, 2, 19), date(2026, 2, 28)
    )


def test_whole_months_of_a_period() -> None:
    """A period's whole months are read from month tallies, its other days (up to today) from
    day tallies; the current month is whole when the period holds it up to today."""
    today = date(2026, 11, 26)
    assert whole_months(Period(date(2026, 10, 1), date(2026, 11, 30)), today) == (
        ["2026-10", "2026-11"],
        [],
    )
    assert whole_months(Period(date(2026, 10, 30), date(2026, 11, 26)), today) == (
        ["2026-11"],
        [date(2026, 10, 30), date(2026, 10, 31)],
    )
    assert whole_months(Period(date(2026, 11, 20), date(2026, 11, 22)), today) == (
        [],
        [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)],
    )


# -- the files -----------------------------------------------------------------------------


def csv_sections(body: bytes) -> list[list[list[str]]]:
    """Return a report's CSV (UTF-8 with BOM) cut into its sections at the empty rows."""
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body[3:].decode())))
    sections: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            sections[-1].append(row)
        else:
            sections.append([])
    return sections


def expected_tables(report: dict[str, Any], vi: bool) -> dict[str, list[list[Any]]]:
    """Return what each table of a report's files must hold, from its JSON."""
    names = ("Theo ngày", "Trang", "Nguồn") if vi else ("Days", "Pages", "Sources")
    days = [[date.fromisoformat(d["date"]), d["views"], d["visits"]] for d in report["days"]]
    shown = {s["source"]: s["name"] for s in report["sources"]}
    shown["(direct)"] = "Truy cập trực tiếp" if vi else "Direct"
    shown["(other)"] = "Khác" if vi else "Other sources"
    return {
        names[0]: days,
        names[1]: [[p["path"], p["views"]] for p in report["pages"]],
        names[2]: [[shown[s["source"]], s["source"], s["visits"]] for s in report["sources"]],
    }


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_csv_and_xlsx_equal_the_json(client: Client, clock: FakeClock, lang: str) -> None:
    """The CSV and the XLSX of a report (read back with openpyxl) hold the JSON's figures,
    days, pages and sources, numbers as numbers and dates as dates, headed in the language."""
    await history(client, clock)
    query = f"from=2026-11-29&to=2026-12-02&lang={lang}"
    report = await ok(client, "GET", f"{REPORT}?{query}")
    vi = lang == "vi"
    tables = expected_tables(report, vi)

    response = await admin_request(client, "GET", f"{REPORT}?{query}&format=xlsx")
    assert response.status == 200
    assert response.content_type.endswith("spreadsheetml.sheet")
    word = "bao-cao" if vi else "report"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{word}-demo-2026-11-29-2026-12-02.xlsx"'
    )
    book = load_workbook(io.BytesIO(await response.read()))
    summary = book.worksheets[0]
    assert summary.title == ("Tổng quan" if vi else "Summary")
    assert summary["A1"].value == ("Báo cáo thống kê truy cập" if vi else "Visit statistics report")
    cells: list[list[Any]] = [list(row) for row in summary.iter_rows(values_only=True)]
    assert [cells[1][1], cells[2][1], cells[3][1]] == [
        "demo",
        datetime(2026, 11, 29),  # a date cell: openpyxl reads it back as a datetime
        datetime(2026, 12, 2),
    ]
    figures = {row[0]: list(row[1:4]) for row in cells if row[0]}
    views, visits = ("Lượt xem", "Lượt truy cập") if vi else ("Views", "Visits")
    previous, change = report["previous"], report["change"]
    assert figures[views] == [report["views"], previous["views"], change["views"]]
    assert figures[visits] == [report["visits"], previous["visits"], change["visits"]]
    assert ("Kỳ trước" if vi else "Previous period") in figures
    for name, rows in tables.items():
        sheet = book[name]
        got = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
        got = [[v.date() if isinstance(v, datetime) else v for v in row] for row in got]
        assert got == rows, name

    response = await admin_request(client, "GET", f"{REPORT}?{query}&format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].endswith('-2026-11-29-2026-12-02.csv"')
    first, summed, *others = csv_sections(await response.read())
    assert first[0] == ["Báo cáo thống kê truy cập" if vi else "Visit statistics report"]
    assert first[2:4] == [[first[2][0], "2026-11-29"], [first[3][0], "2026-12-02"]]
    csv_rows = {row[0]: row[1:] for row in summed}
    assert csv_rows[views] == [str(report["views"]), str(previous["views"]), str(change["views"])]
    assert csv_rows[visits][0] == str(report["visits"])
    for (name, expected), section in zip(tables.items(), others, strict=True):
        assert section[0] == [name]
        assert section[2:] == [
            [v.isoformat() if isinstance(v, date) else str(v) for v in row] for row in expected
        ]


# -- bad input and rights --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-11-27&to=2026-11-26", "invalid_range"),
        ("from=2026-02-30&to=2026-03-01", "invalid_date"),
        ("from=yesterday&to=2026-11-26", "invalid_date"),
        ("from=2025-10-01&to=2025-10-31", "range_too_long"),  # before the 400 days kept
        ("from=2026-11-01&to=2027-12-31", "range_too_long"),  # more than 401 days
        ("from=2026-11-02&to=2026-11-10", "range_too_long"),  # days' pages: 7 days kept
        ("from=2026-11-01&to=2026-11-26&format=pdf", "bad_format"),
        ("format=", "bad_format"),
        ("lang=fr", "invalid_lang"),
    ],
)
async def test_bad_report_requests_are_4xx_and_change_nothing(
    client: Client, redis: Redis, prefix: str, query: str, code: str
) -> None:
    """A reversed range, a bad date, a range before the figures kept or too long, a format
    or language not offered: 400 with its code, and the store is as it was."""
    await hits(client, "/", 1)
    before = await dump(redis, prefix)
    response = await admin_request(client, "GET", f"{REPORT}?{query}")
    assert await error_code(response, 400) == code
    assert await dump(redis, prefix) == before


async def test_report_limits_say_the_retention(client: Client) -> None:
    """The refusal of a range reaching before the figures kept names the first day kept."""
    response = await admin_request(client, "GET", f"{REPORT}?from=2024-01-01&to=2024-01-31")
    body = await response.json()
    assert "400 days" in body["error"]["message"]
    assert "2025-10-22" in body["error"]["message"]


async def test_report_rights(client: Client) -> None:
    """A site's token reads its site's report, not another's; no token is 401; an unknown
    site is 404."""
    await put_site(client, "tuson", {})
    token = await new_token(client, "tuson")
    assert (await ok(client, "GET", "/api/v1/sites/tuson/report", token))["views"] == 0
    response = await admin_request(client, "GET", REPORT, token)
    assert await error_code(response, 403) == "forbidden"
    response = await admin_request(client, "GET", REPORT, None)
    assert await error_code(response, 401) == "unauthorized"
    response = await admin_request(client, "GET", "/api/v1/sites/nosuch/report")
    assert await error_code(response, 404) == "unknown_site"


# -- a model of random hits ------------------------------------------------------------------

ZONES = ("Asia/Ho_Chi_Minh", "America/New_York", "Pacific/Kiritimati", "Europe/Berlin", "UTC")
PATHS = ("/", "/a", "/tin-tuc")
PEOPLE = (
    Client_(ip="198.51.100.1", user_agent="Mozilla/5.0 A", origin=None, no_tracking=False),
    Client_(ip="198.51.100.2", user_agent="Mozilla/5.0 B", origin=None, no_tracking=False),
)
START = datetime(2026, 2, 25, 0, tzinfo=UTC).timestamp()  # a week across February's end


@settings(
    max_examples=examples(50),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(ZONES),
    views=st.lists(
        st.tuples(
            st.integers(0, 6 * 24 * 60),  # minutes after START
            st.integers(0, len(PEOPLE) - 1),
            st.integers(0, len(PATHS) - 1),
        ),
        max_size=25,
    ),
    start=st.integers(-1, 7),  # the range's first day, after START's local day (pages kept)
    length=st.integers(1, 6),
)
def test_report_figures_equal_a_model_of_random_hits(
    redis_url: str,
    zone: str,
    views: list[tuple[int, int, int]],
    start: int,
    length: int,
) -> None:
    """After random views over a week across a month's end, in a random zone, a report's
    views and visits are the sums of its days, and its days, previous period and pages are
    those of a model (a view's local day; a visit, a person's first view of a local day); a
    range past today ends today."""
    asyncio.run(report_of_random_hits(redis_url, zone, sorted(views), start, length))


async def report_of_random_hits(
    redis_url: str, zone: str, views: list[tuple[int, int, int]], start: int, length: int
) -> None:
    prefix = "rep" + secrets.token_hex(6)
    store = Store.from_url(
        redis_url, Keys(prefix), Limits(rate_limit=0, rate_limit_address=0), timeout=STORE_TIMEOUT
    )
    clock = FakeClock(START)
    service = StatsService(store, clock)
    site = Site(id="s", timezone=zone)
    day_views: Counter[date] = Counter()
    day_people: dict[date, set[int]] = defaultdict(set)
    page_views: Counter[tuple[date, str]] = Counter()
    try:
        await store.put_site(site)
        for minute, person, path in views:
            clock.now = START + minute * 60
            view = PageView(site="s", path=PATHS[path], host=None, id=None)
            await service.hit(view, PEOPLE[person])
            local = local_day(clock.now, site.zone)
            day_views[local] += 1
            day_people[local].add(person)
            page_views[local, PATHS[path]] += 1
        clock.now = START + 6 * DAY + 60  # after the last view: days' pages all kept
        first = local_day(START, site.zone) + timedelta(days=start)
        asked = Period(first, first + timedelta(days=length - 1))
        report = await reports.site_report(service, "s", asked)
        # a report ends today: days to come hold nothing and would skew the comparison
        today = local_day(clock.now, site.zone)
        period = Period(first, max(first, min(asked.end, today)))
    finally:
        await store.close()
        await forget(redis_url, prefix)

    def figures(days: list[date]) -> tuple[int, int]:
        return sum(day_views[d] for d in days), sum(len(day_people[d]) for d in days)

    assert [(d["date"], d["views"], d["visits"]) for d in report["days"]] == [
        (d.isoformat(), *figures([d])) for d in period.days()
    ]
    assert (report["views"], report["visits"]) == figures(period.days())
    assert report["views"] == sum(d["views"] for d in report["days"])
    assert report["visits"] == sum(d["visits"] for d in report["days"])
    before = figures(period.previous().days())
    assert (report["previous"]["views"], report["previous"]["visits"]) == before
    assert report["change"]["views"] == reports.change(report["views"], before[0])
    pages: Counter[str] = Counter()
    for (d, page), n in page_views.items():
        if period.start <= d <= period.end:
            pages[page] += n
    expected = sorted(pages.items(), key=lambda item: (-item[1], item[0]))
    assert [(p["path"], p["views"]) for p in report["pages"]] == expected
