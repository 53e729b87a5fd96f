"""Period reports of groups (DESIGN §5 /api/v1/groups/{group}/report): the sums of the
member sites' own reports (each in its own time zone), a site reached twice counted once,
the ranking, the files equal to the JSON, the instance's calendar, rights and bad input."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from redis.asyncio import Redis

from statsvc.core.calendar import local_day
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.periods import Period
from statsvc.core.requester import Client as Requester
from statsvc.core.site import Site
from statsvc.service import groups, reports
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store
from tests.helpers import (
    BROWSER,
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
    ok,
    post_hit,
    province,
    sign_in,
)

REPORT = "/api/v1/groups/tinh/report"
MEMBERS = ("xa1", "xa2", "xa3", "tinh-site")  # tinh's distinct sites (xa2 in both districts)
RANGE = "from=2026-11-24&to=2026-11-26"


async def views(client: Client, site: str, n: int, path: str = "/") -> None:
    """Count n views of a site's page, from n readers."""
    for i in range(n):
        headers = {"User-Agent": BROWSER.replace("128.0", f"{100 + i}.0")}
        await post_hit(client, {"site": site, "path": path}, headers)


async def busy_province(client: Client, clock: FakeClock) -> None:
    """The province, with views over 2026-11-22..26 at hours that fall on other local days
    in Berlin and New York than in Ho Chi Minh City."""
    await province(client)
    clock.set(datetime(2026, 11, 22, 3, tzinfo=UTC))  # 21st in New York
    for day in range(5):
        await views(client, "xa1", day + 1, "/tin-tuc")
        await views(client, "xa2", 2 * day + 1, "/thong-bao")
        await views(client, "xa3", 3, f"/p{day}")
        clock.advance(DAY // 2)  # 15:00 UTC: another day in Ho Chi Minh City
        await views(client, "tinh-site", day % 3 + 1)
        await views(client, "xa3", 1, "/")
        clock.advance(DAY // 2)
    clock.set(datetime(2026, 11, 26, 16, 30, tzinfo=UTC))  # 23:30 in Ho Chi Minh City


async def site_reports(client: Client, query: str) -> dict[str, dict[str, Any]]:
    """Read each member site's own report of the same dates."""
    return {
        site: await ok(client, "GET", f"/api/v1/sites/{site}/report?{query}") for site in MEMBERS
    }


async def test_group_report_is_the_sum_of_its_member_sites_reports(
    client: Client, clock: FakeClock
) -> None:
    """A group's views, visits, days and previous period are the sums of its distinct member
    sites' reports, each site's days in its own time zone; xa2, in both districts, once."""
    await busy_province(client, clock)
    report = await ok(client, "GET", f"{REPORT}?{RANGE}")
    members = await site_reports(client, RANGE)
    assert (report["group"], report["name"], report["timezone"]) == (
        "tinh",
        "Tỉnh",
        "Asia/Ho_Chi_Minh",
    )
    for key in ("views", "visits"):
        assert report[key] == sum(m[key] for m in members.values()), key
        assert report["previous"][key] == sum(m["previous"][key] for m in members.values())
    assert report["views"] > 0
    assert report["days"] == [
        {
            "date": day["date"],
            "views": sum(m["days"][n]["views"] for m in members.values()),
            "visits": sum(m["days"][n]["visits"] for m in members.values()),
        }
        for n, day in enumerate(members["xa1"]["days"])
    ]
    pages = [
        (page["views"], site, page["path"]) for site, m in members.items() for page in m["pages"]
    ]
    assert report["pages"] == [
        {"site": site, "path": path, "views": n}
        for n, site, path in sorted(pages, key=lambda p: (-p[0], p[1], p[2]))[:20]
    ]
    check_reply("GET", "/api/v1/groups/{group}/report", 200, report)


async def test_group_report_ranks_its_member_sites_by_views(
    client: Client, clock: FakeClock
) -> None:
    """ "sites" lists each distinct member site once, with its own report's views and
    visits, most views first (ties by id); a district's report ranks its own two."""
    await busy_province(client, clock)
    report = await ok(client, "GET", f"{REPORT}?{RANGE}")
    members = await site_reports(client, RANGE)
    expected = sorted(
        (
            {"site": s, "name": s, "views": m["views"], "visits": m["visits"]}
            for s, m in members.items()
        ),
        key=lambda row: (-row["views"], row["site"]),
    )
    assert report["sites"] == expected
    assert [row["site"] for row in report["sites"]].count("xa2") == 1
    district = await ok(client, "GET", f"/api/v1/groups/huyen-a/report?{RANGE}")
    assert {row["site"] for row in district["sites"]} == {"xa1", "xa2"}
    assert district["views"] == members["xa1"]["views"] + members["xa2"]["views"]


async def test_a_group_report_follows_the_instance_calendar(
    client: Client, clock: FakeClock
) -> None:
    """Without dates, a group's report is this month up to today in the instance's time zone
    (Ho Chi Minh City, already 1 December at 20:00 UTC), not New York's or UTC's."""
    await province(client)
    clock.set(datetime(2026, 11, 30, 20, tzinfo=UTC))
    report = await ok(client, "GET", REPORT)
    assert (report["from"], report["to"]) == ("2026-12-01", "2026-12-01")
    only_to = await ok(client, "GET", f"{REPORT}?to=2026-10-31")
    assert (only_to["from"], only_to["to"]) == ("2026-10-01", "2026-10-31")


async def test_an_empty_group_reports_zeros(client: Client) -> None:
    """A group with no member sites has a report of zeros and an empty ranking."""
    await ok(client, "PUT", "/api/v1/groups/trong", body={"name": "Trống"})
    report = await ok(client, "GET", "/api/v1/groups/trong/report?from=2026-11-20&to=2026-11-26")
    assert (report["views"], report["visits"], report["sites"], report["pages"]) == (0, 0, [], [])


async def test_an_empty_group_is_bounded_as_any_report(client: Client) -> None:
    """A group of no sites refuses a range of millennia (400 `range_too_long`, by the
    instance's today), where it once reached the calendar's end (a 500 found by
    schemathesis)."""
    await ok(client, "PUT", "/api/v1/groups/trong", body={"name": "Trống"})
    reply = await admin_request(
        client, "GET", "/api/v1/groups/trong/report?from=3338-08-09&to=9426-07-12"
    )
    assert await error_code(reply, 400) == "range_too_long"


# -- the files -----------------------------------------------------------------------------


def sheet_rows(book: Any, name: str) -> list[list[Any]]:
    """Return a sheet's rows under its heading, dates as dates."""
    rows = [list(row) for row in book[name].iter_rows(min_row=2, values_only=True)]
    return [[v.date() if isinstance(v, datetime) else v for v in row] for row in rows]


def csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    """Return a report CSV's tables after the summary, by name, without their headings."""
    assert body.startswith(b"\xef\xbb\xbf")
    sections = body[3:].decode().split("\r\n\r\n")
    tables: dict[str, list[list[str]]] = {}
    for section in sections[2:]:
        lines = [line.split(",") for line in section.strip("\r\n").split("\r\n")]
        tables[lines[0][0]] = lines[2:]
    return tables


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_group_csv_and_xlsx_equal_the_json(
    client: Client, clock: FakeClock, lang: str
) -> None:
    """The group report's XLSX (read back with openpyxl) and CSV hold the JSON's days, pages
    with their sites, and the ranked member sites, headed in the language."""
    await busy_province(client, clock)
    report = await ok(client, "GET", f"{REPORT}?{RANGE}")
    vi = lang == "vi"
    names = (
        ("Theo ngày", "Trang", "Trang web thành viên") if vi else ("Days", "Pages", "Member sites")
    )
    expected = {
        names[0]: [
            [date.fromisoformat(d["date"]), d["views"], d["visits"]] for d in report["days"]
        ],
        names[1]: [[p["site"], p["path"], p["views"]] for p in report["pages"]],
        names[2]: [[s["site"], s["name"], s["views"], s["visits"]] for s in report["sites"]],
    }
    response = await admin_request(client, "GET", f"{REPORT}?{RANGE}&lang={lang}&format=xlsx")
    word = "bao-cao" if vi else "report"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{word}-tinh-2026-11-24-2026-11-26.xlsx"'
    )
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames[-1] == names[2]
    summary = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert summary[1][:3] == ["Nhóm" if vi else "Group", "tinh", "Tỉnh"]
    figures = {row[0]: row[1] for row in summary if row[0]}
    assert figures["Lượt xem" if vi else "Views"] == report["views"]
    for name, rows in expected.items():
        assert sheet_rows(book, name) == rows, name

    response = await admin_request(client, "GET", f"{REPORT}?{RANGE}&lang={lang}&format=csv")
    tables = csv_tables(await response.read())
    for name, rows in expected.items():
        written = [[v.isoformat() if isinstance(v, date) else str(v) for v in row] for row in rows]
        assert tables[name] == written, name


# -- rights and bad input --------------------------------------------------------------------


async def test_a_group_token_reads_its_groups_report_only(client: Client) -> None:
    """A group's token reads its group's report, not another group's (403); no token is
    401; an unknown group is 404 unknown_group."""
    await province(client)
    made = await ok(client, "POST", "/api/v1/groups/huyen-a/tokens")
    token = made["token"]
    query = "from=2026-11-20&to=2026-11-26"
    mine = await ok(client, "GET", f"/api/v1/groups/huyen-a/report?{query}", token)
    assert mine["group"] == "huyen-a"
    response = await admin_request(client, "GET", f"/api/v1/groups/huyen-b/report?{query}", token)
    assert await error_code(response, 403) == "forbidden"
    response = await admin_request(client, "GET", f"{REPORT}?{query}", token)
    assert await error_code(response, 403) == "forbidden"
    response = await admin_request(client, "GET", f"{REPORT}?{query}", None)
    assert await error_code(response, 401) == "unauthorized"
    response = await admin_request(client, "GET", "/api/v1/groups/nosuch/report")
    assert await error_code(response, 404) == "unknown_group"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-11-27&to=2026-11-26", "invalid_range"),
        ("from=2026-02-30&to=2026-03-01", "invalid_date"),
        ("from=2025-10-01&to=2025-10-31", "range_too_long"),
        ("from=2026-11-02&to=2026-11-10", "range_too_long"),
        ("format=pdf", "bad_format"),
        ("lang=fr", "invalid_lang"),
    ],
)
async def test_bad_group_report_requests_are_4xx_and_change_nothing(
    client: Client, redis: Redis, prefix: str, query: str, code: str
) -> None:
    """The site report's refusals hold for a group's: 400 with the same code, the store as
    it was."""
    await province(client)
    before = await dump(redis, prefix)
    response = await admin_request(client, "GET", f"{REPORT}?{query}")
    assert await error_code(response, 400) == code
    assert await dump(redis, prefix) == before


