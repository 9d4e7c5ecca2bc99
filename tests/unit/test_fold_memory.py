"""The command side loads from its cache or a snapshot and reads only the
events after it (and a stream it only reads, not at all, the append checking
it), and stays right when another process writes the same stream."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from itertools import count
from typing import Any

import pytest

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import Conflict, NotFound, RuleViolated
from cqrskit.core.messages import JsonDict, Metadata, RecordedEvent, StreamAppend
from cqrskit.core.ports import Snapshot
from cqrskit.core.snapshots import SnapshotPolicy, fold_name
from cqrskit.runtime.bootstrap import CommandSide, FoldMemory, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct, DiscontinueProduct
from cqrskit.shop.domain.events import shop_codec

STOCK = i.inventory_stream("SKU-1")
_ids = count()
NO_SNAPSHOTS = SnapshotPolicy(every=0, slow_load=0)


def ctx() -> CommandContext:
    return CommandContext(command_id=f"c{next(_ids)}", correlation_id="t")


class WatchedStore(InMemoryEventStore):
    """Counts the reads and the events they return; can run a rival's write
    just before the next append (another process that got there first)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.events_read = 0
        self.before_next_append: Callable[[], Awaitable[None]] | None = None

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        records = await super().read_stream(stream_id, from_version)
        self.reads += 1
        self.events_read += len(records)
        return records

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        rival, self.before_next_append = self.before_next_append, None
        if rival is not None:
            await rival()
        return await super().append(appends, metadata=metadata)


def side(store: InMemoryEventStore, memory: FoldMemory | None = None) -> CommandSide:
    return command_side(SHOP, store, memory=memory or FoldMemory())


async def restock(side: CommandSide, quantity: int = 1) -> None:
    await side.commands.restock(ctx(), i.Restock("SKU-1", quantity))


async def stock_of(store: InMemoryEventStore) -> i.Stock:
    codec = shop_codec()
    records = await store.read_stream(STOCK)
    return i.inventory_decider.fold(codec.decode(r) for r in records)


async def with_product(store: InMemoryEventStore) -> CommandSide:
    first = side(store)
    await first.commands.catalog(ctx(), AddProduct("SKU-1", "Mug", 500), sku="SKU-1")
    return first


async def test_a_warm_command_reads_only_the_events_written_since() -> None:
    store = WatchedStore()
    writer = await with_product(store)
    for _ in range(30):
        await restock(writer)
    store.events_read = 0

    await restock(writer)

    assert store.events_read == 0  # product and stock both cached and current
    assert (await stock_of(store)).available == 31


async def test_another_process_s_writes_are_read_not_missed() -> None:
    store = WatchedStore()
    one = await with_product(store)
    other = side(store)
    await restock(one, 5)
    await restock(other, 7)  # one's cached stock is now behind
    store.events_read = 0

    await restock(one, 1)

    assert store.events_read == 1  # the rival's event, nothing older
    assert (await stock_of(store)).available == 13


async def test_a_warm_restock_reads_the_stock_and_not_the_product() -> None:
    store = WatchedStore()
    writer = await with_product(store)
    await restock(writer)
    store.reads = 0

    await restock(writer)

    assert store.reads == 1  # the product is checked by the append instead


async def test_a_product_another_process_discontinued_is_not_restocked() -> None:
    store = WatchedStore()
    one = await with_product(store)
    await restock(one)  # one's cache holds the product, active
    other = side(store)
    await other.commands.catalog(ctx(), DiscontinueProduct("SKU-1"), sku="SKU-1")

    with pytest.raises(RuleViolated, match="discontinued"):
        await restock(one)

    assert one.dispatcher.conflict_retries == 1  # the stale product, read again
    assert (await stock_of(store)).available == 1


