"""The fixtures of the suites that run on an event store, and the helpers
their tests share (cqrskit.testing.event_store exports them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
import pytest_asyncio

from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from cqrskit.core.ports import EventLog, EventStore
from cqrskit.testing._handles import Handles, Opener

META = Metadata(
    command_id="cmd-1",
    correlation_id="corr-1",
    causation_id="cmd-1",
    principal="alice",
    roles=("customer",),
)
Open = Opener[EventLog]


def events(*types: str) -> list[NewEvent]:
    return [NewEvent(type=t, data={"n": i, "type": t}) for i, t in enumerate(types)]


async def append(
    store: EventStore, stream_id: str, expected: int, count: int = 1
) -> list[RecordedEvent]:
    batch = events(*(f"E{expected + i + 1}" for i in range(count)))
    return await store.append([StreamAppend(stream_id, expected, batch)], metadata=META)


async def everything(store: EventStore) -> list[RecordedEvent]:
    return await store.read_all(0, 10_000)


class EventStoreFixtures:
    """The fixtures of the suites that run on an event store.

    A subclass defines the fixture `event_store_opener`: an `Opener` that opens
    a handle on fresh storage, the same storage on every call (each test gets
    fresh storage). The handles opened are closed after the test. An adapter
    whose every handle has storage of its own (in memory) sets
    `shares_storage = False`; the tests that reopen or write from several
    handles are then skipped."""

    shares_storage: ClassVar[bool] = True

    @pytest_asyncio.fixture
    async def event_store_handles(
        self, event_store_opener: Opener[EventLog]
    ) -> AsyncIterator[Handles[EventLog]]:
        handles = Handles(event_store_opener, shares_storage=self.shares_storage)
        try:
            yield handles
        finally:
            await handles.close_all()

    @pytest_asyncio.fixture
    async def event_store(self, event_store_handles: Handles[EventLog]) -> EventLog:
        return await event_store_handles.open()

    @pytest.fixture
    def open_event_store(
        self, event_store_handles: Handles[EventLog]
    ) -> Opener[EventLog]:
        """Another handle on the same storage (skips adapters without one)."""
        return event_store_handles.reopener()
