"""Traffic sources: a view's referrer reduced to its host, the one thing kept of it.

A hit's `referrer` (a URL) is parsed once at the edge (`referrer_host`) into a bare host:
lower case, in its ASCII (IDNA) form, without `www.`, port, user, path, query or fragment;
nothing in it can tell one reader from another. The service then keeps it as the view's
source only when it is external (`source_of`: another host than the page's own and the site's
domains). Well-known hosts are folded into one host per service (`canonical`: google.com.vn,
google.de → google.com; m.facebook.com, l.facebook.com, fb.com → facebook.com), so that the
capped daily set holds a search engine once and a report's top 20 does not split it; `name`
gives the name people know it by (Google, Cốc Cốc, Zalo…).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from statsvc.i18n import _

DIRECT = "(direct)"  # no referrer, or one of the site's own pages: typed, bookmarked, an app
OTHER_SOURCE = "(other)"  # hosts past the day's cap
MAX_HOST = 253  # characters of a DNS name
_HTTP_HOST = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9.-]+)(?::[0-9]{1,5})?(?:[/?#]|\Z)")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_APP = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")  # an Android package name
_COUNTRY_TAIL = re.compile(r"(?:com?\.)?[a-z]{2,3}")  # .com, .vn, .com.vn, .co.uk

# a host, and every host under it, → the one host its reports show
_FOLDED = {
    "facebook.com": "facebook.com",
    "fb.com": "facebook.com",
    "fb.me": "facebook.com",
    "messenger.com": "facebook.com",
    "zalo.me": "zalo.me",
    "zaloapp.com": "zalo.me",
    "youtube.com": "youtube.com",
    "youtu.be": "youtube.com",
    "bing.com": "bing.com",
    "coccoc.com": "coccoc.com",
    "duckduckgo.com": "duckduckgo.com",
    "tiktok.com": "tiktok.com",
    "baomoi.com": "baomoi.com",
    "instagram.com": "instagram.com",
    "linkedin.com": "linkedin.com",
    "lnkd.in": "linkedin.com",
    "twitter.com": "x.com",
    "t.co": "x.com",
    "x.com": "x.com",
    "chatgpt.com": "chatgpt.com",
    "chat.openai.com": "chatgpt.com",
    "search.yahoo.com": "yahoo.com",
    "yahoo.com": "yahoo.com",
    "yandex.ru": "yandex.ru",
    "yandex.com": "yandex.ru",
    "baidu.com": "baidu.com",
    # apps that send their package as the referrer (android-app://…)
    "com.google.android.googlequicksearchbox": "google.com",
    "com.google.android.gm": "mail.google.com",
    "com.facebook.katana": "facebook.com",
    "com.facebook.orca": "facebook.com",
    "com.zing.zalo": "zalo.me",
    "com.google.android.youtube": "youtube.com",
}
# the canonical hosts' names, as their users write them (the same in every language)
NAMES = {
    "google.com": "Google",
    "mail.google.com": "Gmail",
    "news.google.com": "Google News",
    "coccoc.com": "Cốc Cốc",
    "bing.com": "Bing",
    "facebook.com": "Facebook",
    "zalo.me": "Zalo",
    "youtube.com": "YouTube",
    "baomoi.com": "Báo Mới",
    "tiktok.com": "TikTok",
    "duckduckgo.com": "DuckDuckGo",
    "yahoo.com": "Yahoo",
    "chatgpt.com": "ChatGPT",
    "instagram.com": "Instagram",
    "linkedin.com": "LinkedIn",
    "x.com": "X (Twitter)",
    "yandex.ru": "Yandex",
    "baidu.com": "Baidu",
}


def referrer_host(referrer: str) -> str | None:
    """Return the host of a referrer URL as a source is kept (see the module), or None for no
    usable host: empty, not http(s) (or android-app, whose host is the app), garbage."""
    simple = _HTTP_HOST.match(referrer)  # the usual referrer, without urlsplit's generality
    if simple is not None:
        host = simple.group(1).lower()
    else:
        try:
            parts = urlsplit(referrer.strip())
            scheme, host = parts.scheme.lower(), parts.hostname
        except ValueError:
            return None
        if host is None or scheme not in ("http", "https", "android-app"):
            return None
        if scheme == "android-app":
            return host if _APP.fullmatch(host) else None
        try:
            host = host.encode("idna").decode("ascii").lower()  # bücher.de → xn--bcher-kva.de
        except UnicodeError:
            return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host or len(host) > MAX_HOST or not all(map(_LABEL.fullmatch, host.split("."))):
        return None
    return host


def source_of(referrer: str | None, page_host: str | None, domains: tuple[str, ...]) -> str:
    """Return the source a view brings (a canonical host), or "" for none ((direct)): no
    referrer, or an internal one (the page's own host, or one of the site's domains or a
    host under one), as in Plausible and GoatCounter."""
    if referrer is None:
        return ""
    if page_host is not None and referrer == page_host.removeprefix("www."):
        return ""
    for domain in domains:
        if referrer == domain or referrer.endswith("." + domain) or "www." + referrer == domain:
            return ""
    return canonical(referrer)


def canonical(host: str) -> str:
    """Return the host a source is counted under: a well-known service's one host, else the
    host itself."""
    labels = host.split(".")
    if labels[0] == "google" and _COUNTRY_TAIL.fullmatch(".".join(labels[1:])):
        return "google.com"  # google.com.vn, google.de, google.co.uk
    for start in range(len(labels) - 1):
        folded = _FOLDED.get(".".join(labels[start:]))
        if folded is not None:
            return folded
    return host


def name(source: str) -> str:
    """Return what a source is called in reports: a well-known service's name, else its host
    as people read it (an IDNA host decoded: xn--bcher-kva.de → bücher.de)."""
    known = NAMES.get(source)
    if known is not None:
        return known
    if "xn--" in source:
        try:
            return source.encode("ascii").decode("idna")
        except UnicodeError:
            return source
    return source


def label(source: str) -> str:
    """Return what a source is called in the language in force (statsvc.i18n): (direct) and
    (other) in words, any other its `name` (the dashboard's pages and the report files)."""
    if source == DIRECT:
        return _("Direct")
    if source == OTHER_SOURCE:
        return _("Other sources")
    return name(source)


def is_source(member: str) -> bool:
    """Tell whether a stored source is well formed: (direct), (other) or a bare host (the
    property tests' check that no path, port or query is ever kept)."""
    if member in (DIRECT, OTHER_SOURCE):
        return True
    return (
        len(member) <= MAX_HOST
        and member == member.lower()
        and all(map(_LABEL.fullmatch, member.split(".")))
    )
