"""busuanzi's Redis (redis-py, read only): a host's site PV and UV, and the listed pages'
views (statsvc.core.migrate.busuanzi has the key names)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException

from statsvc.core.migrate import busuanzi, source_id
from statsvc.core.text import error_line, one_line
from statsvc.sources.errors import SourceError, split_url
from statsvc.sources.reading import Reading

KEY_PREFIX = re.compile(r"[A-Za-z0-9_.:-]+")
TIMEOUT = 10  # seconds
EXPECTED = "redis://[:password@]host:port/db"


def read(url: str, *, prefix: str | None, host: str | None, urls: Path | None) -> Reading:
    """Read the figures busuanzi keeps for `host` at a redis:// URL."""
    prefix = busuanzi.PREFIX if prefix is None else prefix
    if not KEY_PREFIX.fullmatch(prefix):
        raise SourceError("bad_prefix", prefix=prefix)
    if not host:
        raise SourceError("no_host")
    parts = split_url(url, EXPECTED)
    if parts.scheme not in ("redis", "rediss", "redis+cluster", "rediss+cluster"):
        raise SourceError("bad_url", expected=EXPECTED)
    pages = _listed(urls, host) if urls is not None else []
    where = f"{parts.host}:{parts.port or 6379}"
    client = None
    try:
        client = _client(url, parts.scheme)
        figures = _figures(client, prefix, host, pages, where)
    except redis.AuthenticationError:
        raise SourceError("access_denied", where=where, user=parts.user or "default") from None
    except redis.ResponseError as exc:
        if "WRONGPASS" in str(exc) or "NOAUTH" in str(exc):
            raise SourceError("access_denied", where=where, user=parts.user or "default") from None
        raise SourceError("read_failed", where=where, reason=error_line(exc)) from None
    except (redis.RedisError, RedisClusterException) as exc:
        raise SourceError("cannot_connect", where=where, reason=error_line(exc)) from None
    finally:
        if client is not None:
            client.close()
    snapshot = busuanzi.from_figures(*figures)
    source = source_id("busuanzi", f"{where}/{parts.path.strip('/') or '0'}/{host}", prefix)
    origin = {"kind": "busuanzi", "from": parts.public, "prefix": prefix, "host": host}
    return Reading(source, origin, lambda _zone: snapshot)


def _client(url: str, scheme: str) -> Any:
    options: dict[str, Any] = {"socket_timeout": TIMEOUT, "socket_connect_timeout": TIMEOUT}
    try:
        if scheme.endswith("+cluster"):
            return _cluster(url, scheme, options)
        return redis.Redis.from_url(url, **options)
    except ValueError:  # redis-py's own reading of the URL (a db that is not a number...)
        raise SourceError("bad_url", expected=EXPECTED) from None


def _cluster(url: str, scheme: str, options: dict[str, Any]) -> RedisCluster:
    """Return a client of the cluster whose nodes a redis+cluster:// URL lists
    (host:port,host:port: redis-py's from_url reads one host only); the user and password
    from the URL's user part, else from its query (as redis-py reads them)."""
    parts = urlsplit(url)
    _, _, nodes = parts.netloc.rpartition("@")
    startup = []
    for node in nodes.split(","):
        name, _, port = node.rpartition(":")
        startup.append(ClusterNode(name.strip("[]"), int(port or 6379)))  # type: ignore[no-untyped-call]
    query = parse_qs(parts.query)
    user = parts.username or next(iter(query.get("username", [])), None)
    password = parts.password or next(iter(query.get("password", [])), None)
    return RedisCluster(
        startup_nodes=startup,
        username=unquote(user) if user else None,
        password=unquote(password) if password else None,
        ssl=scheme.startswith("rediss"),
        **options,
    )


def _figures(
    client: Any, prefix: str, host: str, pages: list[str], where: str
) -> tuple[int, int, list[tuple[str, int]]]:
    """Return site PV, site UV and the views of the listed paths."""
    for name in busuanzi.site_hashes(host):
        site_pv = client.get(f"{prefix}:site_pv:{name}")
        if site_pv is not None:
            break
    else:
        key = f"{prefix}:site_pv:{busuanzi.site_hashes(host)[0]}"
        raise SourceError("no_site_key", key=key, host=host, where=where)
    uv_key = f"{prefix}:site_uv:{name}"
    kind = client.type(uv_key)
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind == "set":
        site_uv = int(client.scard(uv_key))
    elif kind == "string":  # a HyperLogLog
        site_uv = int(client.pfcount(uv_key))
    elif kind == "none":
        site_uv = 0
    else:
        raise SourceError("unknown_type", key=uv_key, type=kind)
    found = []
    ranked = f"{prefix}:page_pv:{name}"
    ranked_kind = client.type(ranked)
    ranked_kind = ranked_kind.decode() if isinstance(ranked_kind, bytes) else str(ranked_kind)
    for path in pages:
        for member in busuanzi.page_hashes(host, path):
            if ranked_kind == "zset":
                views = client.zscore(ranked, member)
            else:  # before 2.x: a string per page
                views = client.get(f"{prefix}:page_pv:{member}")
            if views is not None:
                found.append((path, int(float(views))))
                break
    return int(site_pv), site_uv, found


def _listed(urls: Path, host: str) -> list[str]:
    """Return the paths of the URLs listed one a line (e.g. from the sitemap) on `host`."""
    try:
        lines = urls.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError("no_urls", path=one_line(urls), reason=error_line(exc)) from None
    paths = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            parts = urlsplit(line if "//" in line else f"//{host}{line}")
        except ValueError:  # not a URL (an unclosed [ in its host): no page of the site
            continue
        if parts.netloc in ("", host):
            paths.append(parts.path or "/")
    return list(dict.fromkeys(paths))
