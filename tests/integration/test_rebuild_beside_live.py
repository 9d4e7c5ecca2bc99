"""On Redis, a rebuild while a live projector runs and commands keep being
appended: afterwards, `verify` finds the live views equal to a fresh fold."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_rebuild import Shopper, projections

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.sqlite import SqliteEventStore
from cqrskit.core.pause import Pauses
from cqrskit.core.ports import EventStore
from cqrskit.core.projection import ProjectionRunner
from cqrskit.core.rebuild import rebuild
from cqrskit.core.verify import verify
from cqrskit.core.wire import partition_for
from services import REDIS_URL, require

pytestmark = pytest.mark.integration
PARTITIONS = 3


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisReadStore]:
    namespace = f"test-live-rebuild-{uuid.uuid4().hex[:12]}"
    store = await RedisReadStore.open(require(REDIS_URL), namespace=namespace)
    try:
        yield store
    finally:
        await store.purge()
        await store.close()


async def project_live(
    events: EventStore, runner: ProjectionRunner, stop: asyncio.Event
) -> None:
    """Relay and projector: the log, split per partition, in small batches."""
    position = 0
    while not stop.is_set() or await events.read_all(position, 1):
        batch = await events.read_all(position, 5)
        if not batch:
            await asyncio.sleep(0.005)
            continue
        for partition in range(PARTITIONS):
            mine = [
                e for e in batch if partition_for(e.stream_id, PARTITIONS) == partition
            ]
            if mine:
                await runner.handle(partition, mine)
        position = batch[-1].position


async def keep_appending(shop: Shopper, stop: asyncio.Event) -> int:
    rounds = 0
    while not stop.is_set():
        await shop.run(3)
        rounds += 1
        await asyncio.sleep(0)
    return rounds


@pytest.mark.parametrize("seed", [3, 4])
async def test_a_rebuild_beside_a_live_projector_and_new_commands_verifies_clean(
    tmp_path: Path, redis_store: RedisReadStore, seed: int
) -> None:
    events = await SqliteEventStore.open(tmp_path / "events.sqlite")
    try:
        shop = Shopper(events, seed)
        for sku in ("SKU-a", "SKU-b", "SKU-c"):
            await shop.add_product(sku)
        await shop.run(60)
        before = len(await events.read_all(0, 1_000_000))
        live = ProjectionRunner(projections(), redis_store, events, pause_poll=0.01)
        stop_live, stop_shop = asyncio.Event(), asyncio.Event()
        projector = asyncio.create_task(project_live(events, live, stop_live))
        appender = asyncio.create_task(keep_appending(shop, stop_shop))

        await rebuild(events, redis_store, projections(), page=20)
        await asyncio.sleep(0.05)
        stop_shop.set()
        rounds = await asyncio.wait_for(appender, 30)
        stop_live.set()
        await asyncio.wait_for(projector, 30)

        log = await events.read_all(0, 1_000_000)
        assert rounds > 0 and len(log) > before, "nothing was appended meanwhile"
        assert any(e.category == "idempotency" for e in log), "no stored answers"
        differences = await verify(
            events,
            redis_store,
            InMemoryReadStore(),
            projections(),
            Pauses(redis_store),
            wait=asyncio.sleep,
        )
        assert differences == []
    finally:
        await events.close()
