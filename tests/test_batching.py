"""Batching: hits that arrive together share script runs, yet each gets its own exact reply."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from statsvc.core.keys import Keys
from statsvc.core.results import Counts
from statsvc.store import Limits, Store, StoreError
from tests.helpers import SITES, STORE_TIMEOUT, STORE_WINDOWS, StoreRequest, examples


async def open_store(redis_url: str, page_cap: int = 4) -> Store:
    store = Store.from_url(
        redis_url,
        Keys("b" + secrets.token_hex(6)),
        Limits(page_cap=page_cap, rate_limit=0),
        timeout=STORE_TIMEOUT,
    )
    for site in SITES:
        await store.put_site(site)
    return store


async def one_by_one(store: Store, requests: Sequence[StoreRequest]) -> list[Counts]:
    return [await r.send(store) for r in requests]


def on_cluster(redis_url: str) -> bool:
    return redis_url.startswith("redis+cluster://")


async def together(
    store: Store, requests: Sequence[StoreRequest], sizes: Sequence[int]
) -> list[Counts]:
    replies: list[Counts] = []
    start = 0
    for size in sizes:
        group = requests[start : start + size]
        replies += await asyncio.gather(*(r.send(store) for r in group))
        start += size
    replies += await asyncio.gather(*(r.send(store) for r in requests[start:]))
    return replies


async def test_concurrent_hits_share_runs_and_keep_their_own_replies(redis_url: str) -> None:
    """300 hits of 3 sites in one loop turn take 2 script runs (at most 256 requests each, of
    any sites; on a cluster, a run per site's slot); each reply is its own hit's."""
    store = await open_store(redis_url, page_cap=50)
    requests = [StoreRequest("hit", n % 3, n % 7, n, n, 0) for n in range(300)]
    replies = await asyncio.gather(*(r.send(store) for r in requests))
    assert store.batches == (3 if on_cluster(redis_url) else 2)
    for request, reply in zip(requests, replies, strict=True):
        assert reply.path == f"/p{request.path}"
        assert reply.counted
    for site in range(3):
        totals = [c.views.total for r, c in zip(requests, replies, strict=True) if r.site == site]
        assert totals == list(range(1, 101))  # in the order the hits arrived
    await store.close()


def requests_of(
    modes: list[str], sites: int, paths: int, visitors: int, ids: int, span_ms: int
) -> st.SearchStrategy[list[StoreRequest]]:
    """Lists of up to 60 requests of these modes, about the first `sites` of SITES, at
    offsets within `span_ms`."""
    return st.lists(
        st.builds(
            StoreRequest,
            mode=st.sampled_from(modes),
            site=st.integers(0, sites - 1),
            path=st.integers(0, paths - 1),
            visitor=st.integers(0, visitors - 1),
            view_id=st.none() | st.integers(0, ids - 1),
            offset_ms=st.integers(0, span_ms),
        ),
        min_size=1,
        max_size=60,
    )


requests_strategy = requests_of(["hit", "hit", "hit", "ping", "read"], 3, 7, 5, 6, 2000)
# the same over a quarter of an hour (three online windows), in any order: readers leave the
# online sets between the requests of one run, and the run's count of them must follow
requests_across_windows_strategy = requests_of(
    ["hit", "hit", "ping", "ping", "read"], 2, 4, 7, 31, 3 * 300_000
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=requests_strategy, sizes=st.lists(st.integers(1, 20), max_size=10))
def test_batched_replies_equal_one_at_a_time_replies(
    redis_url: str, requests: list[StoreRequest], sizes: list[int]
) -> None:
    """Any requests sent in concurrent groups get exactly the replies, and leave exactly the
    counts, that the same requests sent one at a time do."""
    asyncio.run(batched_equals_one_by_one(redis_url, requests, sizes))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=requests_across_windows_strategy, sizes=st.lists(st.integers(1, 20), max_size=10))
def test_batched_online_counts_equal_one_at_a_time_across_windows(
    redis_url: str, requests: list[StoreRequest], sizes: list[int]
) -> None:
    """Requests minutes apart, in any order, in concurrent groups: readers leave the online
    sets between two requests of one script run (trimmed by a mark, counted by the run as it
    goes), and every reply is the one the same requests get one at a time."""
    asyncio.run(batched_equals_one_by_one(redis_url, requests, sizes))


async def batched_equals_one_by_one(
    redis_url: str, requests: list[StoreRequest], sizes: list[int]
) -> None:
    """Send `requests` one at a time to one store and in groups of `sizes` to another:
    check the replies and the counts left are the same."""
    alone, batched = await open_store(redis_url), await open_store(redis_url)
    expected = await one_by_one(alone, requests)
    got = await together(batched, requests, sizes)
    assert got == expected
    final = [StoreRequest("read", s, p, 0, None, 2000) for s in range(3) for p in range(7)]
    assert await one_by_one(batched, final) == await one_by_one(alone, final)
    await alone.close()
    await batched.close()


async def test_a_batch_across_minutes_limits_each_minute_as_one_by_one(redis_url: str) -> None:
    """Hits of one batch in two minutes (back and forth, as replays come) are limited per
    visitor and minute exactly as one at a time: each counts against its own minute's tally,
    in a batch of several minutes and in the parts of one larger than a run."""
    limited = Limits(page_cap=50, rate_limit=2)
    alone, batched = (
        Store.from_url(redis_url, Keys("b" + secrets.token_hex(6)), limited, timeout=STORE_TIMEOUT)
        for _ in range(2)
    )
    for store in (alone, batched):
        await store.put_site(SITES[0])
    # STORE_NOW is a minute's first instant: offsets below 0 are the minute before
    requests = [
        StoreRequest("hit", 0, n % 5, n % 3, n, (-1 if n % 4 < 2 else 1) * (1 + n % 700))
        for n in range(300)
    ]
    expected = await one_by_one(alone, requests)
    got = await asyncio.gather(*(r.send(batched) for r in requests))
    assert got == expected
    assert sum(c.counted for c in got) == 2 * 3 * 2  # two a visitor, three visitors, two minutes
    await alone.close()
    await batched.close()


async def test_a_server_that_lost_the_script_still_counts_once(
    redis_url: str, redis: Redis
) -> None:
    """After SCRIPT FLUSH (a restarted server), the next hit loads the script and counts once."""
    store = await open_store(redis_url)
    assert (await StoreRequest("hit", 0, 0, 0, 1, 0).send(store)).views.total == 1
    await redis.script_flush()  # as a restarted server would have
    reply = await StoreRequest("hit", 0, 0, 1, 2, 0).send(store)
    assert (reply.counted, reply.views.total) == (True, 2)
    await store.close()


async def test_a_failing_site_fails_alone(redis_url: str, redis: Redis) -> None:
    """When one site's batch fails in a shared script run (here a key of the wrong type), the
    other sites' requests are answered and counted; only that site's requests get the error
    (on a cluster each site's batch is a run of its own, on its own primary)."""
    store = await open_store(redis_url)
    await redis.set(
        store._keys.day(SITES[1].id, STORE_WINDOWS)[4], "not a sorted set"
    )  # its online
    requests = [StoreRequest("hit", n % 3, 0, n, n, 0) for n in range(9)]
    replies = await asyncio.gather(*(r.send(store) for r in requests), return_exceptions=True)
    assert store.batches == (3 if on_cluster(redis_url) else 1)
    for request, reply in zip(requests, replies, strict=True):
        if request.site == 1:
            assert isinstance(reply, ResponseError)
        else:
            assert isinstance(reply, Counts) and reply.counted
    assert [r.views.total for r in replies if isinstance(r, Counts)] == [1, 1, 2, 2, 3, 3]
    await store.close()


async def test_closing_answers_everyone(redis_url: str) -> None:
    """Requests pending when the store closes are answered; counting after it fails at once."""
    store = await open_store(redis_url)
    pending = [StoreRequest("hit", 0, 0, n, None, 0).send(store) for n in range(5)]
    await store.close()
    for waiter in pending:
        assert waiter.done()
        assert waiter.exception() is None or isinstance(waiter.exception(), StoreError)
    with pytest.raises(StoreError):
        StoreRequest("hit", 0, 0, 9, None, 0).send(store)
