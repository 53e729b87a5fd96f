"""Unit tests of the store's batches (statsvc/store/batches.py): packing runs, sharing
batches out into runs, and handing each request its counts from a script reply (no store
needed)."""

from __future__ import annotations

import asyncio
import re
from importlib.resources import files
from typing import cast

import pytest
from redis.exceptions import OutOfMemoryError, ReadOnlyError

from statsvc.core.pageview import OTHER_PAGE
from statsvc.core.reasons import REASONS, Reason
from statsvc.core.results import Counts, Figures
from statsvc.store.batches import (
    COUNTED,
    DUPLICATE,
    FOLDED,
    MAX_BATCH,
    NEW_VISIT,
    RATE_LIMITED,
    Batch,
    answer,
    evalsha,
    share_runs,
)
from statsvc.store.failures import ScriptError
from statsvc.store.resp import packed

COUNT_LUA = files("statsvc.store.lua").joinpath("count.lua").read_text(encoding="utf-8")


def batch(
    slot: int = 0, requests: int = 0, keys: int = 2, args: int = 3, minutes: int = 1
) -> Batch:
    """Return a batch of `requests` requests with `keys` day keys and `args` day arguments,
    request n in minute n % `minutes`."""
    day = Batch(
        keys=packed(*(f"k{n}" for n in range(keys))),
        args=packed(*(f"a{n}" for n in range(args))),
        counts=(keys, args),
        slot=slot,
    )
    loop = asyncio.get_running_loop()
    for n in range(requests):
        day.page_keys.append(packed(f"page{n}"))
        day.rate_keys.setdefault(n % minutes, packed(f"rate{n % minutes}"))
        day.minutes.append(n % minutes)
        day.requests.append(packed("hit", f"v{n}", "", f"/p{n}", "", 0, f"@a{n}", f"s{n}.vn"))
        day.paths.append(f"/p{n}")
        day.waiting.append(loop.create_future())
    return day


def futures(day: Batch) -> list[asyncio.Future[Counts]]:
    """Return the futures a test's batch waits with (batch() makes futures)."""
    return cast(list[asyncio.Future[Counts]], day.waiting)


def parse_command(data: bytes) -> list[bytes]:
    """Return the bulk strings of one packed RESP array (what a server would read)."""
    header, _, rest = data.partition(b"\r\n")
    assert header.startswith(b"*")
    parts = []
    for _ in range(int(header[1:])):
        length, _, rest = rest.partition(b"\r\n")
        assert length.startswith(b"$")
        size = int(length[1:])
        parts.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    assert rest == b""
    return parts


async def test_evalsha_packs_keys_then_arguments_of_every_batch() -> None:
    """One EVALSHA holds the batches' keys (day keys, then a page key per request and a rate
    key per minute) before all arguments (the counts of requests and of minutes, the day's, then
    eight per request), as count.lua reads them."""
    first, second = batch(requests=2), batch(requests=1, keys=1, args=1)
    parts = parse_command(evalsha(b"f" * 40, [first, second]))
    assert parts[:2] == [b"EVALSHA", b"f" * 40]
    number_of_keys = int(parts[2])
    assert number_of_keys == (2 + 2 + 1) + (1 + 1 + 1)
    keys, args = parts[3 : 3 + number_of_keys], parts[3 + number_of_keys :]
    assert keys == [b"k0", b"k1", b"page0", b"page1", b"rate0", b"k0", b"page0", b"rate0"]
    assert args[:5] == [b"2", b"1", b"a0", b"a1", b"a2"]
    assert args[5:13] == [b"hit", b"v0", b"", b"/p0", b"", b"0", b"@a0", b"s0.vn"]
    assert args[21:24] == [b"1", b"1", b"a0"]
    assert len(args) == (2 + 3 + 8 * 2) + (2 + 1 + 8 * 1)


