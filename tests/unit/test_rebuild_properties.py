"""A rebuild beside live projectors leaves every view equal to a fresh fold.

Random shop histories are appended a slice at a time; live runners apply them
in partition batches (some batches read, then stall until after a swap and
commit late); rebuilds run their steps (replay, pause, catch up, swap) in
between, and sometimes a pause expires and a live runner breaks it. Once
everything drains, the answers over the live store must equal the independent
fold of `test_projection_properties`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_projection_properties import answers, fold, random_history, run_history

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.adapters.sqlite import SqliteReadStore
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.pause import PauseBroken, Pauses
from cqrskit.core.ports import IndexEntry, ReadStore, VersionMove, ViewChanges
from cqrskit.core.projection import ProjectionRunner
from cqrskit.core.rebuild import Rebuild, RebuildableStore
from cqrskit.core.wire import partition_for
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.views import shop_projections

PARTITIONS = 2
TTL_MS = 1_000


class Deferred(Exception):
    """A runner found its projection paused: the broker delivers the batch later."""


async def defer(_: float) -> None:
    raise Deferred


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


class RevealedLog:
    """The event store as far as the log has been appended so far."""

    def __init__(self, log: Sequence[RecordedEvent]) -> None:
        self._log = log
        self.revealed = 0

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        seen = self._log[: self.revealed]
        return [e for e in seen if e.position > after][:limit]

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        seen = self._log[: self.revealed]
        return [
            e for e in seen if e.stream_id == stream_id and e.version >= from_version
        ]


class Stalling:
    """A read store whose first commit waits at a gate: a batch that read its
    views and commits late."""

    def __init__(self, store: ReadStore) -> None:
        self._store = store
        self.reached = asyncio.Event()
        self.gate = asyncio.Event()

    async def get(self, key: str) -> bytes | None:
        return await self._store.get(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return await self._store.get_many(keys)

    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._store.index_page(
            index, after=after, limit=limit, reverse=reverse
        )

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        return await self._store.stream_versions(projection, stream_ids)

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        if not self.gate.is_set():
            self.reached.set()
            await self.gate.wait()
        await self._store.commit(projection, changes, versions)

    async def close(self) -> None:
        return None


Opener = Callable[[], Awaitable[RebuildableStore]]


async def _memory() -> RebuildableStore:
    return InMemoryReadStore()


async def _sqlite() -> RebuildableStore:
    return await SqliteReadStore.open(":memory:")


class World:
    """The live side: a log appended in slices, partition queues, runners."""

    def __init__(self, log: Sequence[RecordedEvent], store: RebuildableStore) -> None:
        self.log = RevealedLog(log)
        self._all = log
        self.store = store
        self.clock = Clock()
        self.queues: list[list[RecordedEvent]] = [[] for _ in range(PARTITIONS)]
        self.stalled: tuple[int, list[RecordedEvent], Stalling] | None = None
        self.stalled_task: asyncio.Task[None] | None = None

    def runner(self, store: ReadStore) -> ProjectionRunner:
        return ProjectionRunner(
            shop_projections(shop_codec()),
            store,
            self.log,  # type: ignore[arg-type]
            clock=self.clock,
            sleep=defer,
        )

    def reveal(self, count: int) -> None:
        start = self.log.revealed
        self.log.revealed = min(len(self._all), start + count)
        for event in self._all[start : self.log.revealed]:
            self.queues[partition_for(event.stream_id, PARTITIONS)].append(event)

    async def deliver(self, partition: int, size: int) -> None:
        batch = self.queues[partition][:size]
        del self.queues[partition][:size]
        try:
            await self.runner(self.store).handle(partition, batch)
        except Deferred:
            self.queues[partition][:0] = batch

    async def stall(self, partition: int, size: int) -> None:
        """Start a batch that reads now and commits when `unstall` is called."""
        batch = self.queues[partition][:size]
        del self.queues[partition][:size]
        stalling = Stalling(self.store)
        task = asyncio.create_task(self.runner(stalling).handle(partition, batch))
        reached = asyncio.create_task(stalling.reached.wait())
        await asyncio.wait({task, reached}, return_when=asyncio.FIRST_COMPLETED)
        reached.cancel()
        self.stalled = (partition, batch, stalling)
        self.stalled_task = task

    async def unstall(self) -> None:
        task = self.stalled_task
        if task is None or self.stalled is None:
            return
        partition, batch, stalling = self.stalled
        stalling.gate.set()
        try:
            await task
        except Deferred:
            self.queues[partition][:0] = batch
        self.stalled_task = None


@asynccontextmanager
async def rebuilding(world: World) -> AsyncIterator[list[Rebuild]]:
    """At most one rebuild at a time, closed at the end whatever happened."""
    running: list[Rebuild] = []
    try:
        yield running
    finally:
        for steps in running:
            await steps.close()


STEPS = ["replay", "pause", "catch_up", "swap"]


async def step_rebuild(
    world: World, running: list[Rebuild], progress: list[int]
) -> None:
    if not running:
        pauses = Pauses(world.store, ttl_ms=TTL_MS, clock=world.clock, sleep=defer)
        running.append(
            Rebuild(
                world.log,  # type: ignore[arg-type]
                world.store,
                shop_projections(shop_codec()),
                pauses,
                page=7,
                partitions=PARTITIONS,  # each page's partitions side by side
            )
        )
        progress[:] = [0]
    steps = running[0]
    name = STEPS[progress[0]]
    try:
        await getattr(steps, name)()
    except PauseBroken:
        name = "swap"  # this rebuild is over: it refused to write
    progress[0] += 1
    if name == "swap":
        await steps.close()
        running.clear()


async def play(data: st.DataObject, open_store: Opener) -> None:
    log = await random_history(data)
    store = await open_store()
    world = World(log, store)
    progress = [0]
    try:
        async with rebuilding(world) as running:
            for _ in range(data.draw(st.integers(0, 40), label="steps")):
                kind = data.draw(
                    st.sampled_from(
                        ["reveal", "deliver", "deliver", "stall", "unstall"]
                        + ["rebuild"] * 3
                        + ["expire"]
                    )
                )
                await one_step(world, running, progress, kind, data)
            world.reveal(len(log))
            await world.unstall()
            while running:
                await step_rebuild(world, running, progress)
            await drain(world)
        assert await answers(store) == fold(log)
    finally:
        await world.unstall()
        await store.close()


async def one_step(
    world: World,
    running: list[Rebuild],
    progress: list[int],
    kind: str,
    data: st.DataObject,
) -> None:
    partition = data.draw(st.integers(0, PARTITIONS - 1))
    size = data.draw(st.integers(1, 6))
    match kind:
        case "reveal":
            world.reveal(data.draw(st.integers(1, 12)))
        case "deliver":
            await world.deliver(partition, size)
        case "stall" if world.stalled_task is None:
            await world.stall(partition, size)
        case "unstall":
            await world.unstall()
        case "rebuild":
            await step_rebuild(world, running, progress)
        case "expire":
            world.clock.ms += TTL_MS * 2


async def drain(world: World) -> None:
    """Deliver everything; a projection left paused by a dead rebuild is taken
    back once its pause expires."""
    for _ in range(1000):
        if not any(world.queues):
            return
        for partition, queue in enumerate(world.queues):
            if queue:
                await world.deliver(partition, len(queue))
        world.clock.ms += TTL_MS
    raise AssertionError("the queues never drained")


@pytest.mark.parametrize("open_store", [_memory, _sqlite], ids=["memory", "sqlite"])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_views_equal_a_fresh_fold_after_rebuilds_beside_live_runners(
    open_store: Opener, data: st.DataObject
) -> None:
    asyncio.run(play(data, open_store))


def test_a_batch_that_read_before_a_swap_does_not_count_stock_twice() -> None:
    """The defect seen in production: a product's first restock counted twice,
    because a batch that read the views before the swap committed after it."""

    async def check() -> None:
        log = await run_history(
            [
                ("add_product", "MUG-1", "Red Mug", 100, ""),
                ("restock", "MUG-1", 6),
                ("restock", "MUG-1", 6),
                ("reprice", "MUG-1", 120),
            ]
        )
        world = World(log, InMemoryReadStore())
        partition = partition_for("product-MUG-1", PARTITIONS)
        world.reveal(2)
        await world.deliver(partition, 9)
        pauses = Pauses(world.store, ttl_ms=TTL_MS, clock=world.clock, sleep=defer)
        steps = Rebuild(
            world.log,  # type: ignore[arg-type]
            world.store,
            shop_projections(shop_codec()),
            pauses,
        )
        await steps.replay()  # the scratch holds the first restock only
        world.reveal(2)
        await world.deliver(partition, 1)  # the second restock, live
        await world.stall(partition, 1)  # the price change reads stock 12
        await steps.pause()
        await world.unstall()
        await steps.catch_up()
        await steps.swap()
        await steps.close()
        await drain(world)
        assert await answers(world.store) == fold(log)

    asyncio.run(check())


def test_a_catch_up_beside_a_live_runner_loses_no_stock() -> None:
    """A rebuild's last pass must not be a second writer beside a live runner:
    a price change it read before a live restock would put the old stock back."""

    async def check() -> None:
        log = await run_history(
            [
                ("add_product", "MUG-1", "Red Mug", 100, ""),
                ("restock", "MUG-1", 6),
                ("reprice", "MUG-1", 120),
                ("restock", "MUG-1", 6),
            ]
        )
        world = World(log, InMemoryReadStore())
        partition = partition_for("product-MUG-1", PARTITIONS)
        world.reveal(2)
        steps = Rebuild(
            world.log,  # type: ignore[arg-type]
            world.store,
            shop_projections(shop_codec()),
            Pauses(world.store, ttl_ms=TTL_MS, clock=world.clock, sleep=defer),
        )
        await steps.replay()  # the scratch stops before the price change
        world.reveal(2)
        await world.deliver(partition, 3)  # live: added, restocked, repriced
        await steps.pause()
        await steps.catch_up()
        await world.deliver(partition, 1)  # the second restock, live
        await steps.swap()
        await steps.close()
        await drain(world)
        assert await answers(world.store) == fold(log)

    asyncio.run(check())
