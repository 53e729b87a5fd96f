"""Service settings from the environment and the command line: the one place that reads
them (the frozen Settings value itself is statsvc.core.config's)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_data_dir

from statsvc import i18n
from statsvc.core.config import DEFAULT_TIMEZONE, Settings
from statsvc.core.requester import parse_networks
from statsvc.core.site import LOCALES, SettingsError, validate_timezone
from statsvc.i18n import _

__all__ = ["Settings", "settings_from", "usable_cpus"]
MAX_WORKERS = 64
MIN_ADMIN_TOKEN = 16  # characters: `openssl rand -hex 32` makes 64


def usable_cpus() -> int:
    """Return how many CPUs this process may run on (a container's share, not the host's)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        count = os.cpu_count() or 1
    return min(count, MAX_WORKERS)


def settings_from(env: Mapping[str, str], args: argparse.Namespace) -> Settings:
    """Build the settings from the environment, with command-line flags taking precedence."""

    def pick(flag: str, name: str, default: str) -> str:
        value = getattr(args, flag, None)
        return str(value) if value is not None else env.get(name, default)

    def number(flag: str, name: str, default: int, low: int, high: int) -> int:
        text = pick(flag, name, str(default))
        if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
            raise SettingsError(
                name,
                _("must be a whole number from {low} to {high}").format(
                    low=i18n.number(low), high=i18n.number(high)
                ),
            )
        return int(text)

    locale = env.get("STATSVC_LOCALE", "vi")
    if locale not in LOCALES:
        raise SettingsError(
            "STATSVC_LOCALE", _("must be one of {choices}").format(choices=", ".join(LOCALES))
        )
    zone = env.get("STATSVC_TIMEZONE", DEFAULT_TIMEZONE)
    try:
        timezone = validate_timezone(zone)
    except SettingsError:
        raise SettingsError(
            "STATSVC_TIMEZONE",
            _("“{zone}” is not an IANA time zone (e.g. Asia/Ho_Chi_Minh)").format(zone=zone),
        ) from None
    return Settings(
        redis_url=pick("redis_url", "STATSVC_REDIS_URL", "") or None,
        host=pick("host", "STATSVC_HOST", "127.0.0.1"),
        port=number("port", "STATSVC_PORT", 8080, 0, 65535),
        workers=(
            usable_cpus()
            if pick("workers", "STATSVC_WORKERS", "1") == "auto"
            else number("workers", "STATSVC_WORKERS", 1, 1, MAX_WORKERS)
        ),
        data_dir=Path(pick("data_dir", "STATSVC_DATA_DIR", user_data_dir("statsvc"))),
        admin_token=admin_token(env.get("STATSVC_ADMIN_TOKEN", "")),
        trusted_proxies=parse_networks(env.get("STATSVC_TRUSTED_PROXIES", "")),
        timezone=timezone,
        locale=locale,
        # the month and yesterday windows read back at least 31 days
        retention_days=number("", "STATSVC_RETENTION_DAYS", 400, 31, 36500),
        page_cap=number("", "STATSVC_PAGE_CAP", 50_000, 1, 1_000_000),
        rate_limit=number("", "STATSVC_RATE_LIMIT", 30, 0, 1_000_000),
        rate_limit_address=number("", "STATSVC_RATE_LIMIT_ADDRESS", 300, 0, 1_000_000),
        buffer_limit=number("", "STATSVC_BUFFER_LIMIT", 100_000, 0, 10_000_000),
        store_timeout=number("", "STATSVC_STORE_TIMEOUT_MS", 1000, 100, 60_000) / 1000,
        client_timeout=number("", "STATSVC_CLIENT_TIMEOUT", 75, 1, 3600),
        access_log=env.get("STATSVC_ACCESS_LOG", "") == "1",
        metrics_token=env.get("STATSVC_METRICS_TOKEN") or None,
    )


def admin_token(text: str) -> str | None:
    """Return the admin token (None when unset: the admin API is closed), refusing one that a
    guesser could find: shorter than MIN_ADMIN_TOKEN characters. Refused for every command,
    as any other setting out of its range is, though only `statsvc serve` uses it."""
    if not text:
        return None
    if len(text) < MIN_ADMIN_TOKEN or text != text.strip():
        raise SettingsError(
            "STATSVC_ADMIN_TOKEN",
            _(
                "must be at least {least} characters, without surrounding spaces "
                "(make one with: openssl rand -hex 32)"
            ).format(least=MIN_ADMIN_TOKEN),
        )
    return text
