"""The counting batches, pure: the requests of one site and local day, kept packed; shared out
into script runs of one slot each; packed as one EVALSHA per run; each reply handed back to
the requests in order, as Counts (the script's flags decoded once, here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from statsvc.core.pageview import OTHER_PAGE
from statsvc.core.reasons import Reason
from statsvc.core.results import Counts, Figures
from statsvc.store.failures import batch_error
from statsvc.store.resp import as_bytes, bulk

MAX_BATCH = 256  # requests in one script run (it holds Redis while it runs)
REQUEST_ARGS = 8  # script arguments per request
COUNTED, NEW_VISIT, FOLDED, RATE_LIMITED, DUPLICATE = 1, 2, 4, 8, 16  # a request's flags
REFUSED = RATE_LIMITED | DUPLICATE


class Waiter(Protocol):
    """Who waits for a request's counts: a future, or anything told as one is (the hit
    lane's flight, told at once, without the event loop's turn a future's callback takes)."""

    def done(self) -> bool: ...

    def set_result(self, result: Counts, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


@dataclass(slots=True)
class Batch:
    """The requests for one site and local day waiting for the next script run, each kept
    already packed as the protocol's bulk strings (packing is most of a client's work)."""

    keys: bytes  # the day's keys, packed
    args: bytes  # the day's arguments, packed
    counts: tuple[int, int]  # how many of each
    slot: int  # the cluster slot of the site's keys (0 on a single server)
    page_keys: list[bytes] = field(default_factory=list)
    # the minute tallies: one key per minute the requests came in (almost always one), and
    # each request's minute
    rate_keys: dict[int, bytes] = field(default_factory=dict)
    minutes: list[int] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    waiting: list[Waiter] = field(default_factory=list)

    def size(self) -> tuple[int, int]:
        """Return how many keys and arguments this batch takes in a script run."""
        n, m = len(self.requests), len(self.rate_keys)
        per_request = REQUEST_ARGS if m == 1 else REQUEST_ARGS + 1
        return self.counts[0] + n + m, 2 + self.counts[1] + per_request * n


def evalsha(sha: bytes, batches: list[Batch]) -> bytes:
    """Return the EVALSHA that runs these batches in one script run, packed."""
    sizes = [batch.size() for batch in batches]
    keys, args = sum(k for k, _ in sizes), sum(a for _, a in sizes)
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n" % (3 + keys + args), bulk(sha), bulk(b"%d" % keys)]
    for batch in batches:
        parts += (batch.keys, *batch.page_keys, *batch.rate_keys.values())
    for batch in batches:
        m = len(batch.rate_keys)
        parts += (bulk(b"%d" % len(batch.requests)), bulk(b"%d" % m), batch.args)
        if m == 1:
            parts += batch.requests
            continue
        # requests of several minutes: each names its minute's tally (1..m), after its arguments
        number = {minute: bulk(b"%d" % j) for j, minute in enumerate(batch.rate_keys, 1)}
        for request, minute in zip(batch.requests, batch.minutes, strict=True):
            parts += (request, number[minute])
    return b"".join(parts)


@dataclass(slots=True)
class Lane:
    """The connection counting runs on to one server, held once made, and whether that
    server has the script."""

    connection: Any
    loaded: bool = False
    resting_until: float = 0.0  # after the server failed to answer: fail at once until then


def share_runs(batches: list[Batch]) -> list[list[Batch]]:
    """Share the batches out into script runs of at most MAX_BATCH requests each, a run's
    batches all of one slot (on a single server, all are of slot 0)."""
    runs: list[list[Batch]] = [[]]
    room = MAX_BATCH
    for batch in sorted(batches, key=slot_of):
        for start in range(0, len(batch.waiting), MAX_BATCH):
            part = sliced(batch, start)
            if len(part.waiting) > room or (runs[-1] and runs[-1][0].slot != part.slot):
                runs.append([])
                room = MAX_BATCH
            runs[-1].append(part)
            room -= len(part.waiting)
    return runs


def slot_of(batch: Batch) -> int:
    return batch.slot


def sliced(batch: Batch, start: int) -> Batch:
    """Return the requests start..start+MAX_BATCH of a batch, as a batch of their own."""
    if start == 0 and len(batch.waiting) <= MAX_BATCH:
        return batch
    end = start + MAX_BATCH
    minutes = batch.minutes[start:end]
    return Batch(
        keys=batch.keys,
        args=batch.args,
        counts=batch.counts,
        slot=batch.slot,
        page_keys=batch.page_keys[start:end],
        rate_keys={minute: batch.rate_keys[minute] for minute in minutes},
        minutes=minutes,
        requests=batch.requests[start:end],
        paths=batch.paths[start:end],
        waiting=batch.waiting[start:end],
    )


def fail(waiting: list[Waiter], error: Exception) -> None:
    for waiter in waiting:
        if not waiter.done():
            waiter.set_exception(error)


def answer(run: list[Batch], reply: list[Any] | Exception) -> None:
    """Hand each request its counts: the figures before its batch plus the views and visits
    of the requests before it and its own, as the script's flags tell. A batch that failed
    (the script says why in place of its figures) fails its requests only."""
    if isinstance(reply, Exception):
        for batch in run:
            fail(batch.waiting, reply)
        return
    at = 0
    for batch in run:
        if not isinstance(reply[at], int):
            fail(batch.waiting, batch_error(as_bytes(reply[at]).decode(errors="replace")))
            at += 1
            continue
        views = Figures(*[exact(figure) for figure in reply[at + 1 : at + 6]])
        visits = Figures(*[exact(figure) for figure in reply[at + 6 : at + 11]])
        at += 11
        paths = batch.paths
        for n, waiter in enumerate(batch.waiting):
            flags = reply[at]
            if flags & COUNTED:  # today, the week, the month and the total: one more each
                today, yesterday, week, month, total = views
                views = Figures(today + 1, yesterday, week + 1, month + 1, total + 1)
            if flags & NEW_VISIT:
                today, yesterday, week, month, total = visits
                visits = Figures(today + 1, yesterday, week + 1, month + 1, total + 1)
            if not waiter.done():  # else its caller went away
                waiter.set_result(
                    Counts(
                        flags & COUNTED == COUNTED,
                        OTHER_PAGE if flags & FOLDED else paths[n],
                        reply[at + 1],
                        reply[at + 2],
                        views,
                        visits,
                        reply[at + 3],
                        reply[at + 4],
                        _refusal(flags) if flags & REFUSED else None,
                    )
                )
            at += 5


def exact(figure: Any) -> int:
    """Return a figure the script read as the store holds it (digits, or none), or a list of
    them (the week's days) added up: exact past 2^53, where a Lua number is not."""
    if isinstance(figure, list):
        return sum(exact(day) for day in figure)
    return 0 if figure is None else int(figure)


def _refusal(flags: int) -> Reason | None:
    """Return why the script did not count a hit, from its flags."""
    if flags & RATE_LIMITED:
        return Reason.RATE_LIMITED
    if flags & DUPLICATE:
        return Reason.DUPLICATE
    return None
