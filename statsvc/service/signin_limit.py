"""Admin-token tries per client address: once a limit of them this minute have failed, further
tries are refused; no more than the limit are judged at once.

A try takes its place in its address's tally of the clock minute before its token is judged,
in one script: the tally holds the minute's failed tries and the tries being judged. A try is
refused once the failed ones fill it, and waits (up to WAIT seconds, asking again every POLL)
while the ones being judged do: one of them may be found valid and give its place back. A valid
token gives its place back, a wrong one is counted failed. So never more than the limit of
wrong tokens are judged in a minute, however many tries are sent at once (a check of the tally
before judging and a count of the failure after would let every try sent at the same instant
pass the check before any of them was counted), and a client sending many requests at once
with valid tokens, one each of many sites say, sees them wait their turn, not refused.

Tries of one token from one address at the same time, in one process, are judged once,
together (the API's bearer tokens): they are one guess, and take one place.

The tally is in the store, so every worker and instance shares it: one hash per address and
clock minute, made by the address's first try of the minute and gone a minute later (the
store's memory is bounded by the tries of the last minute). An address is never in a key name:
the key is named by a hash of it salted with a random value of the deployment, kept in the
store. An IPv6 address is counted with the others of its /64, the block one subscriber or host
is given: else each new address of it would start a fresh tally.

The store unreachable, the limit fails closed: taking a place raises its failure, so a token is
neither judged nor refused for lack of a tally (the request is answered 503 as any admin
request then is; the admin API and the dashboard cannot work without the store). A try whose
judging fails is counted failed; one whose place cannot be settled keeps it until the tally
expires (a valid token is still answered)."""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar, cast

from statsvc.core.errors import TooManyAttempts
from statsvc.core.visitor import counted_as
from statsvc.service.counting import StatsService
from statsvc.store import UNREACHABLE

FAILURES_PER_MINUTE = 10
WINDOW = 60  # seconds: a clock minute
WAIT = 2.0  # seconds a try waits at most for a place held by tries being judged
POLL = 0.02  # seconds between its asks

Judged = TypeVar("Judged")


class SignInLimiter:
    """Admin-token tries of each client address in clock minutes, in the store."""

    def __init__(
        self, stats: StatsService, limit: int = FAILURES_PER_MINUTE, wait: float = WAIT
    ) -> None:
        self._stats = stats
        self._limit = limit
        self._wait = wait
        self._salt: bytes | None = None  # read from the store at start, or by the first try
        self._judging: dict[tuple[str, bytes], asyncio.Future[object]] = {}  # by address, token

    async def start(self) -> None:
        """Read the deployment's salt (made by its first start), so that a try writes nothing
        but its tally, which a valid token deletes again: a valid request that changes nothing
        leaves the store as it was."""
        self._salt = await self._stats.store.sign_in_salt()

    async def judge(
        self,
        address: str,
        judging: Callable[[], Awaitable[Judged | None]],
        token: str | None = None,
    ) -> Judged | None:
        """Return what `judging` makes of a token tried from `address` (None: not valid), run
        once the try has taken a place in the address's tally of the minute; raise
        TooManyAttempts (with the seconds to wait), judging nothing, while the minute's failed
        tries fill the tally (or tries being judged have filled it for the whole wait). A
        valid token gives its place back to the minute it took it from. Given the `token`, a
        try of it from the address while one is being judged shares that one's outcome."""
        if token is None:
            return await self._judge(address, judging)
        key = (
            counted_as(address),
            hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest(),
        )
        pending = self._judging.get(key)
        if pending is None:
            pending = self._judging[key] = asyncio.ensure_future(self._judge(address, judging))
            pending.add_done_callback(lambda done: self._forget(key, done))
        return cast("Judged | None", await asyncio.shield(pending))

    def _forget(self, key: tuple[str, bytes], done: asyncio.Future[object]) -> None:
        if self._judging.get(key) is done:
            del self._judging[key]

    async def _judge(
        self, address: str, judging: Callable[[], Awaitable[Judged | None]]
    ) -> Judged | None:
        if self._salt is None:
            self._salt = await self._stats.store.sign_in_salt()
        store, hashed = self._stats.store, self._hash(address, self._salt)
        waited = 0.0
        while True:
            now = self._stats.now()
            minute = int(now // WINDOW)
            taken = await store.take_sign_in(hashed, minute, self._limit, WINDOW)
            if taken > 0:
                break
            if taken == 0 or waited >= self._wait:
                raise TooManyAttempts(math.ceil((minute + 1) * WINDOW - now))
            await asyncio.sleep(POLL)  # the tries being judged hold every place: wait a turn
            waited += POLL
        try:
            judged = await judging()
        except BaseException:
            with suppress(*UNREACHABLE):
                await store.settle_sign_in(hashed, minute, valid=False)
            raise
        with suppress(*UNREACHABLE):  # (unsettled, the place is held until the tally expires)
            await store.settle_sign_in(hashed, minute, valid=judged is not None)
        return judged

    @staticmethod
    def _hash(address: str, salt: bytes) -> str:
        return hashlib.sha256(salt + counted_as(address).encode()).hexdigest()[:32]
