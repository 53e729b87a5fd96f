"""Vietnam's defaults: a new site's days are Vietnam's days unless the operator says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from statsvc.__main__ import parser
from statsvc.core.config import Settings
from statsvc.settings import settings_from
from tests.helpers import HCM, Client, FakeClock, get_counts, post_hit, put_site


def test_the_default_zone_and_locale_are_vietnams() -> None:
    """Without STATSVC_TIMEZONE and STATSVC_LOCALE new sites count in Asia/Ho_Chi_Minh, in
    Vietnamese; the variables change both."""
    serve = parser().parse_args(["serve"])
    default = settings_from({}, serve)
    assert (default.timezone, default.locale) == (HCM, "vi")
    assert Settings().timezone == HCM
    chosen = settings_from({"STATSVC_TIMEZONE": "UTC", "STATSVC_LOCALE": "en"}, serve)
    assert (chosen.timezone, chosen.locale) == ("UTC", "en")


@pytest.mark.parametrize("site", ["demo", "xa-moi"])
async def test_a_new_site_rolls_over_at_midnight_in_vietnam(
    client: Client, clock: FakeClock, site: str
) -> None:
    """A site made without a time zone (the demo site, or one PUT with no settings) starts a
    new day at 17:00 UTC, local midnight in Asia/Ho_Chi_Minh: a hit at 16:59:59 UTC and one
    at 17:00:00 UTC fall on two local days."""
    if site != "demo":
        assert (await put_site(client, site, {}))["timezone"] == HCM
    clock.set(datetime(2026, 11, 26, 16, 59, 59, tzinfo=UTC))
    before = await post_hit(client, {"site": site, "path": "/"})
    clock.set(datetime(2026, 11, 26, 17, 0, 0, tzinfo=UTC))
    after = await post_hit(client, {"site": site, "path": "/"})
    assert (before["date"], after["date"]) == ("2026-11-26", "2026-11-27")
    assert before["timezone"] == after["timezone"] == HCM
    counts = await get_counts(client, site)
    assert (counts["views"]["today"], counts["views"]["yesterday"]) == (1, 1)
