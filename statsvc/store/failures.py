"""What the store's failures mean: unreachable for now (a hit may be kept and counted later),
a run a cluster refused (it did not run: run it again), or the script's own failure."""

from __future__ import annotations

from redis.exceptions import (
    AskError,
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

StoreError = RedisError
STORE_FAILURES = (RedisError, RedisClusterException)  # what a store call raises when it fails
# a cluster's answers that a script did not run (a slot moving, a failover): run it again
NOT_RUN = (AskError, TryAgainError, ClusterDownError)  # MOVED is an AskError too
# of the failures, those that say the store cannot take the request now (down, frozen,
# loading, failing over, a slot moving, out of memory, a replica where the primary was),
# not that the request itself is wrong: a hit may be kept and counted later
UNREACHABLE = (
    StoreConnectionError,
    StoreTimeoutError,
    RedisClusterException,
    OutOfMemoryError,
    ReadOnlyError,
    *NOT_RUN,
)


class StoreUnavailable(StoreConnectionError):
    """The store cannot be reached, and what was asked cannot wait for it."""


class ScriptError(ResponseError):
    """The counting script failed for one batch (a key of the wrong type, say): running it
    again would fail again."""


def batch_error(text: str) -> ResponseError:
    """Return the error a batch failed with: passing (out of memory, a replica), or its own."""
    if text.startswith("OOM"):
        return OutOfMemoryError(text)
    if text.startswith("READONLY"):
        return ReadOnlyError(text)
    return ScriptError(text)
