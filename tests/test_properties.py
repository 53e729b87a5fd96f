"""Random hits, heartbeats, reads, imports and clock jumps give exactly a reference model's
counts."""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from statsvc.core.keys import Keys
from statsvc.core.pageview import OTHER_PAGE, PageView
from statsvc.core.requester import Client
from statsvc.core.site import Site
from statsvc.service import admin, auth, backfill
from statsvc.service.counting import StatsService
from statsvc.store import Limits, Store
from tests.helpers import STORE_TIMEOUT, FakeClock, check_invariants, examples, forget

ZONES = (
    "Asia/Ho_Chi_Minh",
    "Europe/Berlin",
    "America/New_York",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
    "Australia/Lord_Howe",
    "America/Santiago",  # DST changes at local midnight: some days have no 00:00
)
PATHS = ("/", "/a", "/b/c", "/tin-tuc", "/lien-he")
PEOPLE = (
    Client(ip="198.51.100.1", user_agent="Mozilla/5.0 A", origin=None, no_tracking=False),
    Client(ip="198.51.100.1", user_agent="Mozilla/5.0 B", origin=None, no_tracking=False),
    Client(ip="2001:db8::1", user_agent="Mozilla/5.0 A", origin=None, no_tracking=False),
)
VIEW_IDS = ("pv-00000001", "pv-00000002", "pv-00000003")
# the reply keys the model predicts; the reply may say more (how to draw the box)
MODELLED = frozenset(
    ("site", "path", "counted", "reason", "date", "timezone", "online", "views", "visits", "page")
)
SECOND_MS = 1000
DAY_MS = 86_400 * SECOND_MS
ONE_DAY = timedelta(days=1)


# Operations. Site numbers are taken modulo the number of sites of the scenario.


@dataclass(frozen=True)
class Hit:
    site: int
    path: int
    person: int
    view_id: int | None


@dataclass(frozen=True)
class Ping:
    site: int
    path: int
    person: int


@dataclass(frozen=True)
class Read:
    site: int
    path: int | None


@dataclass(frozen=True)
class Advance:
    ms: int


@dataclass(frozen=True)
class AfterWindow:
    """Jump by a site's online window, `offset_ms` from it: the edge of staying online."""

    site: int
    offset_ms: int


@dataclass(frozen=True)
class ToMidnight:
    """Jump to the next local midnight of a site, `offset_ms` from it (no-op if not forward)."""

    site: int
    offset_ms: int


@dataclass(frozen=True)
class Load:
    """Import an older counter's days (`back` days before today) and total, or (`again`)
    the site's previous import once more; then read the admin stats."""

    site: int
    back: tuple[int, ...]
    views: int
    visits: int
    total: int | None
    again: bool


Operation = Hit | Ping | Read | Load | Advance | AfterWindow | ToMidnight


@dataclass(frozen=True)
class SiteSpec:
    timezone: str
    week_start: str
    online_window: int


@dataclass(frozen=True)
class Scenario:
    sites: list[SiteSpec]
    page_cap: int
    start_ms: int
    operations: list[Operation]


sites_ = st.integers(0, 2)
advances = st.one_of(
    st.integers(SECOND_MS, 10 * 60 * SECOND_MS),
    st.integers(3600 * SECOND_MS, 2 * DAY_MS),
    st.integers(SECOND_MS, 40 * DAY_MS),
    st.sampled_from([365 * DAY_MS, 366 * DAY_MS]),  # the same month of another year
)
operations = st.one_of(
    st.builds(
        Hit,
        site=sites_,
        path=st.integers(0, len(PATHS) - 1),
        person=st.integers(0, len(PEOPLE) - 1),
        view_id=st.none() | st.integers(0, len(VIEW_IDS) - 1),
    ),
    st.builds(
        Ping,
        site=sites_,
        path=st.integers(0, len(PATHS) - 1),
        person=st.integers(0, len(PEOPLE) - 1),
    ),
    st.builds(Read, site=sites_, path=st.none() | st.integers(0, len(PATHS) - 1)),
    st.builds(
        Load,
        site=sites_,
        back=st.lists(st.integers(0, 40), max_size=4, unique=True).map(tuple),
        views=st.integers(0, 5),
        visits=st.integers(0, 5),
        total=st.none() | st.integers(0, 30),
        again=st.booleans(),
    ),
    st.builds(Advance, ms=advances),
    st.builds(AfterWindow, site=sites_, offset_ms=st.sampled_from([-1, 0, 1])),
    st.builds(ToMidnight, site=sites_, offset_ms=st.sampled_from([-SECOND_MS, -1, 0, 1])),
)
scenarios = st.builds(
    Scenario,
    sites=st.lists(
        st.builds(
            SiteSpec,
            timezone=st.sampled_from(ZONES),
            week_start=st.sampled_from(["monday", "sunday"]),
            online_window=st.sampled_from([30, 300, 3600]),
        ),
        min_size=1,
        max_size=3,
    ),
    page_cap=st.sampled_from([2, 3, 10]),
    start_ms=st.integers(
        int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        int(datetime(2029, 1, 1, tzinfo=UTC).timestamp()),
    ).map(lambda s: s * SECOND_MS),
    # runs of runs: longer scenarios (about 16 operations, up to 100) that still shrink to one
    operations=st.lists(st.lists(operations, min_size=1, max_size=10), min_size=1, max_size=10).map(
        lambda runs: [op for run in runs for op in run]
    ),
)


