"""The bounds of what the store keeps."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CONNECTIONS = 32  # per process and server: counting takes one, look-ups the rest
# seconds: how old a kept hit may be when the store takes it and still be counted exactly
# (its page-view id is checked in the id sets of its day and the days either side)
REPLAY_HORIZON = 86_400
# a day's page tallies serve the today, yesterday and week windows and a report's days of a
# month it does not cover whole; they live this long from the day's first view, or once the
# day is rolled into its month's tally from then (a pending day's live as long as the month's)
PAGE_DAY_TTL = 8 * 86400


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of what the store keeps, and of what one visitor or one address may count."""

    retention_days: int = 400
    page_cap: int = 50_000
    rate_limit: int = 30  # counted views per visitor, site and minute (0: no limit)
    rate_limit_address: int = 300  # counted views per client address, site and minute (0: none)
    source_cap: int = 1_000  # distinct sources of a site's day; more fold into "(other)"

    @property
    def month_ttl(self) -> int:
        """Return how long (s) a month's figures (its day figures and page tallies) live from
        the month's first view: the retention and the month itself."""
        return (self.retention_days + 31) * 86400

    @property
    def page_days_kept(self) -> int:
        """Return how many days back from today a day's page tallies are sure to be kept."""
        return PAGE_DAY_TTL // 86400 - 1
