"""Fuzzing the edge: the hit parser, path normalisation and the HTTP API on generated input."""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from statsvc.app import create_app
from statsvc.core.errors import BadInput
from statsvc.core.pageview import (
    MAX_PATH_BYTES,
    MAX_URL,
    PAGE_VIEW_ID,
    PageView,
    normalise_path,
    parse_body,
)
from statsvc.settings import Settings
from tests.helpers import STORE_TIMEOUT, examples, send
from tests.live import LoopThread, free_port

SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
FAST = settings(max_examples=examples(300), deadline=None)
TEXT_PLAIN = {"Content-Type": "text/plain"}

# Pieces that make paths hard: dot segments, slashes, escapes broken, overlong or of
# control characters, a query and a fragment, lone surrogates, non-ASCII.
PATH_PIECES = st.sampled_from(
    [
        "/",
        "//",
        ".",
        "..",
        "%",
        "%2",
        "%2e",
        "%2E%2e",
        "%2F",
        "%25",
        "%FF",
        "%C3%A9",
        "%C3",
        "%ED%A0%80",
        "%00",
        "%0a",
        "%7f",
        "%3F",
        "%23",
        "?",
        "#",
        "&",
        "=",
        "a",
        "tin-tuc",
        "é",
        "ạ" * 40,
        "\x00",
        "\n",
        "\x7f",
        "\u0085",
        "\ud800",
        "\U0001f600",
        " ",
        "+",
    ]
)
paths = st.one_of(
    st.text(max_size=80),
    st.lists(PATH_PIECES, max_size=40).map("".join),
    st.integers(min_value=0, max_value=5000).map(lambda n: "/" + "a" * n),
)
query_keys = st.lists(st.sampled_from(["id", "page", "q", "x"]), max_size=3, unique=True)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
urls = st.one_of(
    paths.map(lambda p: "https://x.vn" + p),
    st.sampled_from(["javascript:alert(1)", "data:,x", "http://", "https://[::1", "//x.vn/a"]),
    st.text(max_size=40),
)
page_views = st.fixed_dictionaries(
    {"site": st.one_of(st.just("demo"), st.text(max_size=70), json_values)},
    optional={
        "path": st.one_of(paths, json_values),
        "url": st.one_of(urls, json_values),
        "id": st.one_of(st.text(min_size=6, max_size=70), json_values),
        "title": json_values,
        "referrer": st.one_of(urls, json_values),
    },
)


def encoded(value: Any) -> bytes:
    """Return `value` as JSON bytes (lone surrogates escaped, as a browser would not)."""
    return json.dumps(value).encode()


bodies = st.one_of(st.binary(max_size=200), st.builds(encoded, page_views | json_values))


@FAST
@given(body=bodies)
@example(body=b'{"site": "demo", "path": "/%ED%A0%80"}')
@example(body=b'{"site": "demo", "url": "https://x.vn/a/../../.."}')
@example(body=b'{"site": "demo", "path": "/", "id": "' + b"a" * 64 + b'"}')
@example(body=b'{"site":"0","url":"http://-#"}')  # a fragment on the home page: was no page
def test_parse_body_gives_a_bounded_page_view_or_bad_input(body: bytes) -> None:
    """parse_body of any bytes returns a PageView within the documented bounds, or raises
    BadInput; no other exception escapes."""
    try:
        view = parse_body(body)
    except BadInput as exc:
        assert exc.code
        return
    assert isinstance(view, PageView)
    assert SITE_ID.fullmatch(view.site)
    assert view.path.startswith("/")
    assert len(view.path) <= MAX_URL
    assert view.id is None or PAGE_VIEW_ID.fullmatch(view.id)
    assert view.host is None or view.host
    try:
        page = normalise_path(view.path)
    except BadInput:
        return
    assert page.startswith("/")
    assert len(page.encode()) <= MAX_PATH_BYTES


@FAST
@given(raw=paths, keys=query_keys)
@example(raw="/" + "%" * 3000, keys=[])
@example(raw="/a?id=\ud800&x=%FF", keys=["id", "x"])
@example(raw="/../../etc/passwd", keys=[])
@example(raw="?" + "x=1&" * 200, keys=["x"])
def test_normalise_path_gives_a_bounded_page_or_bad_input(raw: str, keys: list[str]) -> None:
    """normalise_path of any text returns a page that starts with / and fits the byte cap,
    with no dot segment, empty segment or control character, or raises BadInput."""
    try:
        page = normalise_path(raw, tuple(keys))
    except BadInput as exc:
        assert exc.code in ("invalid_path", "path_too_long")
        return
    assert page.startswith("/")
    assert len(page.encode()) <= MAX_PATH_BYTES
    path = page.split("?", 1)[0]
    assert "//" not in path
    assert not {".", ".."} & set(path.split("/"))
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", page)


# -- through the app -------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application served on a loopback port for the module; yield its base URL."""
    app = create_app(
        Settings(
            redis_url=redis_url,
            key_prefix="t" + secrets.token_hex(6),
            data_dir=Path(tmp_path_factory.mktemp("fuzz")),
            store_timeout=STORE_TIMEOUT,  # as every served test's: a busy machine is no outage
        )
    )
    port = free_port()
    loop = LoopThread()
    loop.serve(app, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.close()


def views(base: str) -> Any:
    """Return the demo site's views."""
    status, _, body = send(base + "/api/v1/counts?site=demo")
    assert status == 200
    return json.loads(body)["views"]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, endpoint=st.sampled_from(["/api/v1/hit", "/api/v1/ping"]))
@example(body=b'{"site": "demo", "path": "/a"}', endpoint="/api/v1/hit")
@example(
    body=b'{"site": "demo", "path": "/a", "title": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    endpoint="/api/v1/hit",
)
def test_generated_bodies_never_get_a_5xx(served: str, body: bytes, endpoint: str) -> None:
    """A hit or ping of any generated body is answered 200 or a 4xx JSON error, never a 5xx;
    a refused one counts nothing."""
    before = views(served)
    status, content_type, reply = send(served + endpoint, "POST", body, TEXT_PLAIN)
    assert status < 500, reply[:300]
    assert content_type == "application/json"
    if status >= 400:
        assert set(json.loads(reply)["error"]) == {"code", "message"}
        assert views(served) == before


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    site=st.text(max_size=70),
    path=st.text(max_size=100),
    endpoint=st.sampled_from(["/api/v1/counts", "/api/v1/badge.svg"]),
)
def test_generated_query_strings_never_get_a_5xx(
    served: str, site: str, path: str, endpoint: str
) -> None:
    """counts and badge with any site and path are answered 200 or a 4xx JSON error."""
    query = urllib.parse.urlencode({"site": site, "path": path, "count": "0"}, errors="replace")
    status, content_type, reply = send(f"{served}{endpoint}?{query}")
    assert status < 500, reply[:300]
    if status >= 400:
        assert content_type == "application/json"
        assert set(json.loads(reply)["error"]) == {"code", "message"}
