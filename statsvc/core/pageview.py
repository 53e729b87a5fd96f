"""The edge: a hit or ping body parsed once into a typed value, or a named error."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson

from statsvc.core.errors import BadInput
from statsvc.core.referrer import referrer_host
from statsvc.core.site import is_site_id
from statsvc.core.text import has_invisible, is_clean_text

MAX_BODY = 8 * 1024
MAX_URL = 2048
MAX_PATH_BYTES = 512
OTHER_PAGE = "(other)"
NO_PAGE = ""  # the path of a view of a site and of no page: a badge not told its page's path
PAGE_VIEW_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SLASHES = re.compile(r"/{2,}")
_SIMPLE_URL = re.compile(
    r"([Hh][Tt][Tt][Pp][Ss]?)://([A-Za-z0-9.-]+)(?::[0-9]{1,5})?([/?#][^\s]*)?\Z"
)


class PageView(NamedTuple):
    """One hit or heartbeat as the widget sent it, checked but not yet tied to a site."""

    site: str
    path: str  # the raw path, query included; normalised once the site's query keys are known
    host: str | None  # the page's host, when a full URL was sent (the sender's word only)
    id: str | None
    referrer: str | None = None  # the referrer's bare host (core.referrer), the sender's word


def parse_body(body: bytes) -> PageView:
    """Parse a hit or ping body (JSON object) into a PageView, or raise BadInput."""
    if not body.strip():
        raise BadInput("empty_body", "the request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)  # strict: NaN and Infinity are not JSON
    except orjson.JSONDecodeError as exc:
        raise BadInput("invalid_json", "the request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadInput("invalid_json", "the request body must be a JSON object")
    site = data.get("site")
    if site is None:
        raise BadInput("missing_site", "site is required")
    check_site_id(site)
    url, path = data.get("url"), data.get("path")
    host: str | None = None
    if url is not None:
        path, host = _split_url(_text(_without_long_query(url), "url", MAX_URL))
    elif path is not None:
        path = raw_path(path)
    else:
        raise BadInput("missing_url", "url or path is required")
    # title may come too; nothing is kept of it, so nothing is checked. Of the referrer only
    # its host is kept; one without a usable host (not a string, empty, over MAX_URL once its
    # query is dropped, garbage, another scheme) is no referrer: never a reason to lose a view
    sent, referrer = data.get("referrer"), None
    if isinstance(sent, str) and sent and not (isinstance(url, str) and _is_origin_of(sent, url)):
        sent = str(_without_long_query(sent))
        referrer = referrer_host(sent) if len(sent) <= MAX_URL else None
    view_id = data.get("id")
    if view_id is not None and (
        not isinstance(view_id, str) or PAGE_VIEW_ID.fullmatch(view_id) is None
    ):
        raise BadInput("invalid_id", "id must be 8 to 64 characters of A-Z a-z 0-9 _ -")
    return PageView(site=site, path=path, host=host, id=view_id, referrer=referrer)


def _is_origin_of(referrer: str, url: str) -> bool:
    """Tell whether a referrer is the page's own origin, as the widget sends it from another page
    of the site: internal, no source, known without parsing (the common case, kept cheap)."""
    return url.startswith(referrer) and url[len(referrer) : len(referrer) + 1] in (
        "/",
        "?",
        "#",
        "",
    )


def raw_path(value: object) -> str:
    """Return a path as a hit may send it (a string that starts with /; its query and fragment
    dropped when over-long), not yet normalised, else raise BadInput. Imports check theirs here
    too, so that what a hit may not send no import can write."""
    path = _text(_without_long_query(value), "path", MAX_URL)
    if not path.startswith("/"):
        raise BadInput("invalid_path", "path must start with /")
    return path


def check_site_id(site: object) -> str:
    """Return `site` if it is a valid site id, else raise BadInput."""
    if not is_site_id(site):
        raise BadInput("invalid_site", "site must match ^[a-z0-9][a-z0-9_-]{0,62}$")
    assert isinstance(site, str)
    return site


def _without_long_query(url: object) -> object:
    """Drop the query and fragment of an over-long URL: tracking parameters are not the page."""
    if isinstance(url, str) and len(url) > MAX_URL:
        return url.split("#", 1)[0].split("?", 1)[0]
    return url


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadInput(f"invalid_{name}", f"{name} must be a string")
    if len(value) > limit:
        raise BadInput(f"invalid_{name}", f"{name} is longer than {limit} characters")
    if not is_clean_text(value):
        raise BadInput(f"invalid_{name}", f"{name} has control characters or lone surrogates")
    return value


def _split_url(url: str) -> tuple[str, str | None]:
    simple = _SIMPLE_URL.match(url)
    if simple is not None:  # the usual URL, split without urlsplit's generality
        rest = (simple.group(3) or "").split("#", 1)[0]  # "", "?…" (no path): the home page
        return (rest if rest.startswith("/") else "/" + rest), simple.group(2).lower()
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as exc:
        raise BadInput("invalid_url", "url is not a valid URL") from exc
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise BadInput("invalid_url", "url must be an absolute http(s) URL")
    path = parts.path or "/"
    return (f"{path}?{parts.query}" if parts.query else path), host


def normalise_path(raw: str, query_keys: tuple[str, ...] = ()) -> str:
    """Return the page a raw path (with optional query and fragment) stands for.

    Percent-escapes are decoded, `//` collapsed, dot segments resolved, and the
    query kept only for the site's allowlisted keys, in allowlist order.
    """
    raw = raw.split("#", 1)[0]
    path, _, query = raw.partition("?")
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError as exc:
        raise BadInput("invalid_path", "path has percent-escapes that are not UTF-8") from exc
    check_path_text(path)
    # a decoded ? or # must not read as the start of a query or a fragment
    path = path.replace("?", "%3F").replace("#", "%23")
    path = _resolve_dots(_SLASHES.sub("/", path if path.startswith("/") else "/" + path))
    if query_keys and query:
        kept = _kept_query(query, query_keys)
        if kept:
            path = f"{path}?{kept}"
    if len(path.encode()) > MAX_PATH_BYTES:
        raise BadInput("path_too_long", f"the page path is longer than {MAX_PATH_BYTES} bytes")
    return path


def check_path_text(text: str) -> str:
    """Return a decoded page path (or a kept query value) if each of its characters shows as
    itself, else raise BadInput invalid_path. Refused: control characters, lone surrogates,
    format characters (Unicode Cf: U+202E turns the text around, U+200B and U+FEFF are not
    seen) and the line and paragraph separators; refused rather than dropped, since a path
    stripped of them would merge unseen into the page it imitates."""
    if not is_clean_text(text):
        raise BadInput("invalid_path", "path has control characters or lone surrogates")
    if has_invisible(text):
        raise BadInput(
            "invalid_path",
            "path has invisible characters (Unicode format characters or line separators)",
        )
    return text


def _resolve_dots(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")[1:]
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    trailing = segments[-1] in (".", "..") and bool(out)
    return "/" + "/".join(out) + ("/" if trailing else "")


def _kept_query(query: str, query_keys: tuple[str, ...]) -> str:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=100)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("invalid_path", "the query string is not valid") from exc
    values = dict(pairs)
    kept = [(key, values[key]) for key in query_keys if key in values]
    for _, value in kept:
        check_path_text(value)
    return urlencode(kept)
