"""The EventStore and PositionStore contract: every event store adapter runs it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
import pytest_asyncio

from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import (
    LogEntry,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from cqrskit.core.ports import EventLog, EventStore, PositionStore
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


async def _race(stores: list[EventStore], versions: int, writers: int) -> list[int]:
    """`writers` tasks per version append at it; return the winners per version."""
    winners = []
    for version in range(versions):

        async def attempt(i: int, expected: int = version) -> bool:
            await asyncio.sleep(random.random() / 1000)
            try:
                await append(stores[i % len(stores)], "inventory-last", expected)
            except ConcurrencyError:
                return False
            return True

        results = await asyncio.gather(*(attempt(i) for i in range(writers)))
        winners.append(sum(results))
    return winners


HEARING = 5.0
"""How long a listener may take to hear of a commit (generous: a loaded CI)."""


async def _listen(store: EventLog, heard: asyncio.Queue[None]) -> None:
    async for _ in store.commits():
        heard.put_nowait(None)


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


class EventStoreContract(EventStoreFixtures):
    """What every EventStore (and the PositionStore beside it) promises."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def position_store(self, event_store: EventLog) -> PositionStore:
        return event_store

    async def test_append_to_a_new_stream_starts_at_version_one(
        self,
        event_store: EventStore,
    ) -> None:
        records = await event_store.append(
            [StreamAppend("cart-1", 0, events("ItemAdded", "ItemRemoved"))],
            metadata=META,
        )

        assert [(r.stream_id, r.version, r.type) for r in records] == [
            ("cart-1", 1, "ItemAdded"),
            ("cart-1", 2, "ItemRemoved"),
        ]
        assert [r.position for r in records] == [1, 2]
        assert await event_store.read_stream("cart-1") == records

    async def test_later_appends_continue_the_version_numbers(
        self,
        event_store: EventStore,
    ) -> None:
        await append(event_store, "cart-1", 0, count=2)

        records = await append(event_store, "cart-1", 2, count=3)

        stream = await event_store.read_stream("cart-1")
        assert [r.version for r in records] == [3, 4, 5]
        assert [r.version for r in stream] == [1, 2, 3, 4, 5]

    async def test_a_stored_event_keeps_its_data_metadata_and_schema_version(
        self,
        event_store: EventStore,
    ) -> None:
        data = {
            "sku": "Äpfel-½",
            "lines": [{"q": 2, "price": 1.5}],
            "ok": True,
            "x": None,
        }
        before = datetime.now(UTC) - timedelta(seconds=1)
        await event_store.append(
            [
                StreamAppend(
                    "order-1", 0, [NewEvent("OrderPlaced", data, schema_version=3)]
                )
            ],
            metadata=META,
        )
        after = datetime.now(UTC) + timedelta(seconds=1)

        (stored,) = await event_store.read_stream("order-1")

        assert (stored.type, stored.data, stored.schema_version) == (
            "OrderPlaced",
            data,
            3,
        )
        assert stored.metadata == META
        assert stored.recorded_at.utcoffset() == timedelta(0)
        assert before <= stored.recorded_at <= after

    async def test_global_positions_increase_without_gaps_even_after_failed_appends(
        self,
        event_store: EventStore,
    ) -> None:
        await append(event_store, "cart-1", 0)
        await append(event_store, "cart-2", 0, count=2)
        with pytest.raises(ConcurrencyError):
            await append(event_store, "cart-1", 0)
        with pytest.raises(ConcurrencyError):  # its last stream is taken
            await event_store.append(
                [
                    StreamAppend("cart-3", 0, events("A")),
                    StreamAppend("cart-2", 0, events("B")),
                ],
                metadata=META,
            )
        await append(event_store, "cart-1", 1, count=2)
        await append(event_store, "cart-3", 0)

        log = await everything(event_store)

        assert [r.position for r in log] == [1, 2, 3, 4, 5, 6]
        assert [(r.stream_id, r.version) for r in log] == [
            ("cart-1", 1), ("cart-2", 1), ("cart-2", 2),
            ("cart-1", 2), ("cart-1", 3), ("cart-3", 1),
        ]  # fmt: skip

    @pytest.mark.parametrize("wrong", ["first", "last"])
    async def test_a_multi_stream_append_writes_nothing_if_one_version_is_wrong(
        self, event_store: EventStore, wrong: str
    ) -> None:
        await append(event_store, "inventory-a", 0, count=2)
        appends = [
            StreamAppend(
                "inventory-a", 2 if wrong == "last" else 1, events("Reserved")
            ),
            StreamAppend("cart-1", 0, events("CheckedOut")),
            StreamAppend(
                "order-1", 0 if wrong == "first" else 5, events("OrderPlaced")
            ),
        ]

        with pytest.raises(ConcurrencyError):
            await event_store.append(appends, metadata=META)

        assert [r.version for r in await everything(event_store)] == [1, 2]
        assert await event_store.read_stream("cart-1") == []
        assert await event_store.read_stream("order-1") == []

    async def test_a_multi_stream_append_writes_all_streams_in_order(
        self,
        event_store: EventStore,
    ) -> None:
        await append(event_store, "inventory-a", 0)

        records = await event_store.append(
            [
                StreamAppend("inventory-a", 1, events("Reserved", "Reserved")),
                StreamAppend("order-1", 0, events("OrderPlaced")),
            ],
            metadata=META,
        )

        assert [(r.stream_id, r.version, r.position) for r in records] == [
            ("inventory-a", 2, 2),
            ("inventory-a", 3, 3),
            ("order-1", 1, 4),
        ]
        earlier = (await event_store.read_stream("inventory-a"))[0]
        assert await everything(event_store) == [earlier, *records]

    @pytest.mark.parametrize("expected", [0, 1, 3])
    async def test_a_stale_or_future_expected_version_is_a_concurrency_error(
        self, event_store: EventStore, expected: int
    ) -> None:
        await append(event_store, "product-x", 0, count=2)

        with pytest.raises(ConcurrencyError, match="product-x") as caught:
            await append(event_store, "product-x", expected)

        assert "product-x" in caught.value.detail
        assert len(await event_store.read_stream("product-x")) == 2

    async def test_a_stream_given_without_events_is_checked_not_written(
        self, event_store: EventStore
    ) -> None:
        await append(event_store, "product-read", 0, count=2)
        checked = StreamAppend("product-read", 2, [])

        written = await event_store.append(
            [StreamAppend("inventory-w", 0, events("E1")), checked], metadata=META
        )
        with pytest.raises(ConcurrencyError, match="product-read"):
            await event_store.append(
                [
                    StreamAppend("inventory-w", 1, events("E2")),
                    replace(checked, expected_version=1),
                ],
                metadata=META,
            )

        assert [(r.stream_id, r.version) for r in written] == [("inventory-w", 1)]
        assert len(await event_store.read_stream("product-read")) == 2
        assert len(await event_store.read_stream("inventory-w")) == 1

    async def test_read_stream_from_a_version(self, event_store: EventStore) -> None:
        await append(event_store, "cart-1", 0, count=5)
        await append(event_store, "cart-2", 0, count=2)

        async def versions(stream_id: str, from_version: int = 1) -> list[int]:
            records = await event_store.read_stream(stream_id, from_version)
            assert all(r.stream_id == stream_id for r in records)
            return [r.version for r in records]

        assert await versions("cart-1", from_version=3) == [3, 4, 5]
        assert await versions("cart-1", from_version=0) == [1, 2, 3, 4, 5]
        assert await versions("cart-1", from_version=6) == []
        assert await versions("cart-2") == [1, 2]
        assert await versions("cart-9") == []

    async def test_read_all_pages_through_the_log(
        self, event_store: EventStore
    ) -> None:
        for i in range(10):
            await append(event_store, f"cart-{i % 3}", i // 3)
        full = await everything(event_store)

        pages: list[RecordedEvent] = []
        for _ in range(5):
            page = await event_store.read_all(pages[-1].position if pages else 0, 3)
            assert len(page) == min(3, 10 - len(pages))
            pages.extend(page)

        assert pages == full
        assert len(full) == 10
        assert [r.position for r in await event_store.read_all(4, 2)] == [5, 6]
        assert await event_store.read_all(10, 5) == []

    async def test_log_entries_are_the_log_without_its_contents(
        self, event_store: EventLog
    ) -> None:
        for i in range(7):
            await append(event_store, f"cart-{i % 3}", i // 3)
        full = await everything(event_store)

        pages: list[LogEntry] = []
        for _ in range(3):
            after = pages[-1].position if pages else 0
            pages.extend(await event_store.read_entries(after, 3))

        assert pages == [LogEntry(e.position, e.stream_id, e.recorded_at) for e in full]
        assert [e.position for e in await event_store.read_entries(4, 2)] == [5, 6]
        assert await event_store.read_entries(7, 5) == []

    async def test_the_head_is_the_last_event_a_reader_of_the_log_gets(
        self, event_store: EventStore
    ) -> None:
        assert await event_store.head() == 0
        for i in range(5):
            await append(event_store, f"cart-{i % 2}", i // 2)

        full = await everything(event_store)

        assert await event_store.head() == full[-1].position == 5
        assert await event_store.read_all(await event_store.head(), 10) == []

    async def test_positions_start_at_zero_and_keep_what_was_saved(
        self,
        position_store: PositionStore,
    ) -> None:
        assert await position_store.load_position("relay") == 0

        await position_store.save_position("relay", 42)
        await position_store.save_position("other", 7)
        await position_store.save_position("relay", 43)

        assert await position_store.load_position("relay") == 43
        assert await position_store.load_position("other") == 7
        assert await position_store.load_position("unknown") == 0

    async def test_concurrent_appends_to_one_stream_have_one_winner_per_version(
        self,
        event_store: EventStore,
    ) -> None:
        assert await _race([event_store], versions=5, writers=12) == [1] * 5
        stream = await event_store.read_stream("inventory-last")
        assert [r.version for r in stream] == [1, 2, 3, 4, 5]

    async def test_writers_on_separate_handles_have_one_winner_per_version(
        self, event_store: EventStore, open_event_store: Open
    ) -> None:
        stores = [event_store, await open_event_store(), await open_event_store()]

        assert await _race(stores, versions=4, writers=9) == [1] * 4
        log = await everything(event_store)
        assert [r.version for r in log] == [1, 2, 3, 4]
        # Each version was appended after the one before it committed, so positions
        # increase; a loser's rolled-back append may leave a gap (PostgreSQL).
        positions = [r.position for r in log]
        assert positions == sorted(set(positions))

    async def test_a_tailing_reader_sees_every_event_once_in_order(
        self,
        event_store: EventStore,
    ) -> None:
        total = 60
        done = asyncio.Event()

        async def writer(stream: int) -> None:
            for version in range(total // 6):
                await asyncio.sleep(0)
                await append(event_store, f"cart-{stream}", version)

        async def tail() -> list[RecordedEvent]:
            seen: list[RecordedEvent] = []
            while not done.is_set() or len(seen) < total:
                page = await event_store.read_all(seen[-1].position if seen else 0, 7)
                seen.extend(page)
                await asyncio.sleep(0)
            return seen

        reader = asyncio.create_task(tail())
        await asyncio.gather(*(writer(s) for s in range(6)))
        done.set()
        seen = await asyncio.wait_for(reader, 5)

        # Every event exactly once. Under concurrent writers the log order need not
        # be position order (PostgreSQL orders by writing transaction), but each
        # stream's events come in version order.
        assert len(seen) == total == len({r.position for r in seen})
        assert seen == await everything(event_store)
        for stream in range(6):
            versions = [r.version for r in seen if r.stream_id == f"cart-{stream}"]
            assert versions == list(range(1, total // 6 + 1))

    async def test_every_listener_hears_of_an_append_made_once_it_listens(
        self, event_store: EventLog
    ) -> None:
        heard: list[asyncio.Queue[None]] = [asyncio.Queue(), asyncio.Queue()]
        listening = [asyncio.create_task(_listen(event_store, q)) for q in heard]
        try:
            for queue in heard:  # each yields once as it starts listening
                await asyncio.wait_for(queue.get(), HEARING)

            await append(event_store, "cart-1", 0)

            for queue in heard:
                await asyncio.wait_for(queue.get(), HEARING)
        finally:
            for task in listening:
                task.cancel()
            await asyncio.gather(*listening, return_exceptions=True)

    async def test_everything_survives_closing_and_reopening(
        self, event_store: EventLog, open_event_store: Open
    ) -> None:
        await append(event_store, "cart-1", 0, count=2)
        await event_store.append(
            [StreamAppend("order-1", 0, events("OrderPlaced"))], metadata=META
        )
        await event_store.save_position("relay", 3)
        log = await everything(event_store)
        await event_store.close()

        reopened = await open_event_store()

        assert await everything(reopened) == log
        assert await reopened.read_stream("order-1") == log[2:]
        assert await reopened.load_position("relay") == 3
        (added,) = await append(reopened, "cart-1", 2)
        assert (added.version, added.position) == (3, 4)

    async def test_closing_twice_is_harmless(self, event_store: EventStore) -> None:
        await event_store.close()
        await event_store.close()
