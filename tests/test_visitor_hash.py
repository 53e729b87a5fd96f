"""Visitor ids under a keyed BLAKE2b since issue 13, switched at a local midnight: the day
running at the switch keeps its HMAC ids, so no visitor is counted twice that day."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from statsvc.core.calendar import windows_at
from statsvc.core.keys import Keys
from statsvc.core.visitor import KEYED_BLAKE2B, address_id, counted_as, new_salt, visitor_id
from statsvc.store import Store
from tests.helpers import Client, FakeClock, post_hit, put_site

texts = st.text(max_size=40)


def hmac_id(salt: bytes, *parts: str) -> str:
    """The id the version before the switch gave: HMAC-SHA256, 12 bytes, base64url."""
    digest = hmac.new(salt, "\x00".join(parts).encode("utf-8", "surrogatepass"), "sha256")
    return base64.urlsafe_b64encode(digest.digest()[:12]).decode()


def blake2b_id(salt: bytes, *parts: str) -> str:
    """The id since the switch: BLAKE2b keyed with the salt, 12 bytes, base64url."""
    message = "\x00".join(parts).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(message, key=salt, digest_size=12).digest()
    return base64.urlsafe_b64encode(digest).decode()


@given(st.binary(min_size=32, max_size=32), texts, texts, texts)
def test_a_salt_made_before_the_switch_keeps_its_hmac_ids(
    salt: bytes, site: str, ip: str, user_agent: str
) -> None:
    """Under a salt without the BLAKE2b mark, visitor and address ids are the HMAC ids the
    version before gave."""
    salt = salt if not salt.startswith(KEYED_BLAKE2B) else b"x" + salt[1:]
    assert visitor_id(salt, site, ip, user_agent) == hmac_id(salt, site, ip, user_agent)
    assert address_id(salt, site, ip) == "@" + hmac_id(salt, "address", site, counted_as(ip))


@given(texts, texts, texts)
def test_a_new_salts_ids_are_keyed_blake2b(site: str, ip: str, user_agent: str) -> None:
    """Under a salt made now, ids are keyed BLAKE2b, 16 characters like the HMAC ones."""
    salt = new_salt()
    assert salt.startswith(KEYED_BLAKE2B)
    visitor = visitor_id(salt, site, ip, user_agent)
    assert visitor == blake2b_id(salt, site, ip, user_agent)
    assert len(visitor) == 16
    assert address_id(salt, site, ip) == "@" + blake2b_id(salt, "address", site, counted_as(ip))


async def test_the_switch_day_counts_no_visitor_twice(
    client: Client, clock: FakeClock, store: Store, redis: Redis, prefix: str
) -> None:
    """A visitor counted on the switch day by the version before (its salt and HMAC id) is
    the same visitor after it; the next local day's salt is made BLAKE2b, the visitor counts
    once on it, and is online once across the midnight (yesterday's HMAC id replaced)."""
    await put_site(client, "tuson", {"timezone": "Asia/Ho_Chi_Minh"})
    clock.set(datetime.fromisoformat("2026-12-01T23:59:00+07:00"))
    switch_day, next_day = date(2026, 12, 1), date(2026, 12, 2)
    old_salt = os.urandom(32).replace(b"b2:", b"b3:")  # as the version before made it
    await redis.set(Keys(prefix).salt("tuson", switch_day), old_salt)
    site = await store.get_site("tuson")
    assert site is not None
    windows = windows_at(clock(), site.zone, site.week_start)
    user_agent = "UA-switch"
    await store.count(  # the version before counted this visitor earlier on the switch day
        "hit",
        site,
        windows,
        path="/a",
        now_ms=int(clock() * 1000),
        visitor=hmac_id(old_salt, "tuson", "127.0.0.1", user_agent),
        view_id="before-the-switch",
    )
    reply = await post_hit(client, {"site": "tuson", "path": "/a"}, {"User-Agent": user_agent})
    assert (reply["views"]["today"], reply["visits"]["today"]) == (2, 1)
    clock.advance(61)  # 00:00:01 on the next local day
    reply = await post_hit(client, {"site": "tuson", "path": "/a"}, {"User-Agent": user_agent})
    assert (reply["visits"]["today"], reply["visits"]["yesterday"]) == (1, 1)
    assert reply["online"] == 1
    made: object = await redis.get(Keys(prefix).salt("tuson", next_day))
    assert isinstance(made, bytes) and made.startswith(KEYED_BLAKE2B)
    again = await post_hit(client, {"site": "tuson", "path": "/b"}, {"User-Agent": user_agent})
    assert (again["views"]["today"], again["visits"]["today"], again["online"]) == (2, 1, 1)
