"""Key names: every key of a site carries its hash tag {site}, so that all of a site's keys sit
in one cluster slot; names are distinct per day, month and page, under the deployment's prefix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from redis.crc import key_slot

from statsvc.core.calendar import Windows, week_days
from statsvc.core.keys import Keys
from statsvc.core.pageview import OTHER_PAGE

KEYS = Keys("sv")
DAY = date(2026, 11, 26)
SITE_IDS = ["tuson", "a", "0", "a" * 63, "xa_tu-son", "b1"]


def windows_of(today: date) -> Windows:
    """Return the windows of local date `today`, weeks from Monday."""
    return Windows(
        today=today,
        yesterday=date.fromordinal(today.toordinal() - 1),
        week=week_days(today, "monday"),
        month=today.strftime("%Y-%m"),
    )


# Every name of a site that the store writes, by the method that makes it.
SITE_KEYS: list[tuple[str, Callable[[Keys, str], str]]] = [
    ("site", lambda k, s: k.site(s)),
    ("salt", lambda k, s: k.salt(s, DAY)),
    ("page_online", lambda k, s: k.page_online(s, "/tin-tuc/a")),
    ("rate", lambda k, s: k.rate(s, 29_922_060)),
    ("total", lambda k, s: k.total(s)),
    ("month", lambda k, s: k.month(s, "2026-11")),
    ("pages", lambda k, s: k.pages(s)),
    ("pages_day", lambda k, s: k.pages_day(s, DAY)),
    ("pages_month", lambda k, s: k.pages_month(s, "2026-11")),
    ("rejected", lambda k, s: k.rejected(s, DAY)),
    ("sources_day", lambda k, s: k.sources_day(s, DAY)),
    ("tokens", lambda k, s: k.tokens(s)),
    ("imports", lambda k, s: k.imports(s)),
    ("migrations", lambda k, s: k.migrations(s)),
    ("audit", lambda k, s: k.audit(s)),
]


def every_key(keys: Keys, site: str) -> list[str]:
    """Return every name of `site`: each method's, and the counting script's keys of a day."""
    return [make(keys, site) for _, make in SITE_KEYS] + keys.day(site, windows_of(DAY))


@pytest.mark.parametrize("site", SITE_IDS)
def test_every_key_of_a_site_is_in_the_slot_of_its_hash_tag(site: str) -> None:
    """Each key of a site holds `{site}` and hashes to the slot of the site id alone."""
    for name in every_key(KEYS, site):
        assert f"{{{site}}}" in name, name
        assert key_slot(name.encode()) == key_slot(site.encode()), name


@pytest.mark.parametrize(
    "path",
    ["/", "/a{b}", "/{other}", "/}{", "/tin-tuc/" + "\u1ee9", OTHER_PAGE],
    ids=["home", "braces-in-path", "a-whole-tag-in-path", "reversed-braces", "non-ascii", "other"],
)
def test_a_page_with_braces_stays_in_its_sites_slot(path: str) -> None:
    """A page key stays in its site's slot whatever braces its path holds (the first tag wins)."""
    name = KEYS.page_online("tuson", path)
    assert key_slot(name.encode()) == key_slot(b"tuson")


@pytest.mark.parametrize("prefix", ["sv", "t0123456789ab", "statsvc:prod", "x"])
def test_every_name_begins_with_the_prefix(prefix: str) -> None:
    """Every name, a site's or not, begins with the deployment's prefix and a colon."""
    keys = Keys(prefix)
    names = [*every_key(keys, "tuson"), keys.sites(), keys.session("ab" * 32)]
    assert all(name.startswith(prefix + ":") for name in names), names


def test_two_prefixes_share_no_name() -> None:
    """Two deployments on one server (two prefixes) never write the same key."""
    one = {*every_key(Keys("a"), "tuson"), Keys("a").sites()}
    other = {*every_key(Keys("b"), "tuson"), Keys("b").sites()}
    assert one.isdisjoint(other)


