"""The SnapshotStore contract: every event store adapter of the kit runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cqrskit.core.ports import Snapshot, SnapshotStore
from cqrskit.testing.event_store import EventStoreFixtures

Open = Callable[[], Awaitable[Any]]
STATE = {"available": 3, "reserved": 2, "by_order": {"o-1": 2}}


def snap(version: int, fold: str = "inventory/2/a", **state: Any) -> Snapshot:
    return Snapshot("inventory-SKU-1", fold, version, version * 10, STATE | state)


class SnapshotStoreContract(EventStoreFixtures):
    """What every SnapshotStore promises (the kit's event stores all are one)."""

    pytestmark = pytest.mark.asyncio

    async def test_every_event_store_keeps_snapshots(self, event_store: Any) -> None:
        assert isinstance(event_store, SnapshotStore)

    async def test_a_stream_without_a_snapshot_has_none(
        self, event_store: SnapshotStore
    ) -> None:
        assert (
            await event_store.load_snapshot("inventory-SKU-1", "inventory/2/a") is None
        )

    async def test_a_saved_snapshot_loads_as_it_was_saved(
        self,
        event_store: SnapshotStore,
    ) -> None:
        await event_store.save_snapshot(snap(7))

        assert await event_store.load_snapshot(
            "inventory-SKU-1", "inventory/2/a"
        ) == snap(7)

    async def test_a_later_snapshot_replaces_an_earlier_one_never_the_reverse(
        self,
        event_store: SnapshotStore,
    ) -> None:
        await event_store.save_snapshot(snap(5, available=5))
        await event_store.save_snapshot(snap(9, available=9))
        await event_store.save_snapshot(snap(6, available=6))  # a slower writer

        kept = await event_store.load_snapshot("inventory-SKU-1", "inventory/2/a")
        assert kept == snap(9, available=9)

    async def test_a_snapshot_of_another_fold_is_not_read(
        self,
        event_store: SnapshotStore,
    ) -> None:
        await event_store.save_snapshot(snap(9, fold="inventory/1/a"))
        await event_store.save_snapshot(snap(4, fold="inventory/2/a"))

        assert (
            await event_store.load_snapshot("inventory-SKU-1", "inventory/3/a") is None
        )
        kept = await event_store.load_snapshot("inventory-SKU-1", "inventory/2/a")
        assert kept is not None and kept.version == 4

    async def test_changing_a_saved_state_afterwards_changes_nothing_kept(
        self,
        event_store: SnapshotStore,
    ) -> None:
        saved = snap(3)
        await event_store.save_snapshot(saved)
        saved.state["available"] = 1000

        kept = await event_store.load_snapshot("inventory-SKU-1", "inventory/2/a")
        assert kept is not None and kept.state["available"] == 3

    async def test_concurrent_writers_leave_the_highest_version(
        self, event_store: SnapshotStore, open_event_store: Open
    ) -> None:
        stores = [event_store, await open_event_store(), await open_event_store()]
        await asyncio.gather(
            *(stores[v % 3].save_snapshot(snap(v, available=v)) for v in range(1, 31))
        )

        for store in stores:
            kept = await store.load_snapshot("inventory-SKU-1", "inventory/2/a")
            assert kept == snap(30, available=30)
