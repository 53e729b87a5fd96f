"""The service's settings: one frozen value (DESIGN §7). Built from the environment by
statsvc.settings, inline by tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from statsvc.core.requester import Network

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"  # of new sites: the portals served are Vietnam's


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with (DESIGN §7)."""

    redis_url: str | None = None  # None: the embedded Valkey, started by `statsvc serve`
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    data_dir: Path = Path("statsvc-data")
    admin_token: str | None = None
    trusted_proxies: tuple[Network, ...] = ()
    timezone: str = DEFAULT_TIMEZONE  # default for new sites
    locale: str = "vi"  # default for new sites
    retention_days: int = 400
    page_cap: int = 50_000
    rate_limit: int = 30  # counted views per visitor, site and minute (0: no limit)
    rate_limit_address: int = 300  # counted views per client address, site and minute (0: none)
    buffer_limit: int = 100_000  # hits kept per process while the store cannot be reached
    store_timeout: float = 1.0  # seconds a request waits for the store, then its hit is kept
    # seconds a client may take to send a request's head (from connecting, or from the end of
    # the previous reply) or its body; an idle keep-alive connection is closed as late
    client_timeout: float = 75.0
    key_prefix: str = "sv"
    group_cache_seconds: float = 2.0  # how old a group's figures may be (README "Groups")
    demo_site: bool = True  # create the `demo` site on first start
    access_log: bool = False
    metrics_token: str | None = None  # None: /metrics is open (it names no site, page or client)
    metrics_dir: Path | None = None  # set by serve.py for N workers: their shared metric files
