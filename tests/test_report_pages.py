"""The dashboard's period report: the periods the site page offers, the printable page and
its downloads, in Vietnamese by default, errors as pages, and who may read them."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from tests.helpers import Client, FakeClock, new_token, post_hit, put_site, sign_in


async def test_site_page_offers_the_periods_kept(client: Client) -> None:
    """The site page offers days, weeks, months, quarters and years, current ones up to today
    (the 26th of November 2026), and no period whose figures are gone."""
    await sign_in(client)
    html = await (await client.get("/admin/sites/demo")).text()
    assert "Báo cáo theo kỳ" in html
    assert 'value="2026-11-01_2026-11-26" selected' in html  # this month, up to today
    assert 'value="2026-10-01_2026-10-31"' in html  # last month
    assert 'value="2026-10-01_2026-11-26"' in html  # this quarter
    assert 'value="2026-01-01_2026-11-26"' in html  # this year
    assert 'value="2026-11-19_2026-11-19"' in html  # the oldest day whose pages are kept
    assert 'value="2026-11-18_2026-11-18"' not in html
    assert 'value="2025-01-01_2025-12-31"' not in html  # last year: not all kept
    assert "Tháng 11/2026 (đến hôm nay)" in html
    assert "Quý 4/2026" in html


async def test_report_page_and_downloads(client: Client, clock: FakeClock) -> None:
    """The report page shows the period's figures, the previous period and the change, with
    A4 print styles, and links its CSV and XLSX, headed in the page's language."""
    clock.set(datetime(2026, 11, 25, 3, tzinfo=UTC))
    await post_hit(client, {"site": "demo", "path": "/tin-tuc"})
    clock.set(datetime(2026, 11, 26, 3, tzinfo=UTC))
    for _ in range(3):
        await post_hit(client, {"site": "demo", "path": "/lien-he"})
    await sign_in(client)
    reply = await client.get("/admin/sites/demo/report?period=2026-11-26_2026-11-26")
    html = await reply.text()
    assert reply.status == 200, html
    assert "Báo cáo thống kê truy cập" in html
    assert "Kỳ trước" in html and "Thay đổi (%)" in html
    assert "+200 %" in html  # 3 views against 1 the day before
    assert "/lien-he" in html and "/tin-tuc" not in html
    assert "data-print" in html
    csv_link = "/admin/sites/demo/report.csv?from=2026-11-26&amp;to=2026-11-26&amp;lang=vi"
    assert csv_link in html
    css = await (await client.get("/static/dashboard.css")).text()
    assert "@page { size: A4" in css

    reply = await client.get("/admin/sites/demo/report.xlsx?from=2026-11-26&to=2026-11-26&lang=vi")
    assert reply.status == 200
    assert (
        'filename="bao-cao-demo-2026-11-26-2026-11-26.xlsx"' in reply.headers["Content-Disposition"]
    )
    book = load_workbook(io.BytesIO(await reply.read()))
    assert book.sheetnames == ["Tổng quan", "Theo ngày", "Trang", "Nguồn"]
    reply = await client.get("/admin/sites/demo/report.csv?from=2026-11-26&to=2026-11-26&lang=en")
    assert (await reply.read()).startswith(b"\xef\xbb\xbfVisit statistics report")


async def test_report_page_errors_are_pages_in_the_language(client: Client) -> None:
    """A period not kept, reversed or unreadable, or a file format not offered, is a 400
    page that says why in Vietnamese."""
    await sign_in(client)
    for query, words in [
        ("from=2024-01-01&to=2024-01-31", "không còn được lưu"),
        ("from=2026-11-26&to=2026-11-20", "sau ngày kết thúc"),
        ("period=tuesday", "Hãy chọn ngày"),
        ("period=9999-12-01_9999-12-31", "Hãy chọn ngày"),
        ("from=20261101&to=20261126", "Hãy chọn ngày"),
    ]:
        reply = await client.get(f"/admin/sites/demo/report?{query}")
        html = await reply.text()
        assert reply.status == 400, html
        assert words in html, html
    reply = await client.get("/admin/sites/demo/report.pdf?from=2026-11-26&to=2026-11-26")
    assert reply.status == 400


async def test_report_page_follows_the_token(client: Client) -> None:
    """A site token's session reads its own site's report page and no other site's."""
    await put_site(client, "tuson", {})
    token = await new_token(client, "tuson")
    await sign_in(client, token)
    assert (
        await client.get("/admin/sites/tuson/report?from=2026-11-01&to=2026-11-26")
    ).status == 200
    assert (
        await client.get("/admin/sites/demo/report?from=2026-11-01&to=2026-11-26")
    ).status == 403
