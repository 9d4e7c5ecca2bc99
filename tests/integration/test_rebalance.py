"""Projectors share the partitions out again when one joins or comes back, on
a real RabbitMQ and Redis, and never apply a partition's batches two at once.

Two projectors run in this process, each with its own broker connection, read
store client and membership id. Events flow the whole time; a handler records,
per partition, who is inside it, and the read model records every version it
applied, so a double application or a lost event shows in the views.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pytest

from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.redis.membership import RedisMembership
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.projection import ProjectionRunner, View
from cqrskit.core.sharing import Shares, consume_share
from services import AMQP_URL, REDIS_URL, require

pytestmark = pytest.mark.integration

PARTITIONS = 8
STREAMS = 16  # stream k lives in partition k % 8
BOUND = 15.0
"""A generous wait for a sharing to settle (measured: a few seconds)."""


class Seen:
    """A projection that keeps, per stream, every version it applied."""

    name = "seen"
    categories = frozenset({"cart"})
    prefixes = ("seen:",)

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        return [f"seen:{event.stream_id}"]

    async def apply(self, event: RecordedEvent, view: View) -> None:
        key = f"seen:{event.stream_id}"
        versions = orjson.loads(await view.get(key) or b"[]")
        view.put(key, orjson.dumps([*versions, event.version]))


@dataclass
class Watch:
    """Who is inside each partition's handler; any overlap is a violation."""

    inside: dict[int, str] = field(default_factory=dict)
    overlaps: list[tuple[int, str, str]] = field(default_factory=list)
    applied_by: dict[str, int] = field(default_factory=dict)


class Projector:
    def __init__(self, name: str, bus: RabbitMqBus, store: RedisReadStore) -> None:
        self.shares = Shares(name, PARTITIONS)
        self.bus = bus
        self.store = store
        self.membership: RedisMembership | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self, membership: RedisMembership, watch: Watch) -> None:
        runner = ProjectionRunner([Seen()], self.store)
        name = self.shares.member

        async def handle(partition: int, events: Sequence[RecordedEvent]) -> None:
            if partition in watch.inside:
                watch.overlaps.append((partition, watch.inside[partition], name))
            watch.inside[partition] = name
            try:
                await asyncio.sleep(0.002)  # a window for a second applier
                await runner.handle(partition, events)
                watch.applied_by[name] = watch.applied_by.get(name, 0) + 1
            finally:
                if watch.inside.get(partition) == name:
                    del watch.inside[partition]

        self.membership = membership
        self.task = asyncio.create_task(
            consume_share(self.bus, handle, membership, self.shares)
        )

    async def kill(self) -> None:
        """Stop without leaving the membership, as a crash would."""
        assert self.membership is not None and self.task is not None
        self.membership.leave = _stay  # type: ignore[method-assign]
        await self.stop()

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            done, _ = await asyncio.wait({self.task}, timeout=BOUND)
            assert done, f"{self.shares.member} did not stop"
        await self.bus.close()
        await self.store.close()
        if self.membership is not None:
            await self.membership.close()


async def _stay(member: str) -> None:
    return None


class Cluster:
    def __init__(self) -> None:
        self.amqp = require(AMQP_URL)
        self.redis = require(REDIS_URL)
        self.prefix = f"it-{uuid.uuid4().hex[:12]}"
        self.watch = Watch()
        self.projectors: list[Projector] = []

    async def projector(self, name: str) -> Projector:
        bus = await RabbitMqBus.open(
            self.amqp, partitions=PARTITIONS, prefix=self.prefix
        )
        store = await RedisReadStore.open(self.redis, namespace=self.prefix)
        projector = Projector(f"{name}.{uuid.uuid4().hex[:6]}", bus, store)
        membership = await RedisMembership.open(self.redis, namespace=self.prefix)
        projector.start(membership, self.watch)
        self.projectors.append(projector)
        return projector

    async def close(self) -> None:
        for projector in self.projectors:
            await projector.stop()
        await drop_topology(self.amqp, prefix=self.prefix, partitions=PARTITIONS)
        store = await RedisReadStore.open(self.redis, namespace=self.prefix)
        await store.purge()  # the views and the membership alike
        await store.close()

    async def views(self) -> list[list[int]]:
        """Each stream's applied versions, as the read model has them."""
        store = await RedisReadStore.open(self.redis, namespace=self.prefix)
        try:
            docs = await store.get_many([f"seen:cart-{k}" for k in range(STREAMS)])
        finally:
            await store.close()
        return [orjson.loads(doc or b"[]") for doc in docs]


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cluster = Cluster()
    try:
        yield cluster
    finally:
        async with asyncio.timeout(BOUND * 2):
            await cluster.close()