def test_the_default_prefix_is_sv() -> None:
    """Without a prefix, names begin with `sv:`."""
    assert Keys().total("tuson") == "sv:{tuson}:total"


def test_names_of_one_site_are_all_distinct() -> None:
    """No two kinds of a site's keys, and no two keys of the counting script, share a name."""
    kinds = [make(KEYS, "tuson") for _, make in SITE_KEYS]
    assert len(set(kinds)) == len(kinds)
    script = KEYS.day("tuson", windows_of(DAY))
    assert len(set(script)) == len(script)


def test_two_sites_share_no_name() -> None:
    """No name of one site is a name of another, even where one id begins the other."""
    assert set(every_key(KEYS, "tu")).isdisjoint(every_key(KEYS, "tuson"))


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("salt", lambda day: KEYS.salt("tuson", day)),
        ("pages_day", lambda day: KEYS.pages_day("tuson", day)),
        ("rejected", lambda day: KEYS.rejected("tuson", day)),
    ],
)
def test_day_keys_differ_from_day_to_day(name: str, make: Callable[[date], str]) -> None:
    """A key of a day has a name of its own for each date, across a month and a year."""
    days = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 1), date(2027, 11, 26)]
    assert len({make(day) for day in days}) == len(days), name


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("month", lambda month: KEYS.month("tuson", month)),
        ("pages_month", lambda month: KEYS.pages_month("tuson", month)),
    ],
)
def test_month_keys_differ_from_month_to_month(name: str, make: Callable[[str], str]) -> None:
    """A key of a month has a name of its own for each month, and for one month of two years."""
    months = ["2026-11", "2026-12", "2027-01", "2027-11"]
    assert len({make(month) for month in months}) == len(months), name


def test_page_keys_differ_from_page_to_page() -> None:
    """Each page has an online key of its own; spellings that differ are different pages."""
    paths = ["/", "/a", "/a/", "/A", "/a?id=1", OTHER_PAGE]
    assert len({KEYS.page_online("tuson", path) for path in paths}) == len(paths)


@pytest.mark.parametrize(
    ("today", "month", "last_month"),
    [
        pytest.param(date(2026, 11, 26), "2026-11", "2026-10", id="mid-month"),
        pytest.param(date(2026, 12, 1), "2026-12", "2026-11", id="first-of-a-month"),
        pytest.param(date(2027, 1, 1), "2027-01", "2026-12", id="first-of-a-year"),
        pytest.param(date(2028, 3, 1), "2028-03", "2028-02", id="after-a-leap-day"),
    ],
)
def test_a_days_keys_name_its_month_and_last_month(
    today: date, month: str, last_month: str
) -> None:
    """The counting script's keys of a day name its date, its month and the month before."""
    names = KEYS.day("tuson", windows_of(today))
    tag = "sv:{tuson}:"
    yesterday = date.fromordinal(today.toordinal() - 1)
    assert names == [
        tag + "total",
        tag + "m:" + month,
        tag + "m:" + last_month,
        tag + "visitors:" + today.isoformat(),
        tag + "online",
        tag + "pages",
        tag + "pd:" + today.isoformat(),
        tag + "pm:" + month,
        tag + "ids:" + today.isoformat(),
        tag + "ids:" + yesterday.isoformat(),
        tag + "pon:" + OTHER_PAGE,
        tag + "rej:" + today.isoformat(),
        tag + "ids:" + date.fromordinal(today.toordinal() + 1).isoformat(),
        tag + "src:" + today.isoformat(),
        tag + "pd:" + yesterday.isoformat(),
        tag + "pm:" + last_month,
    ]


def test_the_keys_of_all_sites_are_outside_any_site() -> None:
    """The list of sites and the dashboard sessions carry no site's hash tag."""
    assert KEYS.sites() == "sv:sites"
    assert KEYS.session("ab" * 32) == "sv:session:" + "ab" * 32
