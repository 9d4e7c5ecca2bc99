"""A projector is ready only while its read store answers and its broker has
it subscribed to every partition (active or standing by)."""

from __future__ import annotations

import asyncio

from cqrskit.adapters.memory import InMemoryBroker, InMemoryReadStore
from cqrskit.entrypoints.workers import _ProjectorState


async def _nothing(partition: int, events: object) -> None:
    return None


async def test_not_ready_until_subscribed_everywhere() -> None:
    broker = InMemoryBroker(4)
    state = _ProjectorState(read_store=InMemoryReadStore(), broker=broker)
    assert await state.ready() is False  # opened, not consuming yet

    consuming = asyncio.create_task(broker.consume(_nothing))
    try:
        await asyncio.wait_for(broker.subscribed(), 5)
        assert await state.ready() is True
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await broker.close()


async def test_not_ready_before_its_stores_are_open() -> None:
    assert await _ProjectorState().ready() is False
