"""Texts a person reads, in Vietnamese or English: the message catalogue, the language in
force, and numbers and dates as that language writes them.

English is the msgid; the Vietnamese catalogue is statsvc/locale/vi/LC_MESSAGES/statsvc.po.
A wheel carries it compiled (statsvc.mo, built by build_catalogues.py); a source tree has the
.po only, compiled in memory at its first use, so an edited .po shows at the next start.

The language in force is a context variable: the dashboard sets it for each request
(statsvc.http.language), the command line once from its environment. Nothing set means
English, the language of logs and of the public API's messages."""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal

LOCALES = ("vi", "en")  # the languages of the catalogue, of the pages and of a site's box

__all__ = [
    "LOCALES",
    "N_",
    "_",
    "current",
    "day",
    "environment_locale",
    "gettext",
    "moment",
    "negotiate",
    "ngettext",
    "npgettext",
    "number",
    "pgettext",
    "reset",
    "short_day",
    "use",
]
DOMAIN = "statsvc"
SOURCE_LANGUAGE = "en"  # the msgids' language: it needs no catalogue
DEFAULT = "vi"  # what an operator sees when nothing says otherwise
# dates as each language writes them: Vietnamese day/month/year, English as Babel's CLDR has it
DATE_FORMATS = {"vi": "dd/MM/yyyy", "en": "medium"}
MOMENT_FORMATS = {"vi": "dd/MM/yyyy HH:mm", "en": "medium"}
_locale: ContextVar[str] = ContextVar("statsvc_locale", default=SOURCE_LANGUAGE)


def use(locale: str) -> Token[str]:
    """Make `locale` (one of LOCALES) the language of the texts that follow in this context."""
    if locale not in LOCALES:
        raise ValueError(f"no catalogue for {locale!r}")
    return _locale.set(locale)


def reset(token: Token[str]) -> None:
    """Restore the language that was in force before use() returned `token`."""
    _locale.reset(token)


def current() -> str:
    """Return the language in force."""
    return _locale.get()


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Return a language's catalogue: the compiled one a wheel carries, else the .po
    compiled in memory (a source tree)."""
    if locale == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    folder = files("statsvc") / "locale" / locale / "LC_MESSAGES"
    compiled = folder / f"{DOMAIN}.mo"
    if compiled.is_file():
        with compiled.open("rb") as mo:
            return _gettext.GNUTranslations(mo)
    from babel.messages.mofile import write_mo  # a source tree only: the wheel needs neither
    from babel.messages.pofile import read_po

    with (folder / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str) -> str:
    """Return `message` (English) in the language in force."""
    return translations(_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the form of a message for `n` in the language in force."""
    return translations(_locale.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Return `message` in the language in force, as meant in `context`."""
    return translations(_locale.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    """Return the form of a message for `n`, as meant in `context`."""
    return translations(_locale.get()).npgettext(context, singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # the name every gettext extractor knows
    """Mark `message` for the catalogue, translated later where it is shown (a table)."""
    return message


def number(value: int | float) -> str:
    """Return a number grouped as the language in force writes it (13.457 or 13,457)."""
    return format_decimal(value, locale=_locale.get())


def day(value: date) -> str:
    """Return a date as the language in force writes it (26/11/2026 or Nov 26, 2026)."""
    locale = _locale.get()
    return format_date(value, DATE_FORMATS[locale], locale=locale)


def short_day(value: date) -> str:
    """Return a day and month as the language in force writes them (26/11 or 11/26)."""
    locale = _locale.get()
    if locale == "vi":  # CLDR's Vietnamese day-month is 26-11; dates here are 26/11/2026
        return format_date(value, "dd/MM", locale=locale)
    return format_skeleton("Md", value, locale=locale)


def moment(value: datetime, zone: ZoneInfo) -> str:
    """Return an instant as a date and time in `zone`, as the language in force writes it."""
    locale = _locale.get()
    return format_datetime(value, MOMENT_FORMATS[locale], tzinfo=zone, locale=locale)


def negotiate(accept_language: str) -> str | None:
    """Return the language of LOCALES that an Accept-Language header prefers, if it names
    one (`vi-VN,vi;q=0.9,en;q=0.8` gives vi; `fr` gives None)."""
    best, best_q = None, 0.0
    for item in accept_language.split(",")[:32]:
        tag, _sep, params = item.strip().partition(";")
        language = tag.strip().lower().partition("-")[0]
        q = 1.0
        name, _eq, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                continue
        if language in LOCALES and q > best_q:  # of two equal weights, the first
            best, best_q = language, q
    return best


def environment_locale(env: Mapping[str, str]) -> str:
    """Return the command line's language: STATSVC_LOCALE, else the first of LANGUAGE,
    LC_ALL, LC_MESSAGES and LANG that names one of LOCALES (vi_VN.UTF-8 is vi), else vi."""
    chosen = env.get("STATSVC_LOCALE", "")
    if chosen in LOCALES:
        return chosen
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for entry in env.get(name, "").split(":"):
            language = entry.partition(".")[0].partition("_")[0].partition("@")[0].lower()
            if language in LOCALES:
                return language
            if language in ("c", "posix"):  # no language chosen: the next variable may tell
                break
    return DEFAULT