# -- the dashboard ---------------------------------------------------------------------------


async def test_group_page_offers_the_periods_in_the_instance_calendar(
    client: Client, clock: FakeClock
) -> None:
    """The group page offers the site page's periods in the instance's calendar: at 20:00
    UTC on 30 November it is already December in Ho Chi Minh City, though not in New York."""
    await province(client)
    clock.set(datetime(2026, 11, 30, 20, tzinfo=UTC))
    await sign_in(client)
    html = await (await client.get("/admin/groups/tinh")).text()
    assert 'action="/admin/groups/tinh/report"' in html
    assert 'value="2026-12-01_2026-12-01" selected' in html  # this month, up to today
    assert 'value="2026-11-01_2026-11-30"' in html  # last month
    assert "Tháng 12/2026 (đến hôm nay)" in html
    assert "Asia/Ho_Chi_Minh" in html


async def test_group_report_page_and_downloads(client: Client, clock: FakeClock) -> None:
    """The group's report page shows its figures, its member sites ranked and pages naming
    their site, in Vietnamese, and links its CSV and XLSX with the member sites' sheet."""
    await busy_province(client, clock)
    await sign_in(client)
    reply = await client.get("/admin/groups/tinh/report?period=2026-11-24_2026-11-26")
    html = await reply.text()
    assert reply.status == 200, html
    assert "Báo cáo thống kê truy cập" in html and "Tỉnh" in html
    assert "Trang web thành viên" in html and "Quay lại nhóm" in html
    for site in MEMBERS:
        assert f"<td>{site}</td>" in html
    assert "/admin/groups/tinh/report.xlsx?from=2026-11-24&amp;to=2026-11-26&amp;lang=vi" in html
    reply = await client.get(f"/admin/groups/tinh/report.xlsx?{RANGE}&lang=vi")
    assert reply.status == 200
    book = load_workbook(io.BytesIO(await reply.read()))
    assert book.sheetnames == ["Tổng quan", "Theo ngày", "Trang", "Nguồn", "Trang web thành viên"]
    reply = await client.get(f"/admin/groups/tinh/report.pdf?{RANGE}")
    assert reply.status == 400
    reply = await client.get("/admin/groups/tinh/report?from=2026-11-26&to=2026-11-20")
    assert reply.status == 400 and "sau ngày kết thúc" in await reply.text()


