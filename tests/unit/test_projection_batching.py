"""A projector applies a partition's batch with one bulk read of the views it
needs, not a read per event (DESIGN.md: a batch in one round trip)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cqrskit.adapters.memory import InMemoryEventStore, InMemoryReadStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.ports import VersionMove, ViewChanges
from cqrskit.core.projection import ProjectionRunner, View
from cqrskit.runtime import bootstrap
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.domain.inventory import Restock
from cqrskit.shop.queries import ShopQueries
from cqrskit.shop.views import shop_projections


class CountingReadStore(InMemoryReadStore):
    def __init__(self) -> None:
        super().__init__()
        self.single_reads = 0
        self.bulk_reads = 0

    async def get(self, key: str) -> bytes | None:
        self.single_reads += 1
        return await super().get(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self.bulk_reads += 1
        return await super().get_many(keys)


def ctx(n: int) -> CommandContext:
    return CommandContext(command_id=f"c{n}", correlation_id="batch")


async def test_a_batch_reads_its_views_in_one_bulk_read() -> None:
    events = InMemoryEventStore()
    commands = bootstrap.command_side(SHOP, events).commands
    for n in range(20):
        sku = f"SKU-{n}"
        await commands.catalog(ctx(n), AddProduct(sku, f"P{n}", 100), sku=sku)
        for k in range(5):
            await commands.restock(ctx(n * 10 + k), Restock(sku, 1))
    log = await events.read_all(0, 1000)
    views = CountingReadStore()
    runner = ProjectionRunner(shop_projections(shop_codec()), views)

    await runner.handle(0, log)

    assert (views.single_reads, views.bulk_reads) == (0, 1)
    product = await ShopQueries(views).product("SKU-7")
    assert b'"available":5' in product


class CountingCommits(InMemoryReadStore):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[dict[str, bytes | None]] = []

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        self.written.append(dict(changes.docs))
        await super().commit(projection, changes, versions)


async def test_a_batch_of_many_events_on_one_view_writes_what_one_by_one_does() -> None:
    events = InMemoryEventStore()
    commands = bootstrap.command_side(SHOP, events).commands
    sku = "SKU-1"
    await commands.catalog(ctx(0), AddProduct(sku, "P", 100), sku=sku)
    for k in range(6):
        await commands.restock(ctx(k + 1), Restock(sku, k + 1))
    log = await events.read_all(0, 1000)
    at_once, one_by_one = CountingCommits(), CountingCommits()

    await ProjectionRunner(shop_projections(shop_codec()), at_once).handle(0, log)
    for event in log:
        runner = ProjectionRunner(shop_projections(shop_codec()), one_by_one)
        await runner.handle(0, [event])

    assert len(at_once.written) == 1  # the whole batch in one commit
    assert at_once.written[0] == one_by_one.written[0] | one_by_one.written[-1]
    assert at_once.written[0][f"stock:{sku}"] == b'{"available":21}'


async def test_a_json_document_reads_back_as_put_and_bytes_put_later_win() -> None:
    view = View(InMemoryReadStore())
    view.put_json("a", {"n": 1})
    doc = await view.get_json("a")
    doc["n"] = 2
    view.put_json("a", doc)

    assert await view.get("a") == b'{"n":2}'
    view.put("a", b'{"n":3}')
    assert await view.get_json("a") == {"n": 3}
    assert view.changes.docs == {"a": b'{"n":3}'}
