"""The part of the EventStore contract on what an append writes and what it
refuses, and on reading streams and the log back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import NewEvent, RecordedEvent, StreamAppend
from cqrskit.core.ports import EventStore
from cqrskit.testing._event_store_fixtures import (
    META,
    EventStoreFixtures,
    append,
    events,
    everything,
)


class AppendContract(EventStoreFixtures):
    """Appends, their version checks, and reads of a stream and of the log
    (composed into EventStoreContract, which carries the asyncio mark)."""

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
