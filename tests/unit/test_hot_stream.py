"""Orders for one SKU placed at once take turns in the process instead of
racing into conflicts; each is answered on its own, in the order they came."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import count
from typing import Any

import pytest

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import RuleViolated
from cqrskit.core.messages import Ack, Metadata, RecordedEvent, StreamAppend
from cqrskit.core.turns import StreamTurns
from cqrskit.runtime.bootstrap import CommandSide, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.payments import Card, DeterministicGateway

_ids = count()
CARD = Card("4242424242424242", "12/2099", "123")


def ctx(key: str | None = None) -> CommandContext:
    return CommandContext(
        command_id=f"c{next(_ids)}", correlation_id="t", idempotency_key=key
    )


class NetworkedStore(InMemoryEventStore):
    """Every call gives the loop a turn, as a round trip to a server does."""

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        await asyncio.sleep(0)
        return await super().read_stream(stream_id, from_version)

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        await asyncio.sleep(0)
        return await super().append(appends, metadata=metadata)


async def shop_with_carts(store: InMemoryEventStore, carts: int) -> CommandSide:
    side = command_side(SHOP, store)
    commands = side.commands
    await commands.catalog(ctx(), AddProduct("HOT", "Mug", 500), sku="HOT")
    await commands.restock(ctx(), i.Restock("HOT", 20))
    for n in range(carts):
        await commands.create_cart(ctx(), f"customer-{n}", f"cart-{n}")
        await commands.add_item(ctx(), f"cart-{n}", "HOT", 1)
    return side


async def place_all(side: CommandSide, carts: int) -> list[Ack | BaseException]:
    return await asyncio.gather(
        *(
            side.commands.place_order(ctx(f"key-{n}"), f"cart-{n}", CARD, f"o{n}")
            for n in range(carts)
        ),
        return_exceptions=True,
    )


async def test_thirty_orders_for_twenty_units_each_get_their_own_answer() -> None:
    store = NetworkedStore()
    side = await shop_with_carts(store, 30)

    answers = await place_all(side, 30)

    won = [n for n, a in enumerate(answers) if isinstance(a, Ack)]
    short = [n for n, a in enumerate(answers) if isinstance(a, RuleViolated)]
    assert won == list(range(20))  # first come, first served
    assert short == list(range(20, 30))
    assert side.dispatcher.conflict_retries == 0
    stock = await store.read_stream("inventory-HOT")
    reserved = [r.data["order_id"] for r in stock if r.type == "StockReserved"]
    assert reserved == [f"o{n}" for n in range(20)]  # in the order they came
    gateway = side.commands.gateway
    assert isinstance(gateway, DeterministicGateway)
    assert len(gateway.voided) == 10  # the short ones' authorizations only


async def test_the_same_keys_again_replay_every_answer_and_append_nothing() -> None:
    store = NetworkedStore()
    side = await shop_with_carts(store, 25)
    first = await place_all(side, 25)
    logged = len(await store.read_all(0, 10_000))

    again = await place_all(side, 25)

    assert [a if isinstance(a, Ack) else type(a) for a in again] == [
        a if isinstance(a, Ack) else type(a) for a in first
    ]
    assert len(await store.read_all(0, 10_000)) == logged


async def test_turns_are_first_come_first_served_and_forgotten_after() -> None:
    turns = StreamTurns()
    seen: list[int] = []

    async def writer(n: int, streams: list[str]) -> None:
        async with turns.take(streams):
            await asyncio.sleep(0)
            seen.append(n)

    await asyncio.gather(
        writer(0, ["b", "a"]), writer(1, ["a"]), writer(2, ["a", "b"]), writer(3, [])
    )

    assert [n for n in seen if n != 3] == [0, 1, 2]
    assert len(turns) == 0


async def test_a_writer_that_fails_gives_up_its_turn() -> None:
    turns = StreamTurns()

    async def failing() -> Any:
        async with turns.take(["a"]):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()
    async with asyncio.timeout(1), turns.take(["a"]):
        pass
