"""Two command processes (two dispatchers, two pools) order the same SKU at
once on PostgreSQL: each takes turns within itself, the append's version
check settles races between them, and every acknowledged order is reserved
exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from itertools import count

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import RuleViolated
from cqrskit.core.messages import Ack
from cqrskit.core.snapshots import SnapshotPolicy
from cqrskit.runtime.bootstrap import CommandSide, FoldMemory, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import Card
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration

CARD = Card("4242424242424242", "12/2099", "123")
MEMORY = FoldMemory(cache_size=100, snapshots=SnapshotPolicy(every=5, slow_load=0))
_ids = count()


def ctx() -> CommandContext:
    return CommandContext(command_id=f"c{next(_ids)}", correlation_id="hot")


@pytest.fixture
async def stores() -> AsyncIterator[list[PostgresEventStore]]:
    url = require(POSTGRES_URL)
    schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    opened = [
        await PostgresEventStore.open(url, schema=schema, pool_size=4) for _ in range(3)
    ]
    yield opened
    for store in opened:
        await store.close()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def seed(side: CommandSide, carts: int) -> None:
    await side.commands.catalog(ctx(), AddProduct("HOT", "Mug", 500), sku="HOT")
    await side.commands.restock(ctx(), i.Restock("HOT", 30))
    for n in range(carts):
        await side.commands.create_cart(ctx(), f"customer-{n}", f"cart-{n}")
        await side.commands.add_item(ctx(), f"cart-{n}", "HOT", 1)


async def test_two_processes_ordering_one_sku_reserve_each_acked_order_once(
    stores: list[PostgresEventStore],
) -> None:
    one, two, cold = (command_side(SHOP, s, memory=MEMORY) for s in stores)
    await seed(one, 60)

    async def order(side: CommandSide, n: int) -> Ack | BaseException:
        try:
            return await side.commands.place_order(ctx(), f"cart-{n}", CARD, f"o{n}")
        except RuleViolated as e:
            return e

    async def restock(side: CommandSide) -> None:
        await side.commands.restock(ctx(), i.Restock("HOT", 1))

    answers = await asyncio.gather(
        *(order(one if n % 2 else two, n) for n in range(60)),
        *(restock(one if n % 2 else two) for n in range(10)),
    )
    for side in (one, two):
        await side.drain()

    acked = {f"o{n}" for n, a in enumerate(answers[:60]) if isinstance(a, Ack)}
    refused = [a for a in answers[:60] if isinstance(a, RuleViolated)]
    assert len(acked) + len(refused) == 60
    records = await stores[0].read_stream("inventory-HOT")
    reserved = [r.data["order_id"] for r in records if r.type == "StockReserved"]
    assert sorted(reserved) == sorted(acked)  # each acked order once, no other
    # A refusal means the stock was out then, so the first 30 units all went.
    assert 30 <= len(acked) <= 40
    codec = shop_codec()
    whole = i.inventory_decider.fold(codec.decode(r) for r in records)
    assert (whole.available, whole.reserved) == (40 - len(acked), len(acked))
    fold = cold.dispatcher.loader.fold_name(i.inventory_decider)
    assert await stores[2].load_snapshot("inventory-HOT", fold) is not None
    from_snapshot = await cold.dispatcher.session().load(
        "inventory-HOT", i.inventory_decider
    )
    assert from_snapshot == whole
