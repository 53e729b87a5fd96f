"""The errors of the model and its use cases. Each names itself with a `code` (the word a
client reads) and a message; the http layer maps each class once to its status."""

from __future__ import annotations


class StatsvcError(Exception):
    """A request that cannot be done as asked: `code` names it, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BadInput(StatsvcError, ValueError):
    """Input that cannot be accepted."""


class UnknownSite(StatsvcError, LookupError):
    """The site id names no site."""

    def __init__(self, site: str) -> None:
        super().__init__("unknown_site", f"no site {site!r}")
        self.site = site


class UnknownGroup(StatsvcError, LookupError):
    """The group id names no group."""

    def __init__(self, group: str) -> None:
        super().__init__("unknown_group", f"no group {group!r}")
        self.group = group


class UnknownToken(StatsvcError, LookupError):
    """The token id names no token of the site."""


class Unauthorized(StatsvcError):
    """No valid token was presented."""


class Forbidden(StatsvcError):
    """The token presented may not do this."""


class Conflict(StatsvcError):
    """The request contradicts what is stored (an import id reused, too many tokens)."""


class TooDeep(StatsvcError):
    """Well-formed input the model cannot hold (groups nested deeper than it allows)."""


class TooManyAttempts(StatsvcError):
    """Too many failed sign-ins from one address this minute: try again after `retry_after`
    seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too_many_attempts",
            f"too many failed attempts from this address: try again in {retry_after} s",
        )
        self.retry_after = retry_after
