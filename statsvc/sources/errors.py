"""A source that cannot be read, in one line; the messages in one table, in the language of
the command line (statsvc.i18n)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from statsvc.i18n import N_, _

MESSAGES = {
    "bad_url": N_("the --from URL is not one this kind reads: expected {expected}"),
    "unreadable_url": N_(
        "the --from URL cannot be read: percent-encode the special characters of the"
        " user and password (/ as %2F, ? as %3F, # as %23, @ as %40, : as %3A, % as %25)"
    ),
    "no_driver": N_("reading {kind} needs PyMySQL (pip install PyMySQL)"),
    "cannot_connect": N_("cannot connect to {where}: {reason}"),
    "access_denied": N_("{where} refused user {user!r}: wrong user or password"),
    "no_database": N_("{where} has no database {database!r}"),
    "no_table": N_("no table {table} in database {database!r} (wrong --prefix?)"),
    "no_column": N_("table {table} has no column {column}: a layout this version does not know"),
    "bad_prefix": N_("--prefix {prefix!r}: letters, digits and _ only"),
    "no_host": N_("busuanzi needs --host, the site's host name as busuanzi saw it"),
    "no_site_key": N_("no key {key} (nor its MD5-16 form) for host {host!r} at {where}"),
    "unknown_type": N_("key {key} is a {type}: a layout this version does not know"),
    "no_urls": N_("cannot read --urls {path}: {reason}"),
    "read_failed": N_("reading {where} failed: {reason}"),
}

A_URL = N_("a URL")  # what public_url() expects, in the messages' language


class SourceError(Exception):
    """An old counter's storage that cannot be read: what is missing, in one line."""

    def __init__(self, code: str, **fields: Any) -> None:
        self.code = code
        super().__init__(_(MESSAGES[code]).format(**fields))


@dataclass(frozen=True)
class SourceURL:
    """A source URL's parts, read once; `public` is the URL as the audit trail and messages
    name it: no password, no query (redis-py takes `?password=`), no fragment."""

    scheme: str
    host: str
    port: int | None
    user: str | None  # percent-decoded, as the password
    password: str | None
    path: str
    public: str


def split_url(url: str, expected: str) -> SourceURL:
    """Return the parts of a source URL, or raise SourceError without a word of the URL:
    a password with an unescaped / ? or # ends the URL's host part early, and urlsplit's
    errors then quote what follows (the password) as a port."""
    try:
        parts = urlsplit(url.strip())
        # a cluster's URL lists its nodes: host:port,host:port (the first is read here)
        userinfo, at, nodes = parts.netloc.rpartition("@")
        first = parts._replace(netloc=userinfo + at + nodes.split(",")[0])
        host, port = first.hostname, first.port
        user, password = first.username, first.password
    except ValueError:
        raise SourceError("unreadable_url") from None
    # "@" past the host part: the user's part ended early, at a character of its password
    fields = parts.query.split("&") if parts.query else []
    if "@" not in parts.netloc and (
        "@" in parts.path or "@" in parts.fragment or any("@" in f.split("=")[0] for f in fields)
    ):
        raise SourceError("unreadable_url")
    if not host:
        raise SourceError("bad_url", expected=expected)
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if "," in nodes:  # a cluster: all its nodes, as given
        netloc = nodes
    if user:
        netloc = f"{user}@{netloc}"
    return SourceURL(
        scheme=parts.scheme.lower(),
        host=host,
        port=port,
        user=unquote(user) if user is not None else None,
        password=unquote(password) if password is not None else None,
        path=parts.path,
        public=f"{parts.scheme}://{netloc}{parts.path}",
    )


def public_url(url: str) -> str:
    """Return a source URL as the audit trail and messages name it (SourceURL.public), or
    raise SourceError if it cannot be read."""
    return split_url(url, _(A_URL)).public
