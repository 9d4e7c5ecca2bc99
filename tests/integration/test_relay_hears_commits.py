"""The relay hears of commits on PostgreSQL (LISTEN/NOTIFY) instead of waiting
for its poll: an append by another process's store is published long before
the poll interval is up, and still is after the listening connection is cut.

The poll interval here is 30 s and the tests allow 5 s for what takes a few
milliseconds: a relay that only polled would fail them, a slow machine would not.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg
import pytest

from cqrskit.adapters.memory import InMemoryBroker
from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from cqrskit.core.relay import Relay
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration

POLL = 30.0
PROMPTLY = 5.0
META = Metadata(command_id="cmd-1")


@dataclass
class Pipeline:
    """A relay on one store, an appender (another process's store) on the same
    schema, and what the broker delivered."""

    url: str
    appender: PostgresEventStore
    relay: Relay
    delivered: asyncio.Queue[RecordedEvent]

    async def append(self, stream_id: str) -> RecordedEvent:
        new = [NewEvent("Happened", {})]
        (event,) = await self.appender.append(
            [StreamAppend(stream_id, 0, new)], metadata=META
        )
        return event

    async def next_published(self) -> RecordedEvent:
        return await asyncio.wait_for(self.delivered.get(), PROMPTLY)

    async def listeners(self) -> list[int]:
        """The backends listening for commits, by pid."""
        conn = await asyncpg.connect(self.url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE application_name = 'cqrskit listen'"
                " AND datname = current_database()"
            )
        finally:
            await conn.close()
        return [row["pid"] for row in rows]


@pytest.fixture
async def pipeline() -> AsyncIterator[Pipeline]:
    url = require(POSTGRES_URL)
    schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    async with contextlib.AsyncExitStack() as stack:
        stores = []
        for _ in range(2):
            store = await PostgresEventStore.open(url, schema=schema, pool_size=2)
            stack.push_async_callback(store.close)
            stores.append(store)
        relay_store, appender = stores
        broker = InMemoryBroker(partitions=1)
        delivered: asyncio.Queue[RecordedEvent] = asyncio.Queue()

        async def deliver(_: int, events: Sequence[RecordedEvent]) -> None:
            for event in events:
                delivered.put_nowait(event)

        relay = Relay(
            relay_store, relay_store, broker, poll_interval=POLL, commits=relay_store
        )
        tasks = [asyncio.create_task(t) for t in (relay.run(), broker.consume(deliver))]
        stack.push_async_callback(_cancel, tasks)
        stack.push_async_callback(_drop, url, schema)
        yield Pipeline(url, appender, relay, delivered)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _drop(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def _until_listening(pipeline: Pipeline, besides: Sequence[int] = ()) -> None:
    for _ in range(500):
        if set(await pipeline.listeners()) - set(besides):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the relay never listened for commits")


async def test_a_commit_elsewhere_is_published_long_before_the_next_poll(
    pipeline: Pipeline,
) -> None:
    await _until_listening(pipeline)

    for n in range(3):
        appended = await pipeline.append(f"cart-{n}")

        assert await pipeline.next_published() == appended


async def test_a_cut_listening_connection_is_opened_again_and_heard_on(
    pipeline: Pipeline,
) -> None:
    await _until_listening(pipeline)
    (cut,) = await pipeline.listeners()
    conn = await asyncpg.connect(pipeline.url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", cut)
    finally:
        await conn.close()

    await _until_listening(pipeline, besides=[cut])
    appended = await pipeline.append("cart-after-the-cut")

    assert await pipeline.next_published() == appended
