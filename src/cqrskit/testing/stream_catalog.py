"""The StreamCatalog contract: every event store adapter of the kit runs it."""

from __future__ import annotations

from typing import Any

import pytest

from cqrskit.core.messages import Metadata, StreamAppend
from cqrskit.core.ports import StreamCatalog, StreamSummary
from cqrskit.testing.event_store import EventStoreFixtures, append


class StreamCatalogContract(EventStoreFixtures):
    """What every StreamCatalog promises (the kit's event stores all are one)."""

    pytestmark = pytest.mark.asyncio

    async def test_every_event_store_lists_its_streams(self, event_store: Any) -> None:
        assert isinstance(event_store, StreamCatalog)

    async def test_streams_are_listed_by_id_with_their_last_version(
        self, event_store: Any
    ) -> None:
        await append(event_store, "order-2", 0, count=3)
        await append(event_store, "cart-1", 0, count=2)
        await append(event_store, "order-1", 0)
        await append(event_store, "order-2", 3)

        assert await event_store.streams() == [
            StreamSummary("cart-1", 2),
            StreamSummary("order-1", 1),
            StreamSummary("order-2", 4),
        ]

    async def test_a_stream_only_checked_is_not_listed(self, event_store: Any) -> None:
        await append(event_store, "cart-1", 0)
        await event_store.append(
            [StreamAppend("product-1", 0, [])], metadata=Metadata()
        )  # an append of no events checks the version alone

        assert await event_store.streams() == [StreamSummary("cart-1", 1)]

    async def test_a_prefix_chooses_and_after_pages(self, event_store: Any) -> None:
        for n in range(1, 6):
            await append(event_store, f"order-{n}", 0)
        await append(event_store, "cart-1", 0)
        await append(event_store, "ordinal-1", 0)

        first = await event_store.streams("order-", limit=2)
        rest = await event_store.streams("order-", after=first[-1].stream_id, limit=9)

        assert [s.stream_id for s in first] == ["order-1", "order-2"]
        assert [s.stream_id for s in rest] == ["order-3", "order-4", "order-5"]
        assert await event_store.streams("nothing-") == []

    async def test_a_page_of_a_stream_reads_only_that_page(
        self, event_store: Any
    ) -> None:
        await append(event_store, "cart-1", 0, count=5)
        await append(event_store, "cart-2", 0, count=3)

        async def versions(from_version: int, limit: int) -> list[int]:
            page = await event_store.read_stream_page("cart-1", from_version, limit)
            assert all(r.stream_id == "cart-1" for r in page)
            return [r.version for r in page]

        assert await versions(1, 2) == [1, 2]
        assert await versions(3, 9) == [3, 4, 5]
        assert await versions(6, 2) == []
        assert await event_store.read_stream_page("cart-9", 1, 5) == []
