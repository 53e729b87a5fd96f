"""The edge: hit and ping bodies parsed into page views or named errors, and paths normalised."""

from __future__ import annotations

import json

import pytest

from statsvc.core.errors import BadInput
from statsvc.core.pageview import PageView, normalise_path, parse_body

MAX_URL = 2048  # DESIGN and house style: a URL of 2048 characters is the longest accepted
MAX_PATH_BYTES = 512  # DESIGN §1: a page is at most 512 bytes


def body(**fields: object) -> bytes:
    """Return a JSON body with `fields`, as the widget would send it."""
    return json.dumps(fields).encode()


HOST = "https://x.vn/"
URL_OF_MAX_LENGTH = HOST + "a" * (MAX_URL - len(HOST))
PATH_OF_MAX_LENGTH = "/" + "a" * (MAX_URL - 1)
U_HORN = "\u1ee9"  # "ứ": three bytes in UTF-8
U_HORN_ESCAPED = "%E1%BB%A9"

ACCEPTED = [
    pytest.param(
        body(site="tuson", url="https://tuson.example.vn/tin-tuc/a?x=1#top"),
        PageView("tuson", "/tin-tuc/a?x=1", "tuson.example.vn", None),
        id="url-keeps-query-drops-fragment",
    ),
    pytest.param(
        body(site="tuson", url="HTTPS://Tuson.Example.VN"),
        PageView("tuson", "/", "tuson.example.vn", None),
        id="url-without-path-is-home",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn?q=1"),
        PageView("tuson", "/?q=1", "x.vn", None),
        id="url-query-on-home",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn#top"),
        PageView("tuson", "/", "x.vn", None),
        id="url-fragment-on-home",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn#"),
        PageView("tuson", "/", "x.vn", None),
        id="url-empty-fragment-on-home",
    ),
    pytest.param(
        body(site="tuson", url="  http://x.vn/a  "),
        PageView("tuson", "/a", "x.vn", None),
        id="url-surrounding-space",
    ),
    pytest.param(
        body(site="tuson", path="/a?x=1#top"),
        PageView("tuson", "/a?x=1#top", None, None),
        id="path",
    ),
    pytest.param(
        body(site="tuson", url=None, path="/a"),
        PageView("tuson", "/a", None, None),
        id="null-url-falls-back-to-path",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn/u", path="/p"),
        PageView("tuson", "/u", "x.vn", None),
        id="url-wins-over-path",
    ),
    pytest.param(
        body(
            site="tuson",
            path="/",
            referrer="https://www.google.com/",
            title="Tin t\u1ee9c",
            id="AbC-_123",
        ),
        PageView("tuson", "/", None, "AbC-_123", referrer="google.com"),
        id="text-fields-and-8-char-id",
    ),
    pytest.param(
        body(site="tuson", path="/", referrer=None, title=None, id=None),
        PageView("tuson", "/", None, None),
        id="null-optional-fields",
    ),
    pytest.param(
        body(site="tuson", path="/", title="t" * 3000, referrer=["any", 5], id="x" * 64),
        PageView("tuson", "/", None, "x" * 64),
        id="unused-title-and-referrer-of-any-shape-and-64-char-id",
    ),
    pytest.param(
        body(site="tuson", path="/", extra={"ignored": [1, 2]}),
        PageView("tuson", "/", None, None),
        id="unknown-fields-ignored",
    ),
    pytest.param(
        body(site="a" * 63, path="/"),
        PageView("a" * 63, "/", None, None),
        id="63-char-site",
    ),
    pytest.param(
        body(site="0a_b-c", path="/"),
        PageView("0a_b-c", "/", None, None),
        id="site-with-digit-underscore-dash",
    ),
    pytest.param(
        body(site="tuson", url=URL_OF_MAX_LENGTH),
        PageView("tuson", URL_OF_MAX_LENGTH[len(HOST) - 1 :], "x.vn", None),
        id="url-of-exactly-2048-chars",
    ),
    pytest.param(
        body(site="tuson", path="/" + "a" * (MAX_URL - 1)),
        PageView("tuson", "/" + "a" * (MAX_URL - 1), None, None),
        id="path-of-exactly-2048-chars",
    ),
    pytest.param(
        b'\n {"site": "tuson",\n  "path": "/"}\n',
        PageView("tuson", "/", None, None),
        id="surrounding-whitespace",
    ),
    pytest.param(
        body(site="tuson", url=URL_OF_MAX_LENGTH + "?utm_source=fb"),
        PageView("tuson", URL_OF_MAX_LENGTH[len(HOST) - 1 :], "x.vn", None),
        id="url-over-2048-by-its-query-loses-the-query",
    ),
    pytest.param(
        body(site="tuson", url=URL_OF_MAX_LENGTH + "#top"),
        PageView("tuson", URL_OF_MAX_LENGTH[len(HOST) - 1 :], "x.vn", None),
        id="url-over-2048-by-its-fragment-loses-the-fragment",
    ),
    pytest.param(
        body(site="tuson", path=PATH_OF_MAX_LENGTH + "?utm_source=fb"),
        PageView("tuson", PATH_OF_MAX_LENGTH, None, None),
        id="path-over-2048-by-its-query-loses-the-query",
    ),
    pytest.param(
        body(site="tuson", url=HOST + U_HORN * (MAX_URL - len(HOST))),
        PageView("tuson", "/" + U_HORN * (MAX_URL - len(HOST)), "x.vn", None),
        id="url-of-2048-characters-of-3-bytes",
    ),
    pytest.param(
        body(site="tuson", url="https://x.vn/a#b?c=1"),
        PageView("tuson", "/a", "x.vn", None),
        id="query-after-the-fragment-is-fragment",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn:8080/a"),
        PageView("tuson", "/a", "x.vn", None),
        id="url-with-port",
    ),
    pytest.param(
        body(site="tuson", url="http://user:secret@x.vn/a"),
        PageView("tuson", "/a", "x.vn", None),
        id="url-userinfo-dropped",
    ),
    pytest.param(
        body(site="tuson", url="http://[2001:db8::1]:8080/a?b=1"),
        PageView("tuson", "/a?b=1", "2001:db8::1", None),
        id="url-ipv6-host",
    ),
    pytest.param(
        body(site="tuson", url="HTTP://X.VN/A"),
        PageView("tuson", "/A", "x.vn", None),
        id="scheme-and-host-case-folded-path-kept",
    ),
    pytest.param(
        body(site="tuson", path="//evil.example/a"),
        PageView("tuson", "//evil.example/a", None, None),
        id="path-like-a-host-is-a-path",
    ),
    pytest.param(
        body(site="tuson", url="http://x.vn/", path=5),
        PageView("tuson", "/", "x.vn", None),
        id="url-wins-over-a-bad-path",
    ),
    pytest.param(
        b'{"site": "other", "site": "tuson", "path": "/"}',
        PageView("tuson", "/", None, None),
        id="repeated-key-last-wins",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted_bodies_parse_to_page_views(raw: bytes, expected: PageView) -> None:
    """A well-formed body parses into its site, raw path, page host and page-view id."""
    assert parse_body(raw) == expected


REJECTED = [
    pytest.param(b"", "empty_body", id="empty"),
    pytest.param(b" \r\n\t", "empty_body", id="blank"),
    pytest.param(b"site=tuson&path=/", "invalid_json", id="form-encoded"),
    pytest.param(b'{"site": "tuson"', "invalid_json", id="truncated"),
    pytest.param(b'{"site": "tuson", "path": "/", "n": NaN}', "invalid_json", id="NaN"),
    pytest.param(b'{"site": "tuson", "path": "/", "n": Infinity}', "invalid_json", id="Infinity"),
    pytest.param(b'{"site": "tuson", "path": "/", "n": -Infinity}', "invalid_json", id="-Infinity"),
    pytest.param(b'{"site": "tuson", "path": "/\xff"}', "invalid_json", id="not-utf-8"),
    pytest.param(b"[" * 6000, "invalid_json", id="deeply-nested"),
    pytest.param(b'[{"site": "tuson", "path": "/"}]', "invalid_json", id="array"),
    pytest.param(b'"tuson"', "invalid_json", id="string"),
    pytest.param(b"null", "invalid_json", id="null"),
    pytest.param(b"42", "invalid_json", id="number"),
    pytest.param(body(path="/"), "missing_site", id="no-site"),
    pytest.param(body(site=None, path="/"), "missing_site", id="null-site"),
    pytest.param(body(site="../x", path="/"), "invalid_site", id="site-../x"),
    pytest.param(body(site="{a}", path="/"), "invalid_site", id="site-{a}"),
    pytest.param(body(site="*", path="/"), "invalid_site", id="site-*"),
    pytest.param(body(site="A", path="/"), "invalid_site", id="site-A"),
    pytest.param(body(site="", path="/"), "invalid_site", id="site-empty"),
    pytest.param(body(site="-a", path="/"), "invalid_site", id="site-leading-dash"),
    pytest.param(body(site="_a", path="/"), "invalid_site", id="site-leading-underscore"),
    pytest.param(body(site="a:b", path="/"), "invalid_site", id="site-colon"),
    pytest.param(body(site="a b", path="/"), "invalid_site", id="site-space"),
    pytest.param(body(site="a\n", path="/"), "invalid_site", id="site-trailing-newline"),
    pytest.param(body(site="a" * 64, path="/"), "invalid_site", id="site-64-chars"),
    pytest.param(body(site=5, path="/"), "invalid_site", id="site-number"),
    pytest.param(body(site=["tuson"], path="/"), "invalid_site", id="site-list"),
    pytest.param(body(site=True, path="/"), "invalid_site", id="site-bool"),
    pytest.param(body(site="tuson"), "missing_url", id="no-url-or-path"),
    pytest.param(body(site="tuson", url=None, path=None), "missing_url", id="null-url-and-path"),
    pytest.param(body(site="tuson", url=5), "invalid_url", id="url-number"),
    pytest.param(body(site="tuson", url={"href": "/"}), "invalid_url", id="url-object"),
    pytest.param(body(site="tuson", url="javascript:alert(1)"), "invalid_url", id="javascript"),
    pytest.param(body(site="tuson", url="data:text/html,hi"), "invalid_url", id="data"),
    pytest.param(body(site="tuson", url="ftp://x.vn/a"), "invalid_url", id="ftp"),
    pytest.param(body(site="tuson", url="file:///etc/passwd"), "invalid_url", id="file"),
    pytest.param(body(site="tuson", url="http:///a"), "invalid_url", id="url-without-host"),
    pytest.param(body(site="tuson", url="http://:80/a"), "invalid_url", id="url-port-only"),
    pytest.param(body(site="tuson", url="https://"), "invalid_url", id="url-scheme-only"),
    pytest.param(body(site="tuson", url="x.vn/a"), "invalid_url", id="url-without-scheme"),
    pytest.param(body(site="tuson", url="/a"), "invalid_url", id="url-relative"),
    pytest.param(body(site="tuson", url=""), "invalid_url", id="url-empty"),
    pytest.param(body(site="tuson", url="http://[::1/a"), "invalid_url", id="url-bad-ipv6"),
    pytest.param(body(site="tuson", url=URL_OF_MAX_LENGTH + "a"), "invalid_url", id="url-2049"),
    pytest.param(body(site="tuson", path="a"), "invalid_path", id="path-without-slash"),
    pytest.param(body(site="tuson", path=""), "invalid_path", id="path-empty"),
    pytest.param(body(site="tuson", path="x.vn/a"), "invalid_path", id="path-with-host"),
    pytest.param(body(site="tuson", path=5), "invalid_path", id="path-number"),
    pytest.param(body(site="tuson", path="/" + "a" * MAX_URL), "invalid_path", id="path-2049"),
    # a lone surrogate escape is not Unicode: the body is not JSON (RFC 8259 §8.2)
    pytest.param(body(site="tuson", path="/\ud800"), "invalid_json", id="path-lone-surrogate"),
    pytest.param(
        body(site="tuson", url="http://x.vn/\udcff"), "invalid_json", id="url-lone-surrogate"
    ),
    pytest.param(body(site="tuson", path="/", id="abcdefg"), "invalid_id", id="id-7-chars"),
    pytest.param(body(site="tuson", path="/", id="x" * 65), "invalid_id", id="id-65-chars"),
    pytest.param(body(site="tuson", path="/", id=""), "invalid_id", id="id-empty"),
    pytest.param(body(site="tuson", path="/", id="abcd+efg"), "invalid_id", id="id-plus"),
    pytest.param(body(site="tuson", path="/", id="abcd efg"), "invalid_id", id="id-space"),
    pytest.param(body(site="tuson", path="/", id="abcd\u00e9fgh"), "invalid_id", id="id-accent"),
    pytest.param(body(site="tuson", path="/", id=12345678), "invalid_id", id="id-number"),
    pytest.param(b"{}", "missing_site", id="empty-object"),
    pytest.param(b"\xef\xbb\xbf" + body(site="tuson", path="/"), "invalid_json", id="bom"),
    pytest.param(b"\x00", "invalid_json", id="nul-byte"),
    pytest.param(b'{"site": "tuson", "path": "/"}{}', "invalid_json", id="two-objects"),
    pytest.param(b'{"site": "tuson", "path": "/", "n": 1e999}', "invalid_json", id="huge-number"),
    pytest.param(body(site="tuson", url=True), "invalid_url", id="url-bool"),
    pytest.param(body(site="tuson", url=5, path="/"), "invalid_url", id="bad-url-beside-a-path"),
    pytest.param(body(site="tuson", url="http://x.vn/a\x00"), "invalid_url", id="url-nul"),
    pytest.param(
        body(site="tuson", url=HOST + U_HORN * (MAX_URL - len(HOST) + 1)),
        "invalid_url",
        id="url-of-2049-characters-of-3-bytes",
    ),
    pytest.param(body(site="tuson", path=["/"]), "invalid_path", id="path-list"),
    pytest.param(body(site="tuson", path=True), "invalid_path", id="path-bool"),
    pytest.param(body(site="tuson", path="/a\n"), "invalid_path", id="path-newline"),
    pytest.param(
        body(site="tuson", path=PATH_OF_MAX_LENGTH + "a?q=1"),
        "invalid_path",
        id="path-2049-before-its-query",
    ),
    pytest.param(body(site="tuson", path="/", id=["abcdefgh"]), "invalid_id", id="id-list"),
    pytest.param(body(site="tuson", path="/", id=True), "invalid_id", id="id-bool"),
]


def test_an_over_long_query_is_dropped_not_refused() -> None:
    """A URL over 2048 characters because of its query (tracking tags) still counts its page."""
    view = parse_body(body(site="tuson", url=HOST + "tin-tuc/a?fbclid=" + "x" * 3000))
    assert (view.path, view.host) == ("/tin-tuc/a", "x.vn")


@pytest.mark.parametrize(("raw", "code"), REJECTED)
def test_rejected_bodies_raise_bad_input_with_code(raw: bytes, code: str) -> None:
    """A body that cannot be a page view raises BadInput naming what is wrong."""
    with pytest.raises(BadInput) as caught:
        parse_body(raw)
    assert caught.value.code == code


PAGES = [
    ("", "/"),
    ("/", "/"),
    ("/a", "/a"),
    ("/a/", "/a/"),
    ("a/b", "/a/b"),
    ("/a?x=1", "/a"),
    ("/a#top", "/a"),
    ("/a?x=1#top", "/a"),
    ("/a#top?x=1", "/a"),
    ("/?x=1", "/"),
    ("//a///b//", "/a/b/"),
    ("/a/./b", "/a/b"),
    ("/a/b/../c", "/a/c"),
    ("/../../a", "/a"),
    ("/a/..", "/"),
    ("/a/b/..", "/a/"),
    ("/a/b/.", "/a/b/"),
    ("/%2e%2E/a", "/a"),
    ("/a/.b/..c", "/a/.b/..c"),
    ("/tin-tuc/" + U_HORN_ESCAPED, "/tin-tuc/" + U_HORN),
    ("/a%20b", "/a b"),
    ("/%41", "/A"),
    ("/100%", "/100%"),
    ("/%zz", "/%zz"),
    ("/a%2Fb", "/a/b"),
    ("/%2F%2Fa", "/a"),
    ("/a%3Fb", "/a%3Fb"),
    ("/a%23b", "/a%23b"),
    (".", "/"),
    ("..", "/"),
    ("/.", "/"),
    ("/..", "/"),
    ("/a/%2e%2e/b", "/b"),
    ("/a/%2E/b", "/a/b"),
    ("/a/...", "/a/..."),
    ("/a/b/../../..", "/"),
    ("/a//", "/a/"),
    ("//evil.example/a", "/evil.example/a"),
    ("/#", "/"),
    ("?x=1", "/"),
    ("#top", "/"),
    ("/a;b", "/a;b"),
    ("/a\\b", "/a\\b"),
]


@pytest.mark.parametrize(("raw", "page"), PAGES)
def test_normalise_path_gives_the_page(raw: str, page: str) -> None:
    """Query and fragment are dropped, escapes decoded, `//` collapsed, dot segments resolved."""
    assert normalise_path(raw) == page


SAME_PAGES = [
    ("/" + U_HORN_ESCAPED, "/" + U_HORN),
    ("/" + U_HORN_ESCAPED.lower(), "/" + U_HORN),
    ("/tin-tuc//a", "/tin-tuc/a"),
    ("/tin-tuc/./x/../a", "/tin-tuc/a"),
    ("/tin-tuc/a?utm_source=fb#top", "/tin-tuc/a"),
]


@pytest.mark.parametrize(("one", "other"), SAME_PAGES)
def test_spellings_of_one_page_normalise_alike(one: str, other: str) -> None:
    """Two spellings of one page (escaped or not, extra slashes, dot segments) are one page."""
    assert normalise_path(one) == normalise_path(other)


QUERIES = [
    ("/a?b=2&a=1&c=3", ("a", "b"), "/a?a=1&b=2"),
    ("/a?id=1&utm_source=fb", ("id",), "/a?id=1"),
    ("/a?utm_source=fb", ("id",), "/a"),
    ("/a?id=", ("id",), "/a?id="),
    ("/a?id=1#top", ("id",), "/a?id=1"),
    ("/a?id=" + U_HORN, ("id",), "/a?id=" + U_HORN_ESCAPED),
    ("/a?id=" + U_HORN_ESCAPED, ("id",), "/a?id=" + U_HORN_ESCAPED),
    ("/a?id=1", (), "/a"),
    ("/a?id=1&id=2", ("id",), "/a?id=2"),
    ("/a?id", ("id",), "/a?id="),
    ("/a?ID=1", ("id",), "/a"),
    ("/a?q=a%20b", ("q",), "/a?q=a+b"),
    ("/a?q=a+b", ("q",), "/a?q=a+b"),
    ("/a?q=%2B", ("q",), "/a?q=%2B"),
    ("/a?b=1;c=2", ("c",), "/a"),
    ("/a%3Fb?id=1", ("id",), "/a%3Fb?id=1"),
    ("/a?" + "&".join(f"k{n}=1" for n in range(100)), ("k0",), "/a?k0=1"),
    ("/a?" + "&".join(f"k{n}=1" for n in range(101)), (), "/a"),
]


@pytest.mark.parametrize(("raw", "keys", "page"), QUERIES)
def test_allowlisted_query_keys_are_kept_in_allowlist_order(
    raw: str, keys: tuple[str, ...], page: str
) -> None:
    """Only the site's query keys stay in the page, in the order the site lists them."""
    assert normalise_path(raw, keys) == page


INVALID_PATHS = [
    pytest.param("/%FF", (), id="escape-not-utf-8"),
    pytest.param("/%C3%28", (), id="escape-bad-continuation"),
    pytest.param("/%E1%BB", (), id="escape-truncated-sequence"),
    pytest.param("/%ED%A0%80", (), id="escape-of-a-surrogate"),
    pytest.param("/\ud800", (), id="lone-surrogate"),
    pytest.param("/a%00b", (), id="escaped-nul"),
    pytest.param("/a%0Ab", (), id="escaped-newline"),
    pytest.param("/a\tb", (), id="tab"),
    pytest.param("/a\x1b[31m", (), id="escape-char"),
    pytest.param("/a%7F", (), id="escaped-del"),
    pytest.param("/a?id=%00", ("id",), id="kept-query-nul"),
    pytest.param("/a?id=%FF", ("id",), id="kept-query-not-utf-8"),
    pytest.param("/a?id=\ud800", ("id",), id="kept-query-lone-surrogate"),
    pytest.param("/a?" + "&".join(f"k{n}=1" for n in range(101)), ("k0",), id="query-101-fields"),
    # invisible characters: the page would show as another page
    pytest.param("/tin-tuc%E2%80%AE", (), id="escaped-rlo"),
    pytest.param("/tin-tuc\u202e", (), id="rlo"),
    pytest.param("/a\u200bb", (), id="zero-width-space"),
    pytest.param("/%EF%BB%BFa", (), id="escaped-bom"),
    pytest.param("/a\u200e", (), id="lrm"),
    pytest.param("/a%E2%81%A6b", (), id="escaped-lri"),
    pytest.param("/a\u2028b", (), id="line-separator"),
    pytest.param("/a%E2%80%A9b", (), id="escaped-paragraph-separator"),
    pytest.param("/a\U000e0041", (), id="tag-character"),
    pytest.param("/a?id=1%E2%80%AE", ("id",), id="kept-query-rlo"),
]


@pytest.mark.parametrize(("raw", "keys"), INVALID_PATHS)
def test_invalid_paths_are_rejected(raw: str, keys: tuple[str, ...]) -> None:
    """Escapes that are not UTF-8, lone surrogates, control characters and invisible ones
    (format characters, line and paragraph separators) are invalid_path, raw or escaped."""
    with pytest.raises(BadInput) as caught:
        normalise_path(raw, keys)
    assert caught.value.code == "invalid_path"


def test_visible_text_and_a_dropped_query_are_pages() -> None:
    """Vietnamese, other scripts and emoji are pages; an invisible character in a query that
    is not kept refuses nothing."""
    assert normalise_path("/tin-t%E1%BB%A9c/\u0644\u0627") == "/tin-t\u1ee9c/\u0644\u0627"
    assert normalise_path("/a\U0001f600") == "/a\U0001f600"
    assert normalise_path("/a?utm=%E2%80%AE") == "/a"


FITTING = [
    pytest.param("/" + "a" * (MAX_PATH_BYTES - 1), (), MAX_PATH_BYTES, id="512-ascii"),
    pytest.param("/" + U_HORN * 170 + "a", (), MAX_PATH_BYTES, id="512-bytes-172-chars"),
    pytest.param("/" + U_HORN_ESCAPED * 170 + "a", (), MAX_PATH_BYTES, id="512-bytes-once-decoded"),
    pytest.param(
        "/" + "a" * (MAX_PATH_BYTES - 1) + "?utm=" + "x" * 100, (), MAX_PATH_BYTES, id="query-gone"
    ),
    pytest.param("/a?id=" + "x" * 506, ("id",), MAX_PATH_BYTES, id="512-with-kept-query"),
]


@pytest.mark.parametrize(("raw", "keys", "size"), FITTING)
def test_pages_of_up_to_512_bytes_are_accepted(raw: str, keys: tuple[str, ...], size: int) -> None:
    """A page of exactly 512 UTF-8 bytes, counted after normalisation, is accepted."""
    assert len(normalise_path(raw, keys).encode()) == size


TOO_LONG = [
    pytest.param("/" + "a" * MAX_PATH_BYTES, (), id="513-ascii"),
    pytest.param("/" + U_HORN * 170 + "ab", (), id="513-bytes-173-chars"),
    pytest.param("/" + U_HORN * 171, (), id="514-bytes-172-chars"),
    pytest.param("/a?id=" + "x" * 507, ("id",), id="513-with-kept-query"),
]


@pytest.mark.parametrize(("raw", "keys"), TOO_LONG)
def test_pages_over_512_bytes_are_path_too_long(raw: str, keys: tuple[str, ...]) -> None:
    """A page over 512 UTF-8 bytes is path_too_long, multi-byte characters counted as bytes."""
    with pytest.raises(BadInput) as caught:
        normalise_path(raw, keys)
    assert caught.value.code == "path_too_long"
