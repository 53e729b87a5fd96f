"""widget.js, the SVG badge and the landing page as HTTP resources."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import replace
from importlib.resources import files
from xml.etree import ElementTree

import pytest
from pytest_aiohttp import AiohttpClient

from statsvc.app import create_app
from statsvc.core.box import LABELS, BoxOptions, box_lines, box_options, format_number
from statsvc.core.errors import BadInput
from statsvc.core.requester import parse_networks
from statsvc.settings import Settings
from tests.helpers import Client, FakeClock, admin, sign_in

SVG = "{http://www.w3.org/2000/svg}"
WIDGET = files("statsvc.widget").joinpath("widget.js").read_text(encoding="utf-8")


def test_widget_is_under_4_kb_gzipped() -> None:
    """widget.js stays small: under 4 KB once gzip-compressed."""
    assert len(gzip.compress(WIDGET.encode(), compresslevel=9)) < 4096


def test_widget_uses_no_inner_html_or_eval() -> None:
    """The widget builds the box with createElement/textContent only, and never evaluates code."""
    code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", WIDGET, flags=re.DOTALL | re.MULTILINE)
    for banned in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "eval(",
        "new Function",
        "document.write",
    ):
        assert banned not in code


def test_widget_labels_match_the_badge_labels() -> None:
    """The script and the SVG badge use the same words, in the same order."""
    for lang, words in LABELS.items():
        match = re.search(lang + r": \[(.*?)\]", WIDGET, flags=re.DOTALL)
        assert match is not None
        assert tuple(json.loads("[" + match.group(1) + "]")) == words


async def test_widget_is_served_gzipped_with_an_etag(client: Client) -> None:
    """GET /widget.js: JavaScript, gzip when accepted, an ETag, a short public cache, open CORS."""
    response = await client.get(
        "/widget.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert re.fullmatch(r'"[0-9a-f]{16}-gz"', response.headers["ETag"])
    assert gzip.decompress(await response.read()).decode() == WIDGET


async def test_gzip_and_identity_bodies_have_their_own_etags(client: Client) -> None:
    """Each byte sequence has its own strong ETag; q=0 refuses gzip; either tag revalidates."""
    plain = await client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    refused = await client.get("/widget.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert "Content-Encoding" not in refused.headers
    again = await client.get(
        "/widget.js",
        headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]},
    )
    assert again.status == 304


async def test_widget_answers_304_to_a_matching_etag(client: Client) -> None:
    """A cached copy is revalidated with If-None-Match and answered 304 without a body."""
    etag = (await client.get("/widget.js")).headers["ETag"]
    again = await client.get("/widget.js", headers={"If-None-Match": f'W/"x", {etag}'})
    assert again.status == 304
    assert await again.read() == b""
    changed = await client.get("/widget.js", headers={"If-None-Match": '"0000000000000000"'})
    assert changed.status == 200


async def test_versioned_widget_url_is_immutable(client: Client) -> None:
    """/widget.<hash>.js is cached for a year; another hash is 404."""
    plain = await client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    version = plain.headers["ETag"].strip('"')
    response = await client.get(f"/widget.{version}.js")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert await response.text() == WIDGET
    assert (await client.get("/widget.0123456789abcdef.js")).status == 404


async def badge(client: Client, query: str) -> tuple[int, str]:
    response = await client.get(f"/api/v1/badge.svg?{query}")
    return response.status, await response.text()


def badge_rows(svg: str) -> list[str]:
    """Return the rows the badge draws as 'label value'."""
    texts = [t.text or "" for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]
    rows = texts[1:]  # after the title; each row is bullet, label, value
    return [f"{rows[i + 1]} {rows[i + 2]}" for i in range(0, len(rows), 3)]


async def test_badge_draws_the_box_and_counts_a_view(client: Client) -> None:
    """badge.svg is an uncached SVG image of the box, and loading it counts a view."""
    response = await client.get("/api/v1/badge.svg?site=demo&pad=6&path=/a")
    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert badge_rows(await response.text()) == [
        "Đang online: 000001",
        "Hôm nay: 000001",
        "Trong tuần: 000001",
        "Tất cả: 000001",
    ]
    counts = await (await client.get("/api/v1/counts?site=demo&path=/a")).json()
    assert counts["page"]["total"] == 1


async def test_badge_with_count_0_counts_nothing(client: Client) -> None:
    """count=0 draws the box from the counts without counting the view."""
    status, svg = await badge(
        client, "site=demo&count=0&lang=en&metric=views&rows=total,page&path=/a"
    )
    assert status == 200
    assert badge_rows(svg) == ["Total: 0", "This page: 0"]
    counts = await (await client.get("/api/v1/counts?site=demo")).json()
    assert counts["views"]["total"] == 0


async def test_badge_escapes_the_title(client: Client) -> None:
    """A title with markup is drawn as text, never as SVG or HTML."""
    status, svg = await badge(client, "site=demo&count=0&title=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 200
    assert "<script>" not in svg
    title = ElementTree.fromstring(svg).find(f"{SVG}title")
    assert title is not None and title.text == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("site=demo&rows=online,bogus", "invalid_rows"),
        ("site=demo&rows=", "invalid_rows"),
        ("site=demo&pad=-1", "invalid_pad"),
        ("site=demo&pad=21", "invalid_pad"),
        ("site=demo&pad=x", "invalid_pad"),
        ("site=demo&theme=neon", "invalid_theme"),
        ("site=demo&lang=fr", "invalid_lang"),
        ("site=demo&metric=hits", "invalid_metric"),
        ("site=demo&count=maybe", "invalid_count"),
        ("site=demo&title=" + "x" * 41, "invalid_title"),
        ("site=demo&title=a%0Bb", "invalid_title"),
        ("site=demo&pad=%C2%B2", "invalid_pad"),
        ("site=demo&theme=none", "invalid_theme"),
        ("site=demo&path=nope", "invalid_path"),
        ("site=../x", "invalid_site"),
        ("pad=3", "invalid_site"),
    ],
)
async def test_badge_rejects_bad_options(client: Client, query: str, code: str) -> None:
    """Every badge option is checked against its whitelist: 400 with a JSON error, no count."""
    response = await client.get(f"/api/v1/badge.svg?{query}")
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code
    counts = await (await client.get("/api/v1/counts?site=demo")).json()
    assert counts["views"]["total"] == 0


async def test_badge_without_path_counts_the_site_and_no_page(client: Client) -> None:
    """Without path, the badge counts a view of the site and of no page, whatever its Referer
    says (under the default referrer policy only the origin: every page would read as /); the
    page rows are left out of the image; HEAD is 405 and counts nothing."""
    response = await client.get(
        "/api/v1/badge.svg?site=demo&rows=total,page,page_online&metric=views",
        headers={"Referer": "https://x.vn/"},
    )
    assert response.status == 200
    assert badge_rows(await response.text()) == ["Tất cả: 1"]
    assert (await client.head("/api/v1/badge.svg?site=demo")).status == 405
    home = await (await client.get("/api/v1/counts?site=demo&path=/")).json()
    assert (home["views"]["total"], home["visits"]["total"], home["page"]["total"]) == (1, 1, 0)
    pages = await client.get("/api/v1/sites/demo/pages?window=total", headers=admin())
    assert (await pages.json())["pages"] == []


async def test_badge_with_path_counts_that_page(client: Client) -> None:
    """With path, the badge counts the view of that page (normalised as a hit's) and draws
    its rows."""
    _, svg = await badge(client, "site=demo&path=/tin-tuc//a&rows=total,page&metric=views")
    assert badge_rows(svg) == ["Tất cả: 1", "Trang này: 1"]
    counts = await (await client.get("/api/v1/counts?site=demo&path=/tin-tuc/a")).json()
    assert (counts["views"]["total"], counts["page"]["total"]) == (1, 1)


async def test_badge_grows_to_fit_a_long_title(client: Client) -> None:
    """A 40-character title widens the image instead of running out of it."""
    _, svg = await badge(client, "site=demo&count=0&title=" + "W" * 40)
    assert int(ElementTree.fromstring(svg).attrib["width"]) >= 24 + 8.6 * 40


async def test_landing_snippet_uses_the_public_origin_behind_a_trusted_proxy(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """Behind a TLS proxy the snippet says https and the public host, not what the proxy used."""
    app = create_app(replace(settings, trusted_proxies=parse_networks("127.0.0.1")), clock=clock)
    proxied = await aiohttp_client(app)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "stats.example.vn"}
    html = await (await proxied.get("/", headers=headers)).text()
    assert 'src="https://stats.example.vn/widget.js"' in html.replace("&#34;", '"')
    untrusted = await (await aiohttp_client(create_app(settings, clock=clock))).get(
        "/", headers=headers
    )
    assert "stats.example.vn" not in await untrusted.text()


async def test_pages_that_print_the_public_origin_are_never_stored(
    aiohttp_client: AiohttpClient, settings: Settings, clock: FakeClock
) -> None:
    """The landing page and a site's dashboard page, whose snippets name the origin that the
    Host and X-Forwarded-* headers give, are sent with Cache-Control: no-store: no cache
    serves one client's origin to another."""
    app = create_app(replace(settings, trusted_proxies=parse_networks("127.0.0.1")), clock=clock)
    proxied = await aiohttp_client(app)
    landing = await proxied.get("/", headers={"X-Forwarded-Host": "evil.example"})
    assert landing.status == 200
    assert landing.headers["Cache-Control"] == "no-store"
    await sign_in(proxied)
    site_page = await proxied.get("/admin/sites/demo", headers={"X-Forwarded-Host": "x.example"})
    assert 'src="http://x.example/widget.js"' in (await site_page.text()).replace("&#34;", '"')
    assert site_page.headers["Cache-Control"] == "no-store"


async def test_badge_of_unknown_site_is_404(client: Client) -> None:
    """An unknown site is 404 unknown_site, as on every public endpoint."""
    response = await client.get("/api/v1/badge.svg?site=nosuch")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "unknown_site"


@pytest.mark.parametrize(
    ("n", "lang", "pad", "shown"),
    [
        (13457, "vi", 0, "13.457"),
        (13457, "en", 0, "13,457"),
        (13457, "vi", 6, "013457"),
        (1234567, "vi", 6, "1234567"),
        (0, "en", 0, "0"),
    ],
)
def test_numbers_are_grouped_or_padded(n: int, lang: str, pad: int, shown: str) -> None:
    """Numbers read as the locale groups them, or zero-padded to `pad` digits."""
    assert format_number(n, lang, pad) == shown


def test_box_options_default_to_the_widget_defaults() -> None:
    """No options: visits, the four classic rows, light theme, the site's language, counting."""
    assert box_options({}) == BoxOptions()
    with pytest.raises(BadInput):
        box_options({"rows": ",".join(["total"] * 9)})


def test_box_lines_follow_the_site_locale() -> None:
    """Without lang the box speaks the site's locale; with it, the language asked for."""
    counts = {"online": 2, "visits": {"total": 5}, "views": {"total": 9}, "page": {}}
    options = BoxOptions(rows=("online", "total"))
    assert box_lines(counts, options, "en") == (
        "Visit statistics",
        [("Online now", "2"), ("Total", "5")],
    )
    assert box_lines(counts, BoxOptions(lang="vi", rows=("total",)), "en")[1] == [("Tất cả", "5")]


async def test_landing_page_has_the_live_widget_snippet_and_a_strict_csp(client: Client) -> None:
    """GET / shows what statsvc is, embeds the live box and the snippet, under its own CSP."""
    response = await client.get("/")
    assert response.status == 200
    html = await response.text()
    assert 'src="/widget.js" data-site="demo"' in html
    assert "Thống kê truy cập" in html
    assert "&lt;script src=" in html  # the snippet is shown as text, escaped
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    for name in ("/static/landing.js", "/static/landing.css"):
        assert (await client.get(name)).status == 200
    assert (await client.get("/static/nothing.js")).status == 404
