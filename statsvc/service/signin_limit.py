"""Failed sign-ins per client address: past a limit a minute, further tries are refused."""

from __future__ import annotations

import math
from collections.abc import Callable

from statsvc.core.errors import TooManyAttempts

FAILURES_PER_MINUTE = 10
WINDOW = 60.0
MAX_ADDRESSES = 10_000  # addresses remembered: past it, those whose minute is over are forgotten


class SignInLimiter:
    """Failed admin-token tries of each client address in fixed one-minute windows, held in
    this process (each worker and instance keeps its own: N of them allow N times the limit)."""

    def __init__(self, clock: Callable[[], float], limit: int = FAILURES_PER_MINUTE) -> None:
        self._clock = clock
        self._limit = limit
        self._failures: dict[str, tuple[float, int]] = {}  # address -> window start, failures

    def check(self, address: str) -> None:
        """Raise TooManyAttempts (with the seconds to wait) while `address` has used up its
        failures of the minute."""
        started, failures = self._failures.get(address, (0.0, 0))
        wait = started + WINDOW - self._clock()
        if failures >= self._limit and wait > 0:
            raise TooManyAttempts(math.ceil(wait))

    def failed(self, address: str) -> None:
        """Record a failed try from `address`."""
        now = self._clock()
        started, failures = self._failures.get(address, (0.0, 0))
        if now - started >= WINDOW:
            started, failures = now, 0
            if len(self._failures) >= MAX_ADDRESSES:
                self._forget(now)
        self._failures[address] = (started, failures + 1)

    def _forget(self, now: float) -> None:
        self._failures = {a: f for a, f in self._failures.items() if now - f[0] < WINDOW}
        if len(self._failures) >= MAX_ADDRESSES:  # a flood from many addresses: start afresh
            self._failures.clear()