async def test_group_report_page_follows_the_token(client: Client) -> None:
    """A group token's session reads its group's report page, not another group's."""
    await province(client)
    token = (await ok(client, "POST", "/api/v1/groups/huyen-a/tokens"))["token"]
    await sign_in(client, token)
    assert (await client.get(f"/admin/groups/huyen-a/report?{RANGE}")).status == 200
    assert (await client.get(f"/admin/groups/huyen-b/report?{RANGE}")).status == 403


# -- a model of random hits ------------------------------------------------------------------

ZONES = ("Asia/Ho_Chi_Minh", "America/New_York", "Pacific/Kiritimati", "Europe/Berlin", "UTC")
PEOPLE = tuple(
    Requester(ip=f"198.51.100.{n}", user_agent=BROWSER, origin=None, no_tracking=False)
    for n in range(2)
)
START = datetime(2026, 2, 25, 0, tzinfo=UTC).timestamp()  # a week across February's end
CLI = Principal("test", None)
# d1 holds s0, s1; d2 holds s1, s2; the province p holds both and s3: s1 reached twice
NESTING = [("d1", ["s0", "s1"], []), ("d2", ["s1", "s2"], []), ("p", ["s3"], ["d1", "d2"])]


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=4, max_size=4),
    views=st.lists(
        st.tuples(st.integers(0, 6 * 24 * 60), st.integers(0, 3), st.integers(0, 1)),
        max_size=25,
    ),
    start=st.integers(0, 6),
    length=st.integers(1, 5),
)
def test_group_report_equals_a_model_of_random_hits(
    redis_url: str, zones: list[str], views: list[tuple[int, int, int]], start: int, length: int
) -> None:
    """After random views of four sites in random zones, the province's report (s1 reached
    through both districts) has each day's views and visits summed over its distinct members'
    own local days, as a model counts them, and ranks the members by the model's views."""
    asyncio.run(group_report_of_random_hits(redis_url, zones, sorted(views), start, length))


