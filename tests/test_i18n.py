"""The message catalogue and the language machinery: every text has its Vietnamese, numbers
and dates are written as each language writes them, and the page's language is chosen as
the README says."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from statsvc import i18n

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "statsvc" / "locale" / "vi" / "LC_MESSAGES" / "statsvc.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+(?:![rs])?\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The texts marked in the code and templates, as `pybabel extract` finds them."""
    pot = tmp_path_factory.mktemp("pot") / "statsvc.pot"
    extract = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract"]
    subprocess.run(
        [*extract, "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as file:
        return read_po(file)


def catalogue() -> Catalog:
    """Return the Vietnamese catalogue as it is in the source tree."""
    with CATALOGUE.open("rb") as file:
        return read_po(file, locale="vi")


def test_every_text_has_its_vietnamese_translation(extracted: Catalog) -> None:
    """Every msgid marked in Python or a template is in the Vietnamese catalogue, translated
    (not empty, not fuzzy), with the same placeholders; the catalogue keeps no text the code
    no longer has."""
    vi = catalogue()
    marked = {m.id for m in extracted if m.id}
    kept = {m.id for m in vi if m.id}
    assert sorted(map(str, marked - kept)) == [], "extracted but not in statsvc.po"
    assert sorted(map(str, kept - marked)) == [], "in statsvc.po but no longer in the code"
    for message in vi:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in map(str, strings):
            assert string and string.strip(), message.id
            assert sorted(PLACEHOLDER.findall(string)) == sorted(
                PLACEHOLDER.findall(str(ids[0]))
            ), message.id
    assert list(vi.check()) == []


def test_the_catalogue_defines_each_text_once() -> None:
    """No msgid (within its msgctxt) is defined twice in statsvc.po: msgfmt --check refuses
    the file, and babel silently keeps the last of the two."""
    seen: Counter[tuple[str, str]] = Counter()
    for entry in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        field = ""
        for line in entry.splitlines():
            keyword, _, rest = line.partition(" ")
            if keyword in ("msgctxt", "msgid"):
                field, fields[keyword] = keyword, rest
            elif line.startswith('"') and field:
                fields[field] += line
            else:
                field = ""
        if fields.get("msgid", '""') != '""':
            seen[(fields.get("msgctxt", ""), fields["msgid"])] += 1
    assert sorted(entry for entry, times in seen.items() if times > 1) == []


def test_the_source_tree_keeps_no_compiled_catalogue() -> None:
    """The tree has only the .po (a .mo is a build output, and a stale one would win)."""
    assert list((ROOT / "statsvc" / "locale").rglob("*.mo")) == []


@pytest.mark.parametrize(
    ("locale", "figure", "day", "short"),
    [("vi", "13.457", "26/11/2026", "26/11"), ("en", "13,457", "Nov 26, 2026", "11/26")],
)
def test_numbers_and_dates_are_written_as_the_language_writes_them(
    locale: str, figure: str, day: str, short: str
) -> None:
    """Numbers are grouped and dates written per language: 13.457 and dd/mm/yyyy in
    Vietnamese, 13,457 and Babel's date in English."""
    token = i18n.use(locale)
    try:
        assert i18n.number(13457) == figure
        assert i18n.day(date(2026, 11, 26)) == day
        assert i18n.short_day(date(2026, 11, 26)) == short
    finally:
        i18n.reset(token)


def test_an_instant_is_written_in_the_site_zone() -> None:
    """An audit time (UTC) is shown in the site's own time zone."""
    token = i18n.use("vi")
    try:
        instant = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
        assert i18n.moment(instant, ZoneInfo("Asia/Ho_Chi_Minh")) == "27/11/2026 00:30"
    finally:
        i18n.reset(token)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("en-US,en;q=0.9,vi;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("en;q=0.5, vi", "vi"),
        ("vi;q=0, en;q=0.1", "en"),
        ("fr", None),
        ("", None),
        ("vi;q=abc", None),
    ],
)
def test_accept_language_picks_the_preferred_language(header: str, locale: str | None) -> None:
    """Accept-Language gives the language of statsvc's two that the browser prefers most."""
    assert i18n.negotiate(header) == locale


@pytest.mark.parametrize(
    ("env", "locale"),
    [
        ({}, "vi"),
        ({"LANG": "C.UTF-8"}, "vi"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "vi_VN.UTF-8"}, "vi"),
        ({"LANGUAGE": "fr:en", "LANG": "vi_VN"}, "en"),
        ({"STATSVC_LOCALE": "en", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"STATSVC_LOCALE": "vi", "LANG": "en_US.UTF-8"}, "vi"),
    ],
)
def test_the_command_line_takes_its_language_from_the_environment(
    env: dict[str, str], locale: str
) -> None:
    """STATSVC_LOCALE, else LANGUAGE, LC_ALL, LC_MESSAGES, LANG (vi_VN is vi), else vi."""
    assert i18n.environment_locale(env) == locale