async def test_evalsha_numbers_the_minutes_of_a_batch_across_minutes() -> None:
    """A batch whose requests came in several minutes sends one rate key per minute, and
    after each request's eight arguments the number (from 1) of its minute's key."""
    day = batch(requests=3, minutes=2)
    parts = parse_command(evalsha(b"f" * 40, [day]))
    number_of_keys = int(parts[2])
    keys, args = parts[3 : 3 + number_of_keys], parts[3 + number_of_keys :]
    assert keys == [b"k0", b"k1", b"page0", b"page1", b"page2", b"rate0", b"rate1"]
    assert args[:5] == [b"3", b"2", b"a0", b"a1", b"a2"]
    assert [args[5 + 9 * n + 8] for n in range(3)] == [b"1", b"2", b"1"]
    assert len(args) == 2 + 3 + 9 * 3


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([1], [[1]]),
        ([MAX_BATCH], [[MAX_BATCH]]),
        ([MAX_BATCH + 1], [[MAX_BATCH], [1]]),
        ([3 * MAX_BATCH], [[MAX_BATCH]] * 3),
        ([100, 100, 100], [[100, 100], [100]]),
        ([MAX_BATCH - 1, 2], [[MAX_BATCH - 1], [2]]),
    ],
)
async def test_runs_hold_at_most_max_batch_requests(
    sizes: list[int], expected: list[list[int]]
) -> None:
    """Batches are shared out into runs of at most MAX_BATCH requests, a large batch in parts,
    every request in exactly one run, in order."""
    days = [batch(requests=n) for n in sizes]
    runs = share_runs(days)
    assert [[len(part.waiting) for part in run] for run in runs] == expected
    sent = [w for run in runs for part in run for w in part.waiting]
    assert sent == [w for day in days for w in day.waiting]


async def test_a_run_holds_batches_of_one_slot() -> None:
    """In a cluster every run's batches share a slot (a script runs on one shard)."""
    days = [batch(slot=7, requests=2), batch(slot=3, requests=1), batch(slot=7, requests=1)]
    runs = share_runs(days)
    assert all(len({part.slot for part in run}) == 1 for run in runs)
    assert sorted(len(run) for run in runs) == [1, 2]


def figures_reply(views: list[int], visits: list[int], *requests: list[int]) -> list[object]:
    """Return a batch's part of a script reply: 1, the figures before it, 5 values a request."""
    return [1, *views, *visits, *(value for request in requests for value in request)]


async def test_answer_hands_each_request_the_figures_after_it() -> None:
    """Each request gets the figures before its batch plus the views and visits of the
    requests before it and its own, as the script's flags say."""
    day = batch(requests=3)
    reply = figures_reply(
        [10, 5, 40, 100, 1000],
        [4, 2, 20, 50, 500],
        [COUNTED | NEW_VISIT, 1, 1, 1, 7],
        [COUNTED, 2, 1, 2, 8],
        [0, 2, 1, 2, 8],  # a ping or a read: nothing added
    )
    answer([day], reply)
    got = [waiter.result() for waiter in futures(day)]
    assert [c.views for c in got] == [
        Figures(11, 5, 41, 101, 1001),
        Figures(12, 5, 42, 102, 1002),
        Figures(12, 5, 42, 102, 1002),
    ]
    assert [c.visits.today for c in got] == [5, 5, 5]
    assert [c.counted for c in got] == [True, True, False]
    assert [c.refused for c in got] == [None, None, None]
    assert got[0] == Counts(
        counted=True,
        path="/p0",
        online=1,
        page_online=1,
        views=Figures(11, 5, 41, 101, 1001),
        visits=Figures(5, 2, 21, 51, 501),
        page_today=1,
        page_total=7,
    )


