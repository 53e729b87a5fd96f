"""What counting gives back: the figures the store read, and the result of a hit as the
service decided it, answered as the counts object of DESIGN §3."""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple

from statsvc.core.calendar import Windows
from statsvc.core.pageview import NO_PAGE
from statsvc.core.reasons import Reason
from statsvc.core.site import Site


class Figures(NamedTuple):
    """Views or visits over the windows of DESIGN §1."""

    today: int
    yesterday: int
    week: int
    month: int
    total: int


class Counts(NamedTuple):
    """What one run of the counting script did and read back (a tuple: made once per hit)."""

    counted: bool
    path: str
    online: int
    page_online: int
    views: Figures
    visits: Figures
    page_today: int
    page_total: int
    refused: Reason | None = None  # a hit the script did not count: duplicate, rate_limited


class Outcome(Enum):
    """What became of a page view."""

    COUNTED = "counted"
    REFUSED = "refused"  # not counted, for a Reason
    QUEUED = "queued"  # kept to count once the store answers; no figures can be read


class HitResult(NamedTuple):
    """A page view's outcome and the counts read with it (none while queued)."""

    outcome: Outcome
    site: Site
    windows: Windows
    counts: Counts | None
    path: str
    reason: Reason | None = None

    def body(self) -> dict[str, Any]:
        """Return the reply of DESIGN §3 (`counted` true, false with a reason, or "queued"),
        without "path" and "page" for a view of no page."""
        counted: bool | str = (
            "queued" if self.outcome is Outcome.QUEUED else self.outcome is Outcome.COUNTED
        )
        return reply(
            self.site,
            self.windows,
            self.counts,
            page=self.path != NO_PAGE,
            counted=counted,
            reason=self.reason,
            path=self.path,
        )


def reply(
    site: Site,
    windows: Windows,
    counts: Counts | None,
    *,
    page: bool,
    counted: bool | str | None = None,
    reason: str | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    """Return the counts object of DESIGN §3, with the page's figures when `page` is set
    (without counts, while the store cannot be read, every figure is null and the page is
    `path`). `counted` is the wire's: true, false, or "queued"."""
    body: dict[str, Any] = {"site": site.id}
    if page:
        body["path"] = counts.path if counts else path
    if counted is not None:
        body["counted"] = counted
    body.update(
        date=windows.today.isoformat(),
        timezone=site.timezone,
        locale=site.locale,
        online=counts.online if counts else None,
        views=counts.views._asdict() if counts else None,
        visits=counts.visits._asdict() if counts else None,
    )
    if page:
        body["page"] = (
            {"today": counts.page_today, "total": counts.page_total, "online": counts.page_online}
            if counts
            else None
        )
    if reason is not None:
        body["reason"] = str(reason)
    return body
