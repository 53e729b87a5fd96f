"""A Redis Cluster: its client, and counting runs sent to the primary of their slot, run again
on the slot's new primary while a slot moves or a failover ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode, ClusterPipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as StoreTimeoutError

from statsvc.store.batches import Batch, Lane
from statsvc.store.failures import NOT_RUN, STORE_FAILURES
from statsvc.store.limits import MAX_CONNECTIONS

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
REDIRECT_PAUSE = 0.05  # seconds between runs again while a slot moves or a failover ends
# how long a run a cluster refused is tried again before its hits are kept for later: short,
# for the other sites' requests of the same flush wait for it
REDIRECT_WINDOW = 0.25
REFRESH_INTERVAL = 1.0  # seconds between reads of the slot map after other failures
RunOn = Callable[[Lane, list[list[Batch]]], Awaitable[list[Any]]]
_HOLDING = ContextVar("holding a connection turn of a BoundedCluster", default=False)


class BoundedCluster(RedisCluster):
    """A cluster client whose commands (and pipelines) wait for a free connection, as a single
    server's blocking pool makes them: redis-py's cluster client refuses a command at once
    (MaxConnectionsError) when its node has max_connections busy, so many admin requests at
    once failed 503. A process holds at most MAX_CONNECTIONS - 1 turns at a time, each using
    at most one connection of a node, and each node's counting lane holds the last one. A
    turn not free within `wait` seconds (the store's timeout) is a timeout of the store:
    a node that does not answer holds its turns no longer than that either."""

    def __init__(self, *args: Any, wait: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = asyncio.Semaphore(MAX_CONNECTIONS - 1)
        self._wait = wait

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        parent = super().execute_command
        return await self.turn(lambda: parent(*args, **kwargs))

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipeline:
        if shard_hint:  # as RedisCluster.pipeline
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        # (ClusterPipeline's stub declares an attribute abstract that redis-py sets itself)
        return _BoundedPipeline(self, transaction)  # type: ignore[abstract]

    async def turn(self, run: Callable[[], Awaitable[Any]]) -> Any:
        """Run `run` (a command, a pipeline's execution) in one of the process's turns; one
        run within a turn (a pipeline's command sent again alone, on a redirection) needs no
        other."""
        if _HOLDING.get():
            return await run()
        try:
            async with asyncio.timeout(self._wait):
                await self._turns.acquire()
        except TimeoutError:
            raise StoreTimeoutError("no connection to the cluster came free in time") from None
        token = _HOLDING.set(True)
        try:
            return await run()
        finally:
            _HOLDING.reset(token)
            self._turns.release()


class _BoundedPipeline(ClusterPipeline):
    """A pipeline of a BoundedCluster: executed in one of its turns."""

    def __init__(self, client: BoundedCluster, transaction: bool | None) -> None:
        super().__init__(client, transaction=transaction)
        self._bounded = client

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        parent = super().execute
        return await self._bounded.turn(lambda: parent(raise_on_error, allow_redirections))


class ClusterRouter:
    """Sends counting runs to the primaries of their slots, each on a lane of its own."""

    def __init__(
        self, cluster: RedisCluster, lanes: dict[str, Lane], run_on: RunOn, timeout: float
    ) -> None:
        self._cluster = cluster
        self._lanes = lanes
        self._run_on = run_on
        self._timeout = timeout
        self._refreshed = 0.0  # when the slot map was last read again (loop time)

    async def answering_primaries(self) -> list[str]:
        """PING each primary on a connection of its own (not its lane); return the names of
        those that answer."""
        cluster = self._cluster
        try:
            await cluster.initialize()
        except STORE_FAILURES:
            return []
        primaries = cluster.get_primaries()
        pongs = await asyncio.gather(
            *(cluster.ping(target_nodes=node) for node in primaries), return_exceptions=True
        )
        return [node.name for node, pong in zip(primaries, pongs, strict=True) if pong is True]

    async def run(self, runs: list[list[Batch]]) -> list[Any]:
        """Send each primary its runs; run again, on the slot's new primary, those a moving
        slot or a failover refused (refused, they did not run), for REDIRECT_WINDOW at most;
        then their hits are told the store cannot take them now (and are kept)."""
        cluster = self._cluster
        await cluster.initialize()  # the slot map, read on first use
        replies: list[Any] = [None] * len(runs)
        todo = list(range(len(runs)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(self._timeout, REDIRECT_WINDOW)
        while True:
            by_node: dict[str, tuple[ClusterNode, list[int]]] = {}
            for n in todo:
                try:
                    node = cluster.nodes_manager.get_node_from_slot(runs[n][0].slot)
                except RedisClusterException as exc:  # no node serves that slot now
                    replies[n] = exc
                    continue
                by_node.setdefault(node.name, (node, []))[1].append(n)
            results = await asyncio.gather(
                *(
                    self._run_on(self._lane(node), [runs[n] for n in ns])
                    for node, ns in by_node.values()
                ),
                return_exceptions=True,
            )
            for (_, ns), result in zip(by_node.values(), results, strict=True):
                for at, n in enumerate(ns):
                    replies[n] = result if isinstance(result, BaseException) else result[at]
            failed = any(isinstance(replies[n], STORE_FAILURES) for n in todo)
            todo = [n for n in todo if isinstance(replies[n], NOT_RUN)]
            if failed:
                await self._refresh(cluster, at_once=bool(todo))
            if not todo or loop.time() >= deadline:
                return replies
            await asyncio.sleep(REDIRECT_PAUSE)

    async def _refresh(self, cluster: RedisCluster, *, at_once: bool) -> None:
        """Read the slot map again: at once after a redirection, at most once a second after
        other failures (a node that is down fails every run sent to it)."""
        now = asyncio.get_running_loop().time()
        if not at_once and now - self._refreshed < REFRESH_INTERVAL:
            return
        self._refreshed = now
        with suppress(*STORE_FAILURES):  # the runs already say what failed; the next tries again
            await cluster.nodes_manager.initialize()

    def _lane(self, node: ClusterNode) -> Lane:
        lane = self._lanes.get(node.name)
        if lane is None:
            lane = self._lanes[node.name] = Lane(node.acquire_connection())
        return lane


def cluster_client(url: str, timeout: float) -> RedisCluster:
    """Return a cluster client for `redis+cluster://[user:password@]host:port[,host:port…]`."""
    scheme, _, rest = url.partition("://")
    rest = rest.partition("/")[0].partition("?")[0]
    auth, _, hosts = rest.rpartition("@")
    username, _, password = auth.partition(":") if ":" in auth else ("", "", auth)
    nodes = []
    for address in hosts.split(","):
        host, _, port = address.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"a cluster node must be host:port, not {address!r}")
        nodes.append(ClusterNode(host.strip("[]"), int(port)))
    return BoundedCluster(
        wait=timeout,
        startup_nodes=nodes,
        username=unquote(username) or None,
        password=unquote(password) or None,
        ssl=CLUSTER_SCHEMES[scheme.lower()] == "rediss",
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=MAX_CONNECTIONS,
        # nothing is sent again blindly (the admin scripts write too); redirections (MOVED,
        # ASK) are followed all the same
        retry=Retry(NoBackoff(), 0),
    )
