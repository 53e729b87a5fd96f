"""Site ids and site settings: validation of what an admin sends."""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import asdict, dataclass, replace
from functools import cache, cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from statsvc.core.calendar import WEEK_STARTS
from statsvc.core.requester import AddressSet
from statsvc.core.text import is_clean_text
from statsvc.i18n import LOCALES as LOCALES
from statsvc.i18n import N_, _

log = logging.getLogger(__name__)
SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
HOSTNAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
QUERY_KEY = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
MAX_DOMAINS = 50
MAX_QUERY_KEYS = 10
MAX_NAME = 200
MAX_EXCLUDE_IPS = 256
MAX_ADDRESS = 64  # characters of an exclude_ips entry (the longest IPv6 range is 49)
ONLINE_WINDOW_RANGE = (30, 3600)


class SettingsError(ValueError):
    """A site setting that cannot be accepted; `field` names it. Its message is an English
    text of the catalogue (statsvc.i18n) with {placeholders} filled from `params`: str() of
    the error is the English (the JSON API's), `translated()` the language in force's."""

    def __init__(self, field_name: str, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.field = field_name
        self.text = message
        self.params = params

    def translated(self) -> str:
        """Return the message in the language in force (statsvc.i18n)."""
        text = _(self.text)
        return text.format(**self.params) if self.params else text


def is_site_id(value: object) -> bool:
    """Tell whether `value` is a valid site id."""
    return isinstance(value, str) and SITE_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Site:
    """One portal's settings."""

    id: str
    name: str = ""
    domains: tuple[str, ...] = ()
    timezone: str = "UTC"
    week_start: str = "monday"
    locale: str = "vi"
    online_window: int = 300
    query_keys: tuple[str, ...] = ()
    respect_dnt: bool = False
    exclude_ips: tuple[str, ...] = ()  # addresses and CIDR ranges, normalised

    @cached_property
    def zone(self) -> ZoneInfo:
        """Return the site's time zone (UTC, with a warning, if this host does not know it)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "site %s: time zone %r unknown on this host; using UTC", self.id, self.timezone
            )
            return ZoneInfo("UTC")

    @cached_property
    def excluded(self) -> AddressSet:
        """Return the addresses whose views are not counted, made once per loaded settings
        (only a site with exclude_ips asks)."""
        return AddressSet(ipaddress.ip_network(entry) for entry in self.exclude_ips)

    def to_json(self) -> dict[str, Any]:
        """Return the settings as the JSON object of the admin API."""
        data = asdict(self)
        data["domains"] = list(self.domains)
        data["query_keys"] = list(self.query_keys)
        data["exclude_ips"] = list(self.exclude_ips)
        return data

    def updated(self, changes: dict[str, Any]) -> Site:
        """Return these settings with `changes` (an admin's JSON object) applied and checked."""
        if not isinstance(changes, dict):
            raise SettingsError("body", N_("settings must be a JSON object"))
        unknown = sorted(set(changes) - _SETTERS.keys() - {"id"})
        if unknown:
            raise SettingsError(unknown[0], N_("unknown setting {setting!r}"), setting=unknown[0])
        if "id" in changes and changes["id"] != self.id:
            raise SettingsError("id", N_("id does not match the site in the URL"))
        values = {
            name: _SETTERS[name](name, value) for name, value in changes.items() if name != "id"
        }
        return replace(self, **values)


def _string(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise SettingsError(name, N_("{name} must be a string"), name=name)
    if len(value) > limit:
        raise SettingsError(
            name, N_("{name} is longer than {limit} characters"), name=name, limit=limit
        )
    if not is_clean_text(value):
        raise SettingsError(name, N_("{name} has control characters or lone surrogates"), name=name)
    return value


def _name(name: str, value: object) -> str:
    return _string(name, value, MAX_NAME)


def _strings(name: str, value: object, limit: int, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(name, N_("{name} must be a list of strings"), name=name)
    if len(value) > limit:
        raise SettingsError(
            name, N_("{name} has more than {limit} entries"), name=name, limit=limit
        )
    for item in value:
        if pattern.fullmatch(item) is None:
            raise SettingsError(
                name, N_("{name} has an invalid entry {entry!r}"), name=name, entry=item[:80]
            )
    return tuple(dict.fromkeys(value))


def _domains(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        value = [v.lower().rstrip(".") if isinstance(v, str) else v for v in value]
    return _strings(name, value, MAX_DOMAINS, HOSTNAME)


def _query_keys(name: str, value: object) -> tuple[str, ...]:
    return _strings(name, value, MAX_QUERY_KEYS, QUERY_KEY)


def _exclude_ips(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(name, N_("{name} must be a list of strings"), name=name)
    if len(value) > MAX_EXCLUDE_IPS:
        raise SettingsError(
            name, N_("{name} has more than {limit} entries"), name=name, limit=MAX_EXCLUDE_IPS
        )
    return tuple(dict.fromkeys(_address_range(name, item.strip()) for item in value))


def _address_range(name: str, entry: str) -> str:
    """Return an address or CIDR range in its normal form (a one-address range as the
    address, an IPv4 one written as IPv6, ::ffff:a.b.c.d, as IPv4); refuse a range with host
    bits set rather than guess what was meant."""
    invalid = N_("{name} has an invalid entry {entry!r}: not an IP address or CIDR range")
    if len(entry) > MAX_ADDRESS or "%" in entry:  # a zone id names an interface of one host
        raise SettingsError(name, invalid, name=name, entry=entry[:80])
    try:
        network = ipaddress.ip_network(entry)
    except ValueError as exc:
        try:
            meant = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(name, invalid, name=name, entry=entry[:80]) from exc
        raise SettingsError(
            name,
            N_("{name} has {entry!r}, whose host bits are set: the range is {range!r}"),
            name=name,
            entry=entry,
            range=str(meant),
        ) from exc
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is not None and network.prefixlen >= 96:
        network = ipaddress.ip_network((mapped, network.prefixlen - 96))
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _timezone(name: str, value: object) -> str:
    zone = _string(name, value, 64)
    if zone not in _zone_names():
        raise SettingsError(name, N_("{zone!r} is not an IANA time zone"), zone=zone)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(name, N_("{zone!r} is not an IANA time zone"), zone=zone) from exc
    return zone


def _choice(choices: tuple[str, ...]) -> Any:
    def check(name: str, value: object) -> str:
        if value not in choices:
            raise SettingsError(
                name, N_("{name} must be one of {choices}"), name=name, choices=", ".join(choices)
            )
        return str(value)

    return check


def _online_window(name: str, value: object) -> int:
    low, high = ONLINE_WINDOW_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(
            name,
            N_("{name} must be a whole number of seconds from {low} to {high}"),
            name=name,
            low=low,
            high=high,
        )
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(name, N_("{name} must be true or false"), name=name)
    return value


_SETTERS: dict[str, Any] = {
    "name": _name,
    "domains": _domains,
    "timezone": _timezone,
    "week_start": _choice(tuple(WEEK_STARTS)),
    "locale": _choice(LOCALES),
    "online_window": _online_window,
    "query_keys": _query_keys,
    "respect_dnt": _flag,
    "exclude_ips": _exclude_ips,
}


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def validate_timezone(zone: str) -> str:
    """Return `zone` if it is an IANA time zone, else raise SettingsError."""
    return _timezone("timezone", zone)


def new_site(site_id: str, timezone: str, locale: str) -> Site:
    """Return the settings a new site starts with."""
    return Site(id=site_id, name=site_id, timezone=timezone, locale=locale)


def site_from_json(site_id: str, data: dict[str, Any]) -> Site:
    """Rebuild stored settings, trusting them (they were checked when written)."""
    return Site(
        id=site_id,
        name=data.get("name", ""),
        domains=tuple(data.get("domains", ())),
        # every writer stores the zone (Site.to_json writes every field), and records written
        # before the default became Asia/Ho_Chi_Minh hold theirs: the fallback is never read,
        # and is left UTC so that no stored site could ever change zone with the default
        timezone=data.get("timezone", "UTC"),
        week_start=data.get("week_start", "monday"),
        locale=data.get("locale", "vi"),
        online_window=int(data.get("online_window", 300)),
        query_keys=tuple(data.get("query_keys", ())),
        respect_dnt=bool(data.get("respect_dnt", False)),
        exclude_ips=tuple(data.get("exclude_ips", ())),
    )
