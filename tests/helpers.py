"""What the test modules share: constants, an injected clock, waiting on another process, and
requests to statsvc through aiohttp's test client or over a real connection.

No test module imports another: what two of them need lives here (fixtures in conftest.py).
This module imports no other test module, so that every helper module may import it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request
from aiohttp.web_runner import BaseRunner
from hypothesis import settings as hypothesis_settings
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from statsvc.cli import save_site
from statsvc.core.calendar import windows_at
from statsvc.core.config import Settings
from statsvc.core.keys import Keys
from statsvc.core.results import Counts
from statsvc.core.site import Site
from statsvc.http.lane import LaneRunner
from statsvc.http.openapi import document
from statsvc.store import Limits, Mode, Store, cluster_client

Client = TestClient[Request, Application]
Json = dict[str, Any]

ADMIN_TOKEN = "test-admin-token"
# a store's answers may take a while on a busy machine running the suite: a test is not
# about the 1-second production timeout unless it says so (the outage and fault tests do)
STORE_TIMEOUT = 10.0
# a browser's User-Agent: the test client's own ("Python/3.11 aiohttp/…") is a robot's
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BEACON = {"Content-Type": "text/plain;charset=UTF-8"}  # what the widget's beacon sends
HIT, PING, COUNTS = "/api/v1/hit", "/api/v1/ping", "/api/v1/counts"
WINDOWS = ("today", "yesterday", "week", "month", "total")
DAY = 86400


# Hypothesis' profiles (conftest.py loads the one STATSVC_HYPOTHESIS_PROFILE names): "full",
# Hypothesis' own 100 examples a test, in the first CI run; "rerun", a fifth of them, in the
# runs on Redis 7 and on the cluster, which exercise each store's behaviour on fewer examples
HYPOTHESIS_PROFILES = {"full": 100, "rerun": 20}
RERUN_LEAST_EXAMPLES = 15


def examples(full: int) -> int:
    """Return a property test's examples under the loaded profile: `full` under the full one;
    under another, `full` cut as its examples are of the full profile's (at least 15)."""
    share = hypothesis_settings().max_examples  # the loaded profile's
    if share >= HYPOTHESIS_PROFILES["full"]:
        return full
    return min(full, max(full * share // HYPOTHESIS_PROFILES["full"], RERUN_LEAST_EXAMPLES))


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()


def wait_until(
    condition: Callable[[], object],
    timeout: float,
    message: str | Callable[[], str],
    interval: float = 0.05,
) -> None:
    """Poll `condition` every `interval` seconds until it holds; fail with `message` (or what
    it returns, said at the deadline) once `timeout` seconds have passed.

    Only for what runs at its own pace outside the test (a process starting, kept hits
    being counted): what the test itself drives moves on the injected clock instead."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            said = message if isinstance(message, str) else message()
            raise TimeoutError(f"{said} (waited {timeout:.0f} s)")
        time.sleep(interval)


def admin() -> dict[str, str]:
    """The headers of an admin request."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    """Return the headers of a request bearing `token`."""
    return {"Authorization": f"Bearer {token}"}


def plain_client(url: str) -> Redis:
    """Return a client of the store at `url`, one server or a cluster (the same commands)."""
    if url.startswith("redis+cluster://"):
        cluster: Any = cluster_client(url, timeout=5.0)
        return cast(Redis, cluster)
    return Redis.from_url(url)


async def forget(redis_url: str, prefix: str) -> None:
    """Delete every key under `prefix` (a test that makes many prefixes of its own, one per
    example, leaves none behind)."""
    redis = plain_client(redis_url)
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        await redis.delete(key)
    await redis.aclose()


def figures(today: int, yesterday: int, week: int, month: int, total: int) -> Json:
    """Return a views or visits object of a counts reply."""
    return {"today": today, "yesterday": yesterday, "week": week, "month": month, "total": total}


def instant(local: str) -> float:
    """Return the Unix time of a local time written with its UTC offset."""
    return datetime.fromisoformat(local).timestamp()


HCM = "Asia/Ho_Chi_Minh"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
# The DST days of 2026: (zone, local date, first instant, first instant of the next day, hours).
DST_DAYS = [
    (BERLIN, "2026-03-29", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23),
    (BERLIN, "2026-10-25", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25),
    (NEW_YORK, "2026-03-08", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23),
    (NEW_YORK, "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25),
]


def portal_history(today: date, ages: range) -> list[Json]:
    """Return the days of an imported history that looks like a commune portal's (fewer views
    at weekends), the days `ages` before `today`, for the dashboard's pictures."""
    days = [today - timedelta(days=n) for n in ages]
    return [
        {
            "date": day.isoformat(),
            "views": 300 + (n * 37) % 160 - (90 if day.weekday() > 4 else 0),
            "visits": 110 + (n * 13) % 50,
        }
        for n, day in zip(ages, days, strict=True)
    ]


# -- requests through aiohttp's test client ----------------------------------------------


def on_demo(**fields: object) -> str:
    """Return a hit body for the demo site with `fields` (site overridable)."""
    return json.dumps({"site": "demo", **fields})


async def post_hit(
    client: Client,
    body: Json,
    headers: Mapping[str, str] | None = None,
    endpoint: str = HIT,
) -> Json:
    """Send a hit (or, given the endpoint, a ping) as the widget does; return the 200 reply."""
    response = await client.post(
        endpoint, data=json.dumps(body), headers={**BEACON, **(headers or {})}
    )
    assert response.status == 200, await response.text()
    reply: Json = await response.json()
    return reply


async def post_ping(client: Client, body: Json, headers: Mapping[str, str] | None = None) -> Json:
    """Send a heartbeat as the widget does; return the 200 reply."""
    return await post_hit(client, body, headers, endpoint=PING)


async def hit_reply(
    client: Client, site: str, path: str, view_id: str, user_agent: str | None = None
) -> Json:
    """Send a hit with a page-view id; return its reply, whatever its status, with the status
    under "status"."""
    headers = {} if user_agent is None else {"User-Agent": user_agent}
    body = {"site": site, "path": path, "id": view_id}
    reply = await client.post(HIT, json=body, headers=headers)
    return {"status": reply.status, **await reply.json()}


async def get_counts(client: Client, site: str = "demo", path: str | None = None) -> Json:
    """Read a site's counts (and a page's, given `path`); return the 200 reply."""
    params = {"site": site} if path is None else {"site": site, "path": path}
    response = await client.get(COUNTS, params=params)
    assert response.status == 200, await response.text()
    reply: Json = await response.json()
    return reply


async def put_site(client: Client, site: str, settings: Json) -> Json:
    """Create or change a site through the admin API; return its settings."""
    response = await client.put(f"/api/v1/sites/{site}", json=settings, headers=admin())
    assert response.status in (200, 201), await response.text()
    reply: Json = await response.json()
    return reply


async def admin_request(
    client: Client,
    method: str,
    url: str,
    token: str | None = ADMIN_TOKEN,
    body: Any = None,
) -> ClientResponse:
    """Send an admin request as `token` (the admin's unless told)."""
    headers = bearer(token) if token else {}
    return await client.request(method, url, json=body, headers=headers)


async def ok(
    client: Client, method: str, url: str, token: str = ADMIN_TOKEN, body: Any = None
) -> Json:
    """Send an admin request that must answer 200 or 201; return its JSON."""
    response = await admin_request(client, method, url, token, body)
    assert response.status in (200, 201), await response.text()
    reply: Json = await response.json()
    return reply


async def province(client: Client) -> None:
    """Make communes xa1..xa3, districts huyen-a (xa1, xa2) and huyen-b (xa2, xa3), and the
    province tinh holding both districts (xa2 reached twice) and its own site tinh-site."""
    for site, zone in [
        ("xa1", "Asia/Ho_Chi_Minh"),
        ("xa2", "Europe/Berlin"),
        ("xa3", "America/New_York"),
        ("tinh-site", "Asia/Ho_Chi_Minh"),
    ]:
        await put_site(client, site, {"timezone": zone})
    await ok(
        client, "PUT", "/api/v1/groups/huyen-a", body={"name": "Huyện A", "sites": ["xa1", "xa2"]}
    )
    await ok(
        client, "PUT", "/api/v1/groups/huyen-b", body={"name": "Huyện B", "sites": ["xa2", "xa3"]}
    )
    await ok(
        client,
        "PUT",
        "/api/v1/groups/tinh",
        body={"name": "Tỉnh", "sites": ["tinh-site"], "groups": ["huyen-a", "huyen-b"]},
    )


async def new_token(client: Client, site: str) -> str:
    """Make a read-only token of `site`; return it."""
    response = await admin_request(client, "POST", f"/api/v1/sites/{site}/tokens")
    assert response.status == 201, await response.text()
    reply = await response.json()
    assert set(reply) == {"token_id", "token"}
    token: str = reply["token"]
    return token


async def site_with_token(client: Client, site: str, settings: Json) -> str:
    """Create or change a site with `settings`; return a new read-only token of it."""
    await put_site(client, site, settings)
    return await new_token(client, site)


async def error_code(response: ClientResponse, status: int) -> str:
    """Check a reply is `status` with the JSON error shape of DESIGN §3; return its code."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    reply = await response.json()
    assert set(reply) == {"error"}
    assert set(reply["error"]) == {"code", "message"}
    assert isinstance(reply["error"]["message"], str)
    assert reply["error"]["message"]
    code: str = reply["error"]["code"]
    return code


def form_csrf(html: str) -> str:
    """Return the CSRF value of the first form of a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


async def sign_in(client: Client, token: str = ADMIN_TOKEN) -> str:
    """Sign in through the form; return the session's CSRF token (from the next page)."""
    page = await client.get("/admin/login")
    reply = await client.post(
        "/admin/login",
        data={"csrf": form_csrf(await page.text()), "token": token},
        allow_redirects=False,
    )
    assert reply.status == 303, await reply.text()
    landing = await client.get(reply.headers["Location"])
    assert landing.status == 200
    return form_csrf(await landing.text())


# -- what the store holds, and what a reply must be --------------------------------------


async def dump(redis: Redis, prefix: str) -> dict[bytes, Any]:
    """Return every key under `prefix` with its value, read as its type requires."""
    values: dict[bytes, Any] = {}
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        kind = await redis.type(key)
        if kind == b"string":
            values[key] = await redis.get(key)
        elif kind == b"hash":
            values[key] = await redis.hgetall(key)
        elif kind == b"set":
            values[key] = sorted(await redis.smembers(key))
        elif kind == b"zset":
            values[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == b"list":
            values[key] = await redis.lrange(key, 0, -1)
        else:
            raise AssertionError(f"{key!r} has an unexpected type {kind!r}")
    return values


def blobs(value: object) -> Iterator[bytes]:
    """Yield every byte string inside a dumped value."""
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from blobs(key)
            yield from blobs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from blobs(item)


def check_invariants(body: Json) -> None:
    """Assert every DESIGN §2 invariant that one counts reply can show."""
    for kind in ("views", "visits"):
        f = body[kind]
        assert f["today"] <= f["week"], (kind, f)
        assert f["today"] <= f["month"], (kind, f)
        assert f["week"] <= f["total"], (kind, f)
        assert f["month"] <= f["total"], (kind, f)
        assert f["yesterday"] <= f["total"], (kind, f)
    for window in WINDOWS:
        assert body["visits"][window] <= body["views"][window], (window, body)
    if "page" in body:
        page = body["page"]
        assert page["today"] <= body["views"]["today"], body
        assert page["total"] <= body["views"]["total"], body
        assert page["online"] <= body["online"], body
    if body.get("counted"):
        assert body["online"] >= 1, body
        assert body["page"]["online"] >= 1, body


def check_reply(method: str, path: str, status: int, body: Any = None) -> None:
    """Fail unless the document lists `status` for the operation and `body` fits its schema."""
    doc = document()
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered an undocumented {status}"
    response = responses[str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        assert body is None, f"{method} {path} {status} has no JSON schema"
        return
    # the operation's schema, with the components its references point into
    root = {"allOf": [schema], "components": doc["components"]}
    errors = [e.message for e in Draft202012Validator(root).iter_errors(body)]
    assert not errors, (method, path, status, errors)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metric_samples(text: str) -> Samples:
    """Return a /metrics page's samples by name and labels (parse once, look up many)."""
    return {
        (sample.name, frozenset(sample.labels.items())): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(text: str | Samples, name: str, **labels: str) -> float:
    """Return one sample's value on a /metrics page (or its parsed samples), 0 when the page
    lacks it."""
    samples = metric_samples(text) if isinstance(text, str) else text
    return samples.get((name, frozenset(labels.items())), 0.0)


# -- requests straight to the store ------------------------------------------------------

STORE_NOW = 1_795_323_600.0  # a Sunday, noon in Hanoi: the week sums seven days
SITES = [Site(id=f"b{n}", timezone="Asia/Ho_Chi_Minh", online_window=300) for n in range(3)]
STORE_WINDOWS = windows_at(STORE_NOW, ZoneInfo("Asia/Ho_Chi_Minh"), "monday")


@dataclass(frozen=True)
class StoreRequest:
    """One request to the store, about one of SITES, at STORE_NOW plus `offset_ms`."""

    mode: Mode
    site: int
    path: int
    visitor: int
    view_id: int | None
    offset_ms: int

    def send(self, store: Store) -> asyncio.Future[Counts]:
        """Send the request; return the future of its Counts."""
        return store.count(
            self.mode,
            SITES[self.site],
            STORE_WINDOWS,
            path=f"/p{self.path}",
            now_ms=int(STORE_NOW * 1000) + self.offset_ms,
            visitor=f"v{self.visitor}",
            view_id=None if self.view_id is None else f"view-{self.view_id:04d}",
        )


# -- requests over a real connection -----------------------------------------------------


def send(
    url: str,
    method: str = "GET",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, str, bytes]:
    """Send one request; return its status, content type and body (of an error status too)."""
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, reply.headers.get_content_type(), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    user_agent: str = BROWSER,  # urllib's own is a robot's
) -> tuple[int, Json]:
    """Send one JSON request to the statsvc at `base` (text/plain, as the widget sends it);
    return the status and the JSON reply."""
    headers = {"Content-Type": "text/plain", "User-Agent": user_agent} | (
        bearer(token) if token else {}
    )
    data = json.dumps(body).encode() if body is not None else None
    status, _, reply = send(base + path, method, data, headers)
    return status, json.loads(reply)


async def add_site(redis_url: str, site_id: str, timezone: str) -> None:
    """Create `site_id` as `statsvc site add SITE --timezone TIMEZONE` does, under the
    command's default prefix, in this process: the command tests' own site, without the
    second a command's start costs (tests/test_serve.py runs `statsvc site add` itself)."""
    settings = Settings(redis_url=redis_url)
    store = Store.from_url(redis_url, Keys(settings.key_prefix), Limits(), timeout=STORE_TIMEOUT)
    try:
        await save_site(store, settings, site_id, {"timezone": timezone})
    finally:
        await store.close()


def statsvc(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `statsvc ARGS` on the test server (keys under the default prefix)."""
    env = dict(os.environ, STATSVC_REDIS_URL=redis_url, LANGUAGE="en")  # its English messages
    command = [sys.executable, "-m", "statsvc", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )


class LaneServer(TestServer):
    """aiohttp's test server with statsvc's runner, as `statsvc serve` runs: its plain hits
    take the hit lane (statsvc.http.lane), the rest aiohttp's way."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return LaneRunner(self.app, **kwargs)