def event(stream: int, version: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id=f"cart-{stream}",
        version=version,
        position=version * STREAMS + stream,
        type="ItemAdded",
        data={},
        recorded_at=datetime(2024, 5, 1, tzinfo=UTC),
    )


async def publish_until(
    stop: asyncio.Event, bus: RabbitMqBus, versions: list[int]
) -> None:
    """A round per 20 ms: the next version of every stream, a batch per
    partition; `versions` counts only what the broker confirmed."""
    while not stop.is_set():
        batches: dict[int, list[RecordedEvent]] = {}
        for stream in range(STREAMS):
            batches.setdefault(stream % PARTITIONS, []).append(
                event(stream, versions[stream] + 1)
            )
        await asyncio.gather(*(bus.publish(p, b) for p, b in batches.items()))
        versions[:] = [v + 1 for v in versions]
        await asyncio.sleep(0.02)


async def settled(*projectors: Projector, seconds: float = BOUND) -> float:
    """Wait until each projector is active for exactly the partitions it owns
    and the owned ones cover every partition once; return how long it took."""

    def done() -> bool:
        owned = [p.shares.owned for p in projectors]
        return (
            all(p.shares.active == set(p.shares.owned) for p in projectors)
            and sorted(q for share in owned for q in share) == list(range(PARTITIONS))
            and all(len(p.shares.members) == len(projectors) for p in projectors)
        )

    return await until(done, seconds)


async def until(condition: Callable[[], bool], seconds: float = BOUND) -> float:
    start = time.monotonic()
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the state changes in callbacks)
            await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_partitions_are_shared_again_when_a_projector_joins_or_returns(
    cluster: Cluster,
) -> None:
    publisher = await RabbitMqBus.open(
        cluster.amqp, partitions=PARTITIONS, prefix=cluster.prefix
    )
    versions = [0] * STREAMS
    stop = asyncio.Event()
    publishing = asyncio.create_task(publish_until(stop, publisher, versions))
    try:
        a = await cluster.projector("a")
        await settled(a)
        assert a.shares.owned == set(range(PARTITIONS))

        b = await cluster.projector("b")
        joined = await settled(a, b)
        assert a.shares.owned and b.shares.owned  # each has its share
        await until(lambda: cluster.watch.applied_by.get(b.shares.member, 0) > 10)

        await b.kill()
        cluster.projectors.remove(b)
        taken_over = await until(lambda: a.shares.active == set(range(PARTITIONS)))
        expired = await settled(a)

        b = await cluster.projector("b-again")
        rejoined = await settled(a, b)
        assert b.shares.owned
        print(  # the measured bound, for the docs (pytest -s shows it)
            f"join {joined:.2f}s, take-over {taken_over:.2f}s, "
            f"expiry {expired:.2f}s, return {rejoined:.2f}s"
        )
    finally:
        stop.set()
        await asyncio.wait_for(publishing, BOUND)
        await publisher.close()

    expected = [list(range(1, v + 1)) for v in versions]
    async with asyncio.timeout(BOUND):
        while (views := await cluster.views()) != expected:
            assert all(v == e[: len(v)] for v, e in zip(views, expected, strict=True))
            await asyncio.sleep(0.1)
    assert cluster.watch.overlaps == []
    assert len(cluster.watch.applied_by) == 3  # a, b, and b come back all worked