async def test_a_product_another_process_added_since_is_restocked() -> None:
    store = WatchedStore()
    one = side(store)
    with pytest.raises(NotFound):
        await restock(one)  # one has now seen SKU-1 as never added
    await with_product(store)  # another process adds it

    await restock(one)

    assert (await stock_of(store)).available == 1


async def test_a_conflict_with_another_process_is_retried_on_the_newer_state() -> None:
    store = WatchedStore()
    one = await with_product(store)
    other = side(store)
    await restock(one, 1)

    async def rival() -> None:
        await restock(other, 10)

    store.before_next_append = rival
    await restock(one, 100)

    assert one.dispatcher.conflict_retries == 1
    assert (await stock_of(store)).available == 111


async def test_a_create_appends_without_reading_and_still_refuses_a_twin() -> None:
    store = WatchedStore()
    writer = side(store)
    other = side(store)  # another process: its cache does not know the cart

    await writer.commands.create_cart(ctx(), "customer-1", "cart-1")
    reads_for_a_new_cart = store.reads
    with pytest.raises(Conflict, match="already exists"):
        await other.commands.create_cart(ctx(), "customer-2", "cart-1")

    assert reads_for_a_new_cart == 0
    assert len(await store.read_stream("cart-cart-1")) == 1


async def test_a_new_process_loads_the_snapshot_and_reads_only_the_tail() -> None:
    store = WatchedStore()
    policy = SnapshotPolicy(every=10, slow_load=0)
    writer = side(store, FoldMemory(cache_size=0, snapshots=policy))
    await writer.commands.catalog(ctx(), AddProduct("SKU-1", "Mug", 500), sku="SKU-1")
    for _ in range(25):
        await restock(writer)
    await writer.drain()
    fresh = side(store, FoldMemory(cache_size=0, snapshots=policy))
    store.events_read = 0

    await restock(fresh)

    assert 1 <= store.events_read < 10
    assert (await stock_of(store)).available == 26


async def plant(store: InMemoryEventStore, state: JsonDict) -> None:
    """A snapshot that disagrees with the events: it shows whether it is read."""
    fold = fold_name(i.inventory_decider, shop_codec())
    await store.save_snapshot(Snapshot(STOCK, fold, 1, 2, state))


async def test_a_snapshot_is_read_only_by_the_fold_that_made_it() -> None:
    store = InMemoryEventStore()
    writer = await with_product(store)
    await restock(writer, 1)
    await plant(store, {"available": 1000, "reserved": 0, "by_order": {}})
    policy = FoldMemory(cache_size=0, snapshots=NO_SNAPSHOTS)

    trusting = side(store, FoldMemory(cache_size=0))
    upcasting_codec = shop_codec()
    upcasting_codec.register_upcaster("StockAdded", 1, lambda data: data)
    upcasting = dataclasses.replace(SHOP, codec=upcasting_codec)
    changed = command_side(upcasting, store, memory=policy)

    state_by_trusting = await trusting.dispatcher.session().load(
        STOCK, i.inventory_decider
    )
    state_after_new_schema = await changed.dispatcher.session().load(
        STOCK, i.inventory_decider
    )
    assert state_by_trusting.available == 1000  # the planted snapshot was used
    assert state_after_new_schema.available == 1  # folded from the events


class FailingSnapshots(InMemoryEventStore):
    async def save_snapshot(self, snapshot: Snapshot) -> None:
        raise OSError("disk full")

    async def load_snapshot(self, stream_id: str, fold: str) -> Any:
        raise OSError("disk full")


async def test_a_failing_snapshot_store_fails_no_command() -> None:
    store = FailingSnapshots()
    policy = SnapshotPolicy(every=1, slow_load=0)
    writer = side(store, FoldMemory(cache_size=0, snapshots=policy))
    await writer.commands.catalog(ctx(), AddProduct("SKU-1", "Mug", 500), sku="SKU-1")

    for _ in range(3):
        await restock(writer)
    await writer.drain()

    assert (await stock_of(store)).available == 3
