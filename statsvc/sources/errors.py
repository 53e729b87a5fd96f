"""A source that cannot be read, in one line; the messages in one table, in the language of
the command line (statsvc.i18n)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from statsvc.i18n import N_, _

MESSAGES = {
    "bad_url": N_("{url}: expected {expected}"),
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


class SourceError(Exception):
    """An old counter's storage that cannot be read: what is missing, in one line."""

    def __init__(self, code: str, **fields: Any) -> None:
        self.code = code
        super().__init__(_(MESSAGES[code]).format(**fields))


def public_url(url: str) -> str:
    """Return a source URL without its password (as the audit trail and messages name it)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc))