async def test_figures_are_added_up_exactly_past_2_53() -> None:
    """The script answers the figures as the store holds them (digits, none, or the week's
    days as a list): they are added up in Python, exact past 2^53 where a double is not."""
    day = batch(requests=1)
    big = 2**53 + 1
    reply = [
        1,
        *(b"%d" % big, None, [b"%d" % big, None, b"2"], b"7", b"%d" % big),
        *(b"1", None, [None], None, b"3"),
        COUNTED,
        1,
        1,
        1,
        1,
    ]
    answer([day], reply)
    counts = futures(day)[0].result()
    assert counts.views == Figures(big + 1, 0, big + 3, 8, big + 1)
    assert counts.visits == Figures(1, 0, 0, 0, 3)


@pytest.mark.parametrize(
    ("flags", "counted", "refused", "path"),
    [
        (COUNTED, True, None, "/p0"),
        (COUNTED | FOLDED, True, None, OTHER_PAGE),
        (FOLDED, False, None, OTHER_PAGE),
        (RATE_LIMITED, False, Reason.RATE_LIMITED, "/p0"),
        (DUPLICATE, False, Reason.DUPLICATE, "/p0"),
        (0, False, None, "/p0"),
    ],
)
async def test_flags_say_counted_refused_and_folded(
    flags: int, counted: bool, refused: Reason | None, path: str
) -> None:
    """The script's flags are decoded in one place: counted, why not (a Reason), and a path
    folded into "(other)"."""
    day = batch(requests=1)
    answer([day], figures_reply([0] * 5, [0] * 5, [flags, 1, 1, 1, 1]))
    counts = futures(day)[0].result()
    assert (counts.counted, counts.refused, counts.path) == (counted, refused, path)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (b"ERR user_script:1: WRONGTYPE", ScriptError),
        (b"OOM command not allowed when used memory > 'maxmemory'", OutOfMemoryError),
        (b"READONLY You can't write against a read only replica.", ReadOnlyError),
    ],
)
async def test_a_failed_batch_fails_its_own_requests_only(error: bytes, kind: type) -> None:
    """A batch the script failed for (it says why in place of its figures) fails its requests
    with the error's kind; the next batch of the run is answered as usual."""
    failed, fine = batch(requests=2), batch(requests=1)
    answer([failed, fine], [error, *figures_reply([0] * 5, [0] * 5, [COUNTED, 1, 1, 1, 1])])
    for waiter in futures(failed):
        assert isinstance(waiter.exception(), kind)
    assert futures(fine)[0].result().views.total == 1


async def test_a_failed_run_fails_every_request() -> None:
    """A run that failed whole (the connection, say) fails every request of its batches."""
    days = [batch(requests=1), batch(requests=2)]
    gone = ConnectionError("gone")
    answer(days, gone)
    assert all(w.exception() is gone for day in days for w in futures(day))


async def test_a_request_whose_caller_left_is_skipped() -> None:
    """A request whose caller went away (its future cancelled) does not stop the others."""
    day = batch(requests=2)
    futures(day)[0].cancel()
    answer([day], figures_reply([0] * 5, [0] * 5, [COUNTED, 1, 1, 1, 1], [COUNTED, 1, 1, 1, 2]))
    assert futures(day)[1].result().views.total == 2


def test_the_script_records_refusals_by_the_reasons_words() -> None:
    """count.lua records refused hits under the words of statsvc.core.reasons (the one list),
    and documents the flags the batcher decodes."""
    recorded = set(re.findall(r"refuse\('([a-z_]+)'\)", COUNT_LUA))
    assert recorded == {"duplicate", "rate_limited"}
    assert recorded <= set(REASONS)
    header = " ".join(line.strip("- ") for line in COUNT_LUA.splitlines() if line.startswith("--"))
    for flag, words in [
        (COUNTED, "1 counted"),
        (NEW_VISIT, "2 a new visit"),
        (FOLDED, '4 folded into "(other)"'),
        (RATE_LIMITED, "8 refused over the rate limit"),
        (DUPLICATE, "16 refused as a duplicate"),
    ]:
        assert words in header, (flag, words)
