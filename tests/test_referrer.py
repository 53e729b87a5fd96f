"""A referrer is kept as its bare host only (lower case, no www., port, user, path or query),
as the view's source only when external, well-known services folded into one host each."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statsvc.core.pageview import MAX_URL, parse_body
from statsvc.core.referrer import canonical, is_source, name, referrer_host, source_of


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.google.com/", "google.com"),
        ("https://www.google.com.vn/search?q=x%C3%A3+h%E1%BB%99i&client=firefox", "google.com.vn"),
        ("HTTPS://WWW.Example.VN/Path/To?A=B#Top", "example.vn"),
        ("http://example.vn:8080/a", "example.vn"),
        ("https://user:secret@news.example.vn/a", "news.example.vn"),
        ("https://reader@example.vn", "example.vn"),
        ("https://example.vn", "example.vn"),
        ("https://example.vn.", "example.vn"),
        ("https://example.vn?q=1", "example.vn"),
        ("https://example.vn#frag", "example.vn"),
        ("  https://example.vn/ ", "example.vn"),
        ("https://bücher.de/x", "xn--bcher-kva.de"),
        ("https://www.Bücher.de/", "xn--bcher-kva.de"),
        ("https://xn--bcher-kva.de/", "xn--bcher-kva.de"),
        ("https://thôngtin.vn/", "xn--thngtin-u0a.vn"),
        ("https://203.0.113.7/a", "203.0.113.7"),
        ("https://www.www.example.vn/", "www.example.vn"),
        ("https://wwwexample.vn/", "wwwexample.vn"),
        ("https://my_host.example.vn/", "my_host.example.vn"),
        (
            "android-app://com.google.android.googlequicksearchbox/",
            "com.google.android.googlequicksearchbox",
        ),
        ("android-app://com.zing.zalo", "com.zing.zalo"),
    ],
)
def test_a_referrer_is_kept_as_its_bare_host(referrer: str, host: str) -> None:
    """Only the host is kept, in lower case and its ASCII form, without www., port or user."""
    assert referrer_host(referrer) == host


@pytest.mark.parametrize(
    "referrer",
    [
        "",
        " ",
        "google.com",
        "/internal/path",
        "about:blank",
        "file:///etc/passwd",
        "ftp://files.example.vn/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://",
        "https:///path",
        "https://[::1]/",
        "https://[2001:db8::1]:443/",
        "https://[::1",
        "https://exa mple.vn/",
        "https://example..vn/",
        "https://-example.vn/",
        "https://example.vn\u202e/",
        "https://" + "a" * 64 + ".vn/",
        "https://" + ".".join(["abcdefghi"] * 26) + "/",
        "android-app://not a package/",
        "android-app://",
        "chrome-extension://abc/",
    ],
)
def test_a_referrer_without_a_usable_host_is_none(referrer: str) -> None:
    """Empty, relative, another scheme, an IP v6 literal, a malformed host: no referrer."""
    assert referrer_host(referrer) is None


@pytest.mark.parametrize(
    ("referrer", "page_host", "domains", "source"),
    [
        (None, "tuson.vn", (), ""),
        ("tuson.vn", "tuson.vn", (), ""),
        ("tuson.vn", "www.tuson.vn", (), ""),
        ("tuson.vn", None, ("tuson.vn",), ""),
        ("tuson.vn", None, ("www.tuson.vn",), ""),
        ("tin.tuson.vn", None, ("tuson.vn",), ""),
        ("tuson.vn", "portal.example.vn", ("tuson.vn", "tuson.gov.vn"), ""),
        ("tuson.gov.vn", "tuson.vn", ("tuson.vn", "tuson.gov.vn"), ""),
        ("tin.tuson.vn", "tuson.vn", (), "tin.tuson.vn"),
        ("bactuson.vn", None, ("tuson.vn",), "bactuson.vn"),
        ("google.com.vn", "tuson.vn", ("tuson.vn",), "google.com"),
        ("baomoi.com", None, (), "baomoi.com"),
    ],
)
def test_only_an_external_referrer_is_a_source(
    referrer: str | None, page_host: str | None, domains: tuple[str, ...], source: str
) -> None:
    """The page's own host and the site's domains (and hosts under them) are no source ("":
    (direct)); another host is, folded when well known."""
    assert source_of(referrer, page_host, domains) == source


@pytest.mark.parametrize(
    ("host", "folded", "shown"),
    [
        ("google.com", "google.com", "Google"),
        ("google.com.vn", "google.com", "Google"),
        ("google.de", "google.com", "Google"),
        ("google.co.uk", "google.com", "Google"),
        ("news.google.com", "news.google.com", "Google News"),
        ("googleusercontent.com", "googleusercontent.com", "googleusercontent.com"),
        ("google.evil.example", "google.evil.example", "google.evil.example"),
        ("coccoc.com", "coccoc.com", "Cốc Cốc"),
        ("bing.com", "bing.com", "Bing"),
        ("cn.bing.com", "bing.com", "Bing"),
        ("facebook.com", "facebook.com", "Facebook"),
        ("m.facebook.com", "facebook.com", "Facebook"),
        ("l.facebook.com", "facebook.com", "Facebook"),
        ("lm.facebook.com", "facebook.com", "Facebook"),
        ("fb.com", "facebook.com", "Facebook"),
        ("notfacebook.com", "notfacebook.com", "notfacebook.com"),
        ("zalo.me", "zalo.me", "Zalo"),
        ("chat.zalo.me", "zalo.me", "Zalo"),
        ("m.youtube.com", "youtube.com", "YouTube"),
        ("youtu.be", "youtube.com", "YouTube"),
        ("baomoi.com", "baomoi.com", "Báo Mới"),
        ("tiktok.com", "tiktok.com", "TikTok"),
        ("duckduckgo.com", "duckduckgo.com", "DuckDuckGo"),
        ("vn.search.yahoo.com", "yahoo.com", "Yahoo"),
        ("chatgpt.com", "chatgpt.com", "ChatGPT"),
        ("chat.openai.com", "chatgpt.com", "ChatGPT"),
        ("t.co", "x.com", "X (Twitter)"),
        ("com.google.android.googlequicksearchbox", "google.com", "Google"),
        ("com.zing.zalo", "zalo.me", "Zalo"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", "bücher.de"),
        ("tuson.vn", "tuson.vn", "tuson.vn"),
    ],
)
def test_well_known_hosts_fold_into_one_named_source(host: str, folded: str, shown: str) -> None:
    """Every Google country domain is google.com, Facebook's hosts facebook.com…; a known
    source shows its name, another its host as people read it."""
    assert canonical(host) == folded
    assert name(folded) == shown


def test_direct_and_other_are_named_as_they_are() -> None:
    """(direct) and (other) are no host: the API names them as they are (pages translate)."""
    assert name("(direct)") == "(direct)"
    assert name("(other)") == "(other)"


def hit_body(referrer: object) -> bytes:
    return json.dumps({"site": "tuson", "path": "/", "referrer": referrer}).encode()


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.google.com/", "google.com"),
        (None, None),
        ("", None),
        (5, None),
        (["https://google.com/"], None),
        ({"host": "google.com"}, None),
        ("garbage", None),
        ("https://example.vn/" + "a" * (MAX_URL - 19), "example.vn"),
        ("https://example.vn/" + "a" * (MAX_URL - 18), None),
        ("https://example.vn/a?" + "q" * 10_000, "example.vn"),
        ("https://example.vn/\u0000", "example.vn"),
    ],
)
def test_a_hits_referrer_never_refuses_it(referrer: object, host: str | None) -> None:
    """A referrer that cannot be read (not a string, over 2,048 characters once its query is
    dropped, garbage) is no referrer; the view is accepted all the same."""
    assert parse_body(hit_body(referrer)).referrer == host


referrers = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda scheme, user, host, port, rest: f"{scheme}://{user}{host}{port}{rest}",
        st.sampled_from(["http", "https", "HTTPS", "android-app", "ftp", ""]),
        st.sampled_from(["", "reader@", "a:b@"]),
        st.from_regex(r"[A-Za-z0-9._\-ößệ]{0,40}", fullmatch=True),
        st.sampled_from(["", ":8080", ":0", ":99999", ":x"]),
        st.text(max_size=80),
    ),
)


@given(referrer=referrers)
def test_whatever_the_referrer_the_source_is_a_bare_host(referrer: str) -> None:
    """Any text as a referrer gives no source or a bare host: never a path, query, port, user,
    space or capital letter."""
    host = referrer_host(referrer)
    if host is not None:
        assert is_source(host), host
        assert is_source(source_of(host, "tuson.vn", ())), host


@pytest.mark.parametrize(
    ("referrer", "read", "source"),
    [
        ("https://tuson.vn", None, ""),
        ("https://tuson.vn/tin-tuc/a?x=1", None, ""),
        ("https://tuson.vn/", "tuson.vn", ""),  # read in full: its host is the page's
        ("https://tuson.vn:8443", "tuson.vn", ""),
        ("https://tuson.vn.evil.example", "tuson.vn.evil.example", "tuson.vn.evil.example"),
        ("https://tuson.v", "tuson.v", "tuson.v"),
    ],
)
def test_a_referrer_from_the_pages_own_origin_is_no_source(
    referrer: str, read: str | None, source: str
) -> None:
    """The page's own origin (what the widget sends from another page of the site) is known
    internal without parsing; a host that only begins like it is read as any other."""
    body = {"site": "tuson", "url": "https://tuson.vn/tin-tuc/a?x=1", "referrer": referrer}
    view = parse_body(json.dumps(body).encode())
    assert view.referrer == read
    assert source_of(view.referrer, view.host, ()) == source