async def group_report_of_random_hits(
    redis_url: str, zones: list[str], views: list[tuple[int, int, int]], start: int, length: int
) -> None:
    prefix = "grp" + secrets.token_hex(6)
    store = Store.from_url(
        redis_url, Keys(prefix), Limits(rate_limit=0, rate_limit_address=0), timeout=STORE_TIMEOUT
    )
    clock = FakeClock(START)
    service = StatsService(store, clock)
    sites = [Site(id=f"s{n}", timezone=zone) for n, zone in enumerate(zones)]
    day_views: Counter[tuple[str, date]] = Counter()
    day_people: dict[tuple[str, date], set[int]] = defaultdict(set)
    try:
        for site in sites:
            await store.put_site(site)
        for group_id, members, nested in NESTING:
            await groups.save_group(service, group_id, {"sites": members, "groups": nested}, CLI)
        for minute, site_n, person in views:
            clock.now = START + minute * 60
            site = sites[site_n]
            await service.hit(PageView(site.id, "/", None, None), PEOPLE[person])
            local = local_day(clock.now, site.zone)
            day_views[site.id, local] += 1
            day_people[site.id, local].add(person)
        clock.now = START + 6 * DAY + 60
        first = local_day(START, ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=start)
        asked = Period(first, first + timedelta(days=length - 1))
        report = await reports.group_report(service, "p", asked, timezone="Asia/Ho_Chi_Minh")
        # a report ends on the latest of its members' todays
        last = max(local_day(clock.now, site.zone) for site in sites)
        period = Period(first, max(first, min(asked.end, last)))
    finally:
        await store.close()
        await forget(redis_url, prefix)

    def site_figures(site: str, days: list[date]) -> tuple[int, int]:
        return sum(day_views[site, d] for d in days), sum(len(day_people[site, d]) for d in days)

    def figures(days: list[date]) -> tuple[int, int]:
        each = [site_figures(site.id, days) for site in sites]  # s1 once: the model's own sites
        return sum(v for v, _ in each), sum(u for _, u in each)

    assert [(d["date"], d["views"], d["visits"]) for d in report["days"]] == [
        (d.isoformat(), *figures([d])) for d in period.days()
    ]
    assert (report["views"], report["visits"]) == figures(period.days())
    before = figures(period.previous().days())
    assert (report["previous"]["views"], report["previous"]["visits"]) == before
    ranked = sorted(
        ((*site_figures(site.id, period.days()), site.id) for site in sites),
        key=lambda row: (-row[0], row[2]),
    )
    assert [(s["site"], s["views"], s["visits"]) for s in report["sites"]] == [
        (site, v, u) for v, u, site in ranked
    ]


