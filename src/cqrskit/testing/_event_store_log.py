"""The part of the EventStore contract on the log's entries and head, the
PositionStore, concurrent writers and readers, the feed of commits, and a
handle's life."""

from __future__ import annotations

import asyncio
import random

import pytest

from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import LogEntry, RecordedEvent, StreamAppend
from cqrskit.core.ports import EventLog, EventStore, PositionStore
from cqrskit.testing._event_store_fixtures import (
    META,
    EventStoreFixtures,
    Open,
    append,
    events,
    everything,
)


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


class LogContract(EventStoreFixtures):
    """The log and positions, concurrency, the commit feed, closing and
    reopening (composed into EventStoreContract, which carries the asyncio
    mark)."""

    @pytest.fixture
    def position_store(self, event_store: EventLog) -> PositionStore:
        return event_store

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
