"""Failed sign-ins per client address: past a limit a minute, further tries are refused.

The tally is in the store, so every worker and instance shares it: one counter per address
and clock minute, made by the address's first failure of the minute and gone a minute later
(the store's memory is bounded by the failures of the last minute). An address is never in
a key name: the key is named by a hash of it salted with a random value of the deployment,
kept in the store. An IPv6 address is counted with the others of its /64, the block one subscriber
or host is given: else each new address of it would start a fresh tally.

The store unreachable, the limit fails closed: `check` and `failed` raise its failure, so a
token is neither judged nor refused for lack of a tally (the request is answered 503 as any
admin request then is; the admin API and the dashboard cannot work without the store)."""

from __future__ import annotations

import hashlib
import math

from statsvc.core.errors import TooManyAttempts
from statsvc.core.visitor import counted_as
from statsvc.service.counting import StatsService

FAILURES_PER_MINUTE = 10
WINDOW = 60  # seconds: a clock minute


class SignInLimiter:
    """Failed admin-token tries of each client address in clock minutes, in the store."""

    def __init__(self, stats: StatsService, limit: int = FAILURES_PER_MINUTE) -> None:
        self._stats = stats
        self._limit = limit
        self._salt: bytes | None = None  # read from the store, made by the first failure

    async def check(self, address: str) -> None:
        """Raise TooManyAttempts (with the seconds to wait) while `address` has used up its
        failures of the minute."""
        if self._salt is None:
            self._salt = await self._stats.store.sign_in_salt()
            if self._salt is None:  # no try has failed yet: nothing to read (or to write)
                return
        now = self._stats.now()
        minute = int(now // WINDOW)
        failures = await self._stats.store.failed_sign_ins(self._hash(address), minute)
        if failures >= self._limit:
            raise TooManyAttempts(math.ceil((minute + 1) * WINDOW - now))

    async def failed(self, address: str) -> None:
        """Record a failed try from `address`."""
        if self._salt is None:
            self._salt = await self._stats.store.make_sign_in_salt()
        minute = int(self._stats.now() // WINDOW)
        await self._stats.store.add_failed_sign_in(self._hash(address), minute, WINDOW)

    def _hash(self, address: str) -> str:
        salted = (self._salt or b"") + counted_as(address).encode()
        return hashlib.sha256(salted).hexdigest()[:32]
