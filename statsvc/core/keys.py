"""Key names. Every key of a site carries the hash tag {site}: one cluster slot per site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from statsvc.core.calendar import Windows
from statsvc.core.pageview import OTHER_PAGE


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds the names of all keys under one prefix (one statsvc deployment)."""

    prefix: str = "sv"

    def sites(self) -> str:
        """The set of all site ids (not per site: listing sites is not on the hit path)."""
        return f"{self.prefix}:sites"

    def sites_version(self) -> str:
        """A counter raised after every change of a site's settings (a string: processes that
        cache settings read it to know whether any changed)."""
        return f"{self.prefix}:sites:version"

    def site(self, site: str) -> str:
        """A site's settings (JSON string)."""
        return f"{self.prefix}:{{{site}}}:site"

    def salt(self, site: str, day: date) -> str:
        """The random salt of a site's visitor ids on one local day."""
        return f"{self.prefix}:{{{site}}}:salt:{day.isoformat()}"

    def page_online(self, site: str, path: str) -> str:
        """Visitors reading one page now (sorted set: visitor -> last seen, ms)."""
        return f"{self.prefix}:{{{site}}}:pon:{path}"

    def rate(self, site: str, minute: int) -> str:
        """A site's counted views per visitor and per client address in one minute since the
        epoch (hash: visitor id or address id -> views; expires two minutes after it is made)."""
        return f"{self.prefix}:{{{site}}}:rate:{minute}"

    def total(self, site: str) -> str:
        """A site's all-time totals (hash: v views, u visits; never expires)."""
        return f"{self.prefix}:{{{site}}}:total"

    def month(self, site: str, month: str) -> str:
        """A site's month "YYYY-MM" (hash: v, u; <DD>v, <DD>u of each day)."""
        return f"{self.prefix}:{{{site}}}:m:{month}"

    def pages(self, site: str) -> str:
        """A site's pages (sorted set: path -> total views; the page registry)."""
        return f"{self.prefix}:{{{site}}}:pages"

    def pages_day(self, site: str, day: date) -> str:
        """A site's page tallies of one local day (sorted set: path -> views)."""
        return f"{self.prefix}:{{{site}}}:pd:{day.isoformat()}"

    def pages_month(self, site: str, month: str) -> str:
        """A site's page tallies of one month "YYYY-MM" (sorted set: path -> views)."""
        return f"{self.prefix}:{{{site}}}:pm:{month}"

    def sources_day(self, site: str, day: date) -> str:
        """A site's visits of one local day by source (sorted set: canonical host, "(direct)"
        or "(other)" -> visits; kept as long as the month hash holding the day's visits)."""
        return f"{self.prefix}:{{{site}}}:src:{day.isoformat()}"

    def rejected(self, site: str, day: date) -> str:
        """A site's hits not counted on one local day (hash: reason -> n)."""
        return f"{self.prefix}:{{{site}}}:rej:{day.isoformat()}"

    def tokens(self, site: str) -> str:
        """A site's read-only tokens (hash: token id -> JSON record with the token's hash)."""
        return f"{self.prefix}:{{{site}}}:tokens"

    def imports(self, site: str) -> str:
        """The imports applied to a site (hash: import id -> digest of the import)."""
        return f"{self.prefix}:{{{site}}}:imports"

    def migrations(self, site: str) -> str:
        """What `statsvc migrate` added to a site from each old counter (hash: source id ->
        JSON ledger; see statsvc.core.migrate)."""
        return f"{self.prefix}:{{{site}}}:migrations"

    def audit(self, site: str) -> str:
        """A site's audit trail (list of JSON entries, newest first, capped)."""
        return f"{self.prefix}:{{{site}}}:audit"

    def online(self, site: str) -> str:
        """A site's readers online (sorted set: visitor -> last seen, ms)."""
        return f"{self.prefix}:{{{site}}}:online"

    # A deployment's groups are few and not per site: they share one slot, under a hash tag
    # no site id can be ("#" is not in a site id), so a change and its audit entry are atomic.
    def groups(self) -> str:
        """Every group (hash: group id -> JSON record)."""
        return f"{self.prefix}:{{#groups}}:groups"

    def groups_version(self) -> str:
        """A counter raised by every change of a group (a change is made against the version
        its check read: two changes at once cannot make a cycle together)."""
        return f"{self.prefix}:{{#groups}}:version"

    def group_audit(self, group: str) -> str:
        """A group's audit trail (list of JSON entries, newest first, capped)."""
        return f"{self.prefix}:{{#groups}}:audit:{group}"

    def group_tokens(self, group: str) -> str:
        """A group's read-only tokens (hash: token id -> JSON record with the token's hash)."""
        return f"{self.prefix}:{{#groups}}:tokens:{group}"

    def session(self, digest: str) -> str:
        """A dashboard session (JSON; expires), named by the SHA-256 of its cookie."""
        return f"{self.prefix}:session:{digest}"

    def sign_in_salt(self) -> str:
        """The random salt of the client addresses' hashes in sign-in tallies."""
        return f"{self.prefix}:signin:salt"

    def sign_in_tally(self, address: str, minute: int) -> str:
        """The sign-in tries of one client address (its salted hash) in one minute since the
        epoch that failed (f) or are being judged (j) (a hash; expires a minute after it is
        made)."""
        return f"{self.prefix}:signin:tries:{minute}:{address}"

    def day(self, site: str, windows: Windows) -> list[str]:
        """The keys of one site and local day that the counting script takes, in the order of
        its KEYS header; the per-request page-online and rate keys follow them."""
        base = f"{self.prefix}:{{{site}}}:"
        today, yesterday = windows.today.isoformat(), windows.yesterday.isoformat()
        tomorrow = (windows.today + timedelta(days=1)).isoformat()
        return [
            self.total(site),
            self.month(site, windows.month),
            self.month(site, windows.last_month),
            base + "visitors:" + today,  # set of today's visitor ids
            base + "online",  # sorted set: visitor -> last seen (ms)
            self.pages(site),
            self.pages_day(site, windows.today),
            self.pages_month(site, windows.month),
            base + "ids:" + today,  # set of page-view ids counted today
            base + "ids:" + yesterday,  # set of page-view ids counted yesterday
            self.page_online(site, OTHER_PAGE),
            self.rejected(site, windows.today),
            base + "ids:" + tomorrow,  # set of page-view ids counted tomorrow (by a later hit)
            self.sources_day(site, windows.today),
            self.pages_day(site, windows.yesterday),
            self.pages_month(site, windows.last_month),
        ]
