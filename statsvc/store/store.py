"""The store: one Redis or Valkey server, or a Redis Cluster: its records, its sessions, and
counting on it through the batcher."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from statsvc.core.keys import Keys
from statsvc.store.batcher import Batcher
from statsvc.store.cluster import CLUSTER_SCHEMES, cluster_client
from statsvc.store.failures import STORE_FAILURES
from statsvc.store.groups import GroupRecords
from statsvc.store.limits import MAX_CONNECTIONS, Limits
from statsvc.store.records import Records
from statsvc.store.referrers import Referrers
from statsvc.store.sessions import Sessions


class Store(Records, Referrers, Sessions, GroupRecords):
    """The statsvc data in one Redis or Valkey server, or in a Redis Cluster. Counting goes
    through its Batcher (statsvc.store.batcher); records, sessions and groups are plain commands."""

    def __init__(
        self, client: Redis | RedisCluster, keys: Keys, limits: Limits, timeout: float = 1.0
    ) -> None:
        self._redis: Any = client  # the two clients share the commands used here
        self._keys = keys
        self._limits = limits
        self._batcher = Batcher(client, keys, limits, timeout)
        # count a hit, refresh a heartbeat, or only read: the batcher's own method, no call
        # between (the hit path)
        self.count = self._batcher.count
        self.count_into = self._batcher.count_into

    @property
    def batches(self) -> int:
        """Return how many script runs counting has sent (for tests and benchmarks)."""
        return self._batcher.batches

    @classmethod
    def from_url(cls, url: str, keys: Keys, limits: Limits, *, timeout: float = 1.0) -> Store:
        """Open a store: `redis://`, `rediss://` or `unix://` for one server,
        `redis+cluster://host:port[,host:port…]` for a cluster. Counting is never retried
        blindly (a lost reply must not double count)."""
        scheme = url.partition("://")[0].lower()
        if scheme in CLUSTER_SCHEMES:
            return cls(cluster_client(url, timeout), keys, limits, timeout)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout,  # a request waits this long for a free connection, then fails
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        return cls(Redis.from_pool(pool), keys, limits, timeout)

    async def close(self) -> None:
        """Answer what is pending, then close the connections; later counting fails."""
        await self._batcher.close()
        await self._redis.aclose()

    async def ready(self) -> bool:
        """Tell whether the server (every primary of a cluster) answers."""
        try:
            return bool(await self._redis.ping())
        except STORE_FAILURES:
            return False

    async def reachable(self) -> bool:
        """PING each server (each primary of a cluster) on a connection of its own, not the
        counting one; let counting use at once those that answer; tell whether any did."""
        router = self._batcher.router
        if router is None:
            answering = [""] if await self.ready() else []
        else:
            answering = await router.answering_primaries()
        for server in answering:
            self._batcher.wake(server)
        return bool(answering)
