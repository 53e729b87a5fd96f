"""A group's figures are the sums of its distinct member sites' figures, each in its own time
zone: random hits across members in several zones, and clock jumps, against a simple model."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.pageview import PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service import groups
from statsvc.service.auth import Principal
from statsvc.service.counting import StatsService
from statsvc.service.group_figures import GroupFigures
from statsvc.store import Limits, Store
from tests.helpers import STORE_TIMEOUT, FakeClock, examples, forget

ZONES = ("Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "UTC")
WEEK_STARTS = ("monday", "sunday")
PEOPLE = [
    Client(
        ip=f"198.51.100.{n}", user_agent="Mozilla/5.0 Firefox/128.0", origin=None, no_tracking=False
    )
    for n in range(3)
]
# sites s0..s4; district-a holds s0, s1; district-b holds s1, s2; the province holds both
# districts and s3 (s1 reached twice, counted once); s4 is in no group
DISTRICTS = {"district-a": ["s0", "s1"], "district-b": ["s1", "s2"]}
PROVINCE = ("province", ["s3"], ["district-a", "district-b"])
MEMBERS = {
    "district-a": ["s0", "s1"],
    "district-b": ["s1", "s2"],
    "province": ["s0", "s1", "s2", "s3"],
}
START = datetime(2026, 11, 29, 16, 59, 0, tzinfo=UTC).timestamp()  # 23:59 in Hồ Chí Minh City
CLI = Principal("test", None)


@dataclass(frozen=True)
class Hit:
    site: int  # of the five
    person: int


@dataclass(frozen=True)
class Advance:
    seconds: int


operations = st.lists(
    st.one_of(
        st.builds(Hit, st.integers(0, 4), st.integers(0, len(PEOPLE) - 1)),
        st.builds(Advance, st.sampled_from([1, 200, 299, 301, 3600, 6 * 3600, 86400, 5 * 86400])),
    ),
    max_size=25,
)
site_zones = st.lists(
    st.tuples(st.sampled_from(ZONES), st.sampled_from(WEEK_STARTS)), min_size=5, max_size=5
)


class Model:
    """Each site's counted views: when, by whom; figures by the site's own windows."""

    def __init__(self, sites: list[Site]) -> None:
        self.sites = {site.id: site for site in sites}
        self.views: dict[str, list[tuple[float, int]]] = defaultdict(list)

    def figures(self, site_id: str, now: float) -> list[int]:
        """Views (5 windows), visits (5 windows), online of one site at `now`."""
        site = self.sites[site_id]
        windows = windows_at(now, site.zone, site.week_start)
        days: dict[date, list[int]] = defaultdict(list)  # local day -> people, a view each
        for at, person in self.views[site_id]:
            days[datetime.fromtimestamp(at, site.zone).date()].append(person)
        spans = [
            [windows.today],
            [windows.yesterday],
            list(windows.week),
            [d for d in days if d.strftime("%Y-%m") == windows.month],
            list(days),
        ]
        views = [sum(len(days.get(d, [])) for d in span) for span in spans]
        visits = [sum(len(set(days.get(d, []))) for d in span) for span in spans]
        since = now - site.online_window
        online = {person for at, person in self.views[site_id] if at >= since}
        return [*views, *visits, len(online)]


@settings(max_examples=examples(150), deadline=None)
@given(zones=site_zones, ops=operations)
def test_group_figures_are_the_sums_of_their_distinct_members(
    redis_url: str, zones: list[tuple[str, str]], ops: list[Hit | Advance]
) -> None:
    """After random hits across member sites in several zones and clock jumps, each group's
    figures equal the sums of its distinct members' figures in the model and in the service's
    own counts of each site; a site reached through two districts counts once."""
    asyncio.run(play(redis_url, zones, ops))


async def play(redis_url: str, zones: list[tuple[str, str]], ops: list[Hit | Advance]) -> None:
    prefix = "tg" + secrets.token_hex(5)
    store = Store.from_url(
        redis_url, Keys(prefix), Limits(rate_limit=0, rate_limit_address=0), timeout=STORE_TIMEOUT
    )
    clock = FakeClock(START)
    stats = StatsService(store, clock)
    figures = GroupFigures(stats, cache_seconds=0.0)
    try:
        sites = [
            Site(id=f"s{n}", timezone=zone, week_start=week_start)
            for n, (zone, week_start) in enumerate(zones)
        ]
        for site in sites:
            await store.put_site(site)
        for group_id, members in DISTRICTS.items():
            await groups.save_group(stats, group_id, {"sites": members}, CLI)
        province, own, districts = PROVINCE
        await groups.save_group(stats, province, {"sites": own, "groups": districts}, CLI)
        model = Model(sites)
        for op in ops:
            if isinstance(op, Advance):
                clock.advance(op.seconds)
                continue
            site_id = f"s{op.site}"
            result = await stats.hit(PageView(site_id, "/", None, None), PEOPLE[op.person])
            assert result.counts is not None and result.counts.counted
            model.views[site_id].append((clock(), op.person))
        for group_id, members in MEMBERS.items():
            got = await figures.counts(group_id)
            rows = [model.figures(s, clock()) for s in members]
            expected = [sum(col) for col in zip(*rows, strict=True)]
            said = [
                *(got["views"][w] for w in ("today", "yesterday", "week", "month", "total")),
                *(got["visits"][w] for w in ("today", "yesterday", "week", "month", "total")),
                got["online"],
            ]
            assert said == expected, group_id
            assert got["sites"] == len(members)
            each = [await stats.counts(s, None) for s in members]
            assert got["views"]["total"] == sum(c["views"]["total"] for c in each)
            assert got["online"] == sum(c["online"] for c in each)
    finally:
        await store.close()
        await forget(redis_url, prefix)