# -- traffic sources -------------------------------------------------------------------------

SEARCH = "https://www.google.com.vn/search?q=thu-tuc"  # kept as google.com
SOCIAL = "https://m.facebook.com/story.php?id=1"  # kept as facebook.com
COCCOC = "https://coccoc.com/search#query=xa"
NEWS = "https://baomoi.com/tin/1.epi"
HOSTS = {SEARCH: "google.com", SOCIAL: "facebook.com", COCCOC: "coccoc.com", NEWS: "baomoi.com"}
# site, reader, referrer: a reader's first view of the day brings the visit's source
REFERRED = [
    ("xa1", 1, SEARCH),
    ("xa1", 1, SOCIAL),  # the same reader's second view: no new visit
    ("xa1", 2, SOCIAL),
    ("xa2", 1, SEARCH),
    ("xa2", 3, COCCOC),
    ("xa3", 1, None),
    ("xa3", 2, SEARCH),
    ("tinh-site", 4, NEWS),
]


def counted_sources(sites: set[str]) -> dict[str, int]:
    """Return the visits by source of REFERRED's views on `sites`, counted as a model does."""
    seen: set[tuple[str, int]] = set()
    visits: Counter[str] = Counter()
    for site, reader, referrer in REFERRED:
        if site in sites and (site, reader) not in seen:
            seen.add((site, reader))
            visits[HOSTS[referrer] if referrer else "(direct)"] += 1
    return dict(visits)


async def referred_views(client: Client) -> None:
    """Post REFERRED's views on 2026-11-26, each reader a browser of their own."""
    for site, reader, referrer in REFERRED:
        headers = {"User-Agent": BROWSER.replace("128.0", f"{100 + reader}.0")}
        body = {"site": site, "path": "/", **({"referrer": referrer} if referrer else {})}
        await post_hit(client, body, headers)


async def test_report_sources_are_the_visits_by_source_of_the_hits(client: Client) -> None:
    """A site's and a group's report list the period's visits by the source their first view
    came from, named (Google, Cốc Cốc…), most first; the group's are its distinct member
    sites' summed (xa2, in both districts, once)."""
    await province(client)
    await referred_views(client)
    query = "from=2026-11-26&to=2026-11-26"
    for path, sites in [
        ("/api/v1/sites/xa1/report", {"xa1"}),
        ("/api/v1/groups/huyen-b/report", {"xa2", "xa3"}),
        (REPORT, set(MEMBERS)),
    ]:
        report = await ok(client, "GET", f"{path}?{query}")
        got = {s["source"]: s["visits"] for s in report["sources"]}
        assert got == counted_sources(sites), path
        assert sum(got.values()) == report["visits"], path
        counts = [s["visits"] for s in report["sources"]]
        assert counts == sorted(counts, reverse=True), path
    names = {s["source"]: s["name"] for s in report["sources"]}
    assert (names["google.com"], names["coccoc.com"], names["baomoi.com"]) == (
        "Google",
        "Cốc Cốc",
        "Báo Mới",
    )
    check_reply("GET", "/api/v1/groups/{group}/report", 200, report)


async def test_report_files_and_page_name_the_sources(client: Client) -> None:
    """The group's XLSX and CSV list the JSON's sources with their names in the language,
    (direct) in words; the report page names them too."""
    await province(client)
    await referred_views(client)
    query = "from=2026-11-26&to=2026-11-26"
    report = await ok(client, "GET", f"{REPORT}?{query}")
    response = await admin_request(client, "GET", f"{REPORT}?{query}&format=xlsx")
    book = load_workbook(io.BytesIO(await response.read()))
    shown = {s["source"]: s["name"] for s in report["sources"]} | {"(direct)": "Truy cập trực tiếp"}
    expected = [[shown[s["source"]], s["source"], s["visits"]] for s in report["sources"]]
    assert sheet_rows(book, "Nguồn") == expected
    assert book["Nguồn"]["B1"].value == "Tên miền"
    response = await admin_request(client, "GET", f"{REPORT}?{query}&format=csv")
    assert csv_tables(await response.read())["Nguồn"] == [list(map(str, r)) for r in expected]
    await sign_in(client)
    html = await (await client.get(f"/admin/groups/tinh/report?{query}")).text()
    assert "Cốc Cốc <small>coccoc.com</small>" in html
    assert "Truy cập trực tiếp" in html