# The reference model of one site.

Visitor = tuple[int, date]  # a person under one local day's salt


@dataclass
class SiteModel:
    """What the store should hold for one site, kept in plain Python."""

    site: Site
    page_cap: int
    views: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    visits: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    seen: dict[date, set[int]] = field(default_factory=lambda: defaultdict(set))
    ids: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    pages: dict[str, int] = field(default_factory=dict)
    pages_today: dict[date, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    online: dict[Visitor, int] = field(default_factory=dict)
    page_online: dict[str, dict[Visitor, int]] = field(default_factory=lambda: defaultdict(dict))
    imported: list[int] = field(default_factory=lambda: [0, 0])  # totals beyond the days
    imports: list[dict[str, Any]] = field(default_factory=list)
    duplicates: dict[date, int] = field(default_factory=lambda: defaultdict(int))

    def day(self, now: float) -> date:
        """Return the site's local date at `now`."""
        return datetime.fromtimestamp(now, self.site.zone).date()

    def page(self, path: str) -> tuple[str, bool]:
        """Return the page a hit, ping or read of `path` is for (new paths fold past the cap),
        and whether that page is known."""
        if path in self.pages or len(self.pages) < self.page_cap:
            return path, path in self.pages
        return OTHER_PAGE, OTHER_PAGE in self.pages

    def hit(self, now: float, path: str, person: int, view_id: str | None) -> tuple[bool, str]:
        """Count a hit unless its page-view id was counted yesterday, today or tomorrow (the
        clock only moves forward here: tomorrow has none yet)."""
        today = self.day(now)
        path, known = self.page(path)
        counted = view_id is None or not any(
            view_id in self.ids[day] for day in (today - ONE_DAY, today, today + ONE_DAY)
        )
        if not counted:
            self.duplicates[today] += 1
        if counted:
            if view_id is not None:
                self.ids[today].add(view_id)
            self.views[today] += 1
            if person not in self.seen[today]:
                self.seen[today].add(person)
                self.visits[today] += 1
            self.pages[path] = self.pages.get(path, 0) + 1
            self.pages_today[today][path] += 1
            known = True
        if counted or self.may_mark(now, person):
            self.mark_online(now, person, path if known else None)
        return counted, path

    def month_pages(self, now: float) -> list[dict[str, Any]]:
        """Return the views of each page this month, most viewed first (ties by path)."""
        today = self.day(now)
        summed: dict[str, int] = defaultdict(int)
        for day, pages in self.pages_today.items():
            if (day.year, day.month) == (today.year, today.month):
                for path, views in pages.items():
                    summed[path] += views
        rows = [{"path": path, "views": views} for path, views in summed.items()]
        return sorted(rows, key=lambda row: (-row["views"], row["path"]))

    def load(self, now: float, op: Load) -> dict[str, Any]:
        """Return the import document of `op`, and add what it adds (nothing if it is the
        previous import again)."""
        if op.again and self.imports:
            return self.imports[-1]
        today = self.day(now)
        visits = min(op.visits, op.views)
        days = [today - timedelta(days=n) for n in op.back]
        document: dict[str, Any] = {
            "import_id": f"load-{len(self.imports)}",
            "days": [{"date": d.isoformat(), "views": op.views, "visits": visits} for d in days],
        }
        total = None if op.total is None else (op.total, op.total // 2)
        if total is None and not days:
            total = (0, 0)  # an import needs something
        if total is not None:
            document["total"] = {"views": total[0], "visits": total[1]}
        for d in days:
            self.views[d] += op.views
            self.visits[d] += visits
        if total is not None:
            self.imported[0] += max(0, total[0] - op.views * len(days))
            self.imported[1] += max(0, total[1] - visits * len(days))
        self.imports.append(document)
        return document

    def ping(self, now: float, path: str, person: int) -> str:
        """Keep a person online, and on the page if the page is known."""
        path, known = self.page(path)
        if self.may_mark(now, person):
            self.mark_online(now, person, path if known else None)
        return path

    def may_mark(self, now: float, person: int) -> bool:
        """Tell whether a hit not counted, or a heartbeat, marks a person online: only one
        counted today, or one online under yesterday's id within one online window after
        local midnight (the same reader)."""
        today = self.day(now)
        if person in self.seen[today]:
            return True
        if self.day(now - self.site.online_window) == today:
            return False
        seen = self.online.get((person, today - ONE_DAY))
        return seen is not None and seen >= int(now * 1000) - self.site.online_window * 1000

    def mark_online(self, now: float, person: int, path: str | None) -> None:
        """Mark a person (under today's salt) seen now on the site, and on `path` if given;
        within one online window after local midnight, forget them under yesterday's salt."""
        visitor = (person, self.day(now))
        if self.day(now - self.site.online_window) != visitor[1]:
            yesterday = (person, visitor[1] - ONE_DAY)
            self.online.pop(yesterday, None)
            if path is not None:
                self.page_online[path].pop(yesterday, None)
        now_ms = int(now * 1000)
        self.online[visitor] = max(now_ms, self.online.get(visitor, now_ms))
        if path is not None:
            on_page = self.page_online[path]
            on_page[visitor] = max(now_ms, on_page.get(visitor, now_ms))

    def counts(self, now: float, path: str | None) -> dict[str, Any]:
        """Return the counts reply the site should give at `now` (with `path`'s figures)."""
        today = self.day(now)
        since = int(now * 1000) - self.site.online_window * 1000
        if self.site.week_start == "monday":
            week_first = today - timedelta(days=today.weekday())
        else:
            week_first = today - timedelta(days=today.isoweekday() % 7)

        def figures(per_day: dict[date, int], beyond: int) -> dict[str, int]:
            return {
                "today": per_day.get(today, 0),
                "yesterday": per_day.get(today - ONE_DAY, 0),
                "week": sum(n for d, n in per_day.items() if week_first <= d <= today),
                "month": sum(
                    n for d, n in per_day.items() if (d.year, d.month) == (today.year, today.month)
                ),
                "total": sum(per_day.values()) + beyond,
            }

        body: dict[str, Any] = {"site": self.site.id}
        if path is not None:
            body["path"] = path
        body.update(
            date=today.isoformat(),
            timezone=self.site.timezone,
            online=sum(1 for seen in self.online.values() if seen >= since),
            views=figures(self.views, self.imported[0]),
            visits=figures(self.visits, self.imported[1]),
        )
        if path is not None:
            body["page"] = {
                "today": self.pages_today[today].get(path, 0),
                "total": self.pages.get(path, 0),
                "online": self.page_online_count(now, path),
            }
        return body

    def page_online_count(self, now: float, path: str) -> int:
        """Return how many visitors were seen on `path` within the online window."""
        since = int(now * 1000) - self.site.online_window * 1000
        return sum(1 for seen in self.page_online.get(path, {}).values() if seen >= since)


async def run(redis_url: str, scenario: Scenario) -> None:
    """Play a scenario against a fresh store and the model, comparing after every operation."""
    prefix = "prop" + secrets.token_hex(6)
    store = Store.from_url(
        redis_url,
        Keys(prefix),
        # the limit per address (300 a minute) is never reached: a scenario has 100 operations
        # at most, so its tally runs but refuses nothing
        Limits(page_cap=scenario.page_cap, rate_limit=0, rate_limit_address=300),
        timeout=STORE_TIMEOUT,
    )
    try:
        await play(store, scenario)
    finally:
        await store.close()
        await forget(redis_url, prefix)


async def play(store: Store, scenario: Scenario) -> None:
    """Create the sites, then run each operation through the service and through the model."""
    now_ms = scenario.start_ms
    clock = FakeClock(now_ms / 1000)
    service = StatsService(store, clock)
    models = []
    for n, spec in enumerate(scenario.sites):
        site = Site(
            id=f"s{n}",
            timezone=spec.timezone,
            week_start=spec.week_start,
            online_window=spec.online_window,
        )
        await store.put_site(site)
        models.append(SiteModel(site, scenario.page_cap))

    for op in scenario.operations:
        if isinstance(op, Advance | AfterWindow | ToMidnight):
            now_ms = next_instant(now_ms, op, models)
            clock.now = now_ms / 1000
            continue
        model = models[op.site % len(models)]
        site_id, now = model.site.id, clock()
        match op:
            case Hit():
                view_id = None if op.view_id is None else VIEW_IDS[op.view_id]
                view = PageView(site=site_id, path=PATHS[op.path], host=None, id=view_id)
                got = (await service.hit(view, PEOPLE[op.person])).body()
                counted, path = model.hit(now, PATHS[op.path], op.person, view_id)
                expected = model.counts(now, path)
                expected["counted"] = counted
                if not counted:
                    expected["reason"] = "duplicate"
            case Ping():
                view = PageView(site=site_id, path=PATHS[op.path], host=None, id=None)
                got = await service.ping(view, PEOPLE[op.person])
                path = model.ping(now, PATHS[op.path], op.person)
                expected = {
                    "online": model.counts(now, None)["online"],
                    "page": {"online": model.page_online_count(now, path)},
                }
                assert got["page"]["online"] <= got["online"], got
            case Read():
                read_path = None if op.path is None else PATHS[op.path]
                got = await service.counts(site_id, read_path)
                page = None if read_path is None else model.page(read_path)[0]
                expected = model.counts(now, page)
                # the month's pages: its rolled-up tally and its pending days' (count.lua)
                pages = await admin.top_pages(service, site_id, "month", 1000)
                assert pages["pages"] == model.month_pages(now), op
            case Load():
                again = op.again and bool(model.imports)
                reply = await backfill.import_counts(
                    service, site_id, model.load(now, op), auth.Principal("admin", None)
                )
                assert reply["imported"] is not again, reply
                got = await admin.site_stats(service, site_id)
                expected = model.counts(now, None)
                today = model.day(now)
                month = (today.year, today.month)
                duplicates = [n for d, n in model.duplicates.items() if (d.year, d.month) == month]
                assert got["rejected"]["today"]["duplicate"] == model.duplicates[today]
                assert got["rejected"]["month"]["duplicate"] == sum(duplicates)
        if not isinstance(op, Ping):
            check_invariants(got)
        assert {k: v for k, v in got.items() if k in MODELLED} == expected, op


def next_instant(
    now_ms: int, op: Advance | AfterWindow | ToMidnight, models: list[SiteModel]
) -> int:
    """Return the clock after a jump forward."""
    if isinstance(op, Advance):
        return now_ms + op.ms
    site = models[op.site % len(models)].site
    if isinstance(op, AfterWindow):
        return now_ms + site.online_window * SECOND_MS + op.offset_ms
    zone = site.zone
    tomorrow = datetime.fromtimestamp(now_ms / 1000, zone).date() + ONE_DAY
    midnight = datetime.combine(tomorrow, time(0), tzinfo=zone).timestamp()
    target = int(midnight) * 1000 + op.offset_ms
    return max(target, now_ms)


def hcm(*operations: Operation, page_cap: int = 10) -> Scenario:
    """Return a scenario of one Asia/Ho_Chi_Minh site starting a second before local midnight."""
    start = datetime.fromisoformat("2026-11-29T23:59:59+07:00")  # a Sunday night
    return Scenario(
        sites=[SiteSpec("Asia/Ho_Chi_Minh", "monday", 300)],
        page_cap=page_cap,
        start_ms=int(start.timestamp()) * SECOND_MS,
        operations=list(operations),
    )


# each scenario opens a fresh store; a cluster client costs some 50 ms to open (it reads the
# server's COMMAND table), so the cluster run plays fewer (the single-server runs play 1,000)
@settings(max_examples=examples(1000), deadline=None)
@given(scenario=scenarios)
# the same reader after local midnight is a new visit, but never a second visitor online
@example(hcm(Hit(0, 0, 0, None), Advance(SECOND_MS), Hit(0, 0, 0, None), Read(0, 0)))
# a page-view id counted on day D is a duplicate on D+1 too, and counted again on D+2
@example(
    hcm(Hit(0, 0, 0, 0), Advance(SECOND_MS), Hit(0, 0, 1, 0), Advance(DAY_MS), Hit(0, 0, 2, 0))
)
# past the page cap a new path counts as "(other)", and a read of it reads "(other)"
@example(hcm(*(Hit(0, n, 0, None) for n in range(3)), Read(0, 2), Ping(0, 3, 1), page_cap=2))
# a duplicate from another reader, and a heartbeat of one never counted, put no one online
@example(hcm(Hit(0, 0, 0, 0), Hit(0, 0, 1, 0), Ping(0, 1, 2), Read(0, 0), Read(0, 1)))
# a reader online under yesterday's id is kept online by a heartbeat past midnight
@example(
    hcm(Hit(0, 0, 0, None), Advance(30 * SECOND_MS), Ping(0, 0, 0), AfterWindow(0, -1), Read(0, 0))
)
# a reader stays online for exactly the online window
@example(hcm(Hit(0, 0, 0, None), AfterWindow(0, 0), Read(0, 0), Advance(1), Read(0, 0)))
def test_counts_equal_the_model_and_keep_the_invariants(redis_url: str, scenario: Scenario) -> None:
    """After every hit, heartbeat, read, import (new or repeated) or clock jump, the service
    answers exactly the model's counts and refused duplicates, and every DESIGN §2 invariant
    holds."""
    asyncio.run(run(redis_url, scenario))
