"""Twin requests (one Idempotency-Key, one body) sent at once, on every event
store and through two command sides on two handles of it, as two processes
would: exactly one append, every answer equal; and answers stored before the
upgrade to idempotency streams still replay (SQLite; PostgreSQL has its own in
test_postgres_event_store.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import asyncpg
import pytest

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.sqlite import SqliteEventStore
from cqrskit.adapters.sqlite._database import SqliteDatabase
from cqrskit.adapters.sqlite.event_store import _MIGRATIONS
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.idempotency import StoredAnswers, answer_stream
from cqrskit.core.messages import Ack, RecordedEvent
from cqrskit.core.ports import EventStore
from cqrskit.runtime.bootstrap import CommandSide, command_side
from cqrskit.shop.app import shop_application
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.errors import PaymentDeclined
from cqrskit.shop.payments import Card, DeterministicGateway
from cqrskit.shop.service import ShopCommands
from services import POSTGRES_URL, require

Opener = Callable[[], Awaitable[EventStore]]
TWINS = 8
CARD = Card("4242424242424242", "12/2099", "123")
_ids = count()


def ctx(key: str | None = None) -> CommandContext:
    return CommandContext(
        command_id=f"c{next(_ids)}",
        correlation_id="t",
        idempotency_key=key,
        fingerprint="the same request",
    )


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Opener]:
    """Opens handles on one store (the in-memory one has a single handle)."""
    opened: list[EventStore] = []
    schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    memory = InMemoryEventStore()

    async def opener() -> EventStore:
        store: EventStore = memory
        if request.param == "sqlite":
            store = await SqliteEventStore.open(tmp_path / "events.db")
        elif request.param == "postgres":
            url = require(POSTGRES_URL)
            store = await PostgresEventStore.open(url, schema=schema, pool_size=4)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()
    if request.param == "postgres":
        conn = await asyncpg.connect(POSTGRES_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def two_sides(
    open_store: Opener,
) -> tuple[list[CommandSide[ShopCommands]], EventStore]:
    """Two command sides on two handles, sharing one payment gateway, and a
    product with a cart holding one unit of it."""
    gateway = DeterministicGateway(lambda: datetime.now(UTC))
    stores = [await open_store(), await open_store()]
    shop = shop_application(gateway=gateway)
    sides: list[CommandSide[ShopCommands]] = [
        command_side(shop, store) for store in stores
    ]
    commands = sides[0].commands
    await commands.catalog(ctx(), AddProduct("MUG", "Mug", 500), sku="MUG")
    await commands.restock(ctx(), i.Restock("MUG", 5))
    await commands.create_cart(ctx(), "al", "cart-1")
    await commands.add_item(ctx(), "cart-1", "MUG", 1)
    return sides, stores[0]


async def types(store: EventStore, stream_id: str) -> list[str]:
    return [e.type for e in await store.read_stream(stream_id)]


async def test_twin_restocks_append_once_and_answer_alike(open_store: Opener) -> None:
    sides, store = await two_sides(open_store)
    before = len(await store.read_all(0, 1000))

    answers = await asyncio.gather(
        *(
            sides[n % 2].commands.restock(ctx("restock"), i.Restock("MUG", 3))
            for n in range(TWINS)
        )
    )

    assert len(set(answers)) == 1, answers
    assert await types(store, "inventory-MUG") == ["StockAdded", "StockAdded"]
    assert await types(store, answer_stream("restock")) == ["CommandAnswered"]
    assert len(await store.read_all(0, 1000)) == before + 2


async def test_twin_orders_place_one_order_and_hold_one_payment(
    open_store: Opener,
) -> None:
    sides, store = await two_sides(open_store)

    answers = await asyncio.gather(
        *(
            sides[n % 2].commands.place_order(ctx("order"), "cart-1", CARD, None)
            for n in range(TWINS)
        ),
        return_exceptions=True,
    )

    assert all(isinstance(a, Ack) for a in answers), answers
    assert len(set(answers)) == 1
    (order,) = {a.stream_id for a in answers if isinstance(a, Ack)}
    assert await types(store, order) == ["OrderPlaced"]
    reserved = await types(store, "inventory-MUG")
    assert reserved.count("StockReserved") == 1
    gateway = sides[0].commands.gateway
    assert isinstance(gateway, DeterministicGateway)
    assert len(gateway.holds) == 1, "one payment held, the twins' voided"


async def test_a_declined_answer_replays_without_asking_the_gateway(
    open_store: Opener,
) -> None:
    sides, store = await two_sides(open_store)
    declined = Card("4000000000000002", "12/2099", "123")
    place = sides[1].commands.place_order

    with pytest.raises(PaymentDeclined) as first:
        await place(ctx("declined"), "cart-1", declined, "o-1")
    logged = await store.read_all(0, 1000)
    with pytest.raises(PaymentDeclined) as again:
        await place(ctx("declined"), "cart-1", CARD, "o-1")  # not even this card

    assert again.value.detail == first.value.detail
    assert await store.read_all(0, 1000) == logged
    assert await types(store, "order-o-1") == ["PaymentDeclined"]


async def test_sqlite_answers_stored_before_the_upgrade_still_replay(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    old = await SqliteDatabase.open(path, "event_store", _MIGRATIONS[:2])
    await old.close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO events (stream_id, version, type, schema_version, data,"
            " metadata, recorded_at) VALUES ('order-1', 1, 'OrderPlaced', 1, '{}',"
            " '{}', '2024-05-01T10:00:00.000000Z')"
        )
        conn.executemany(
            "INSERT INTO idempotency VALUES (?, 'fp', 'order-1', 1, 1,"
            " '[[\"order-1\", 1]]', ?, ?)",
            [("k-placed", None, None), ("k-declined", "PaymentDeclined", "no funds")],
        )

    store = await SqliteEventStore.open(path)
    try:
        answers = StoredAnswers(store, {"PaymentDeclined": PaymentDeclined})
        assert await answers.replay("k-placed", "fp") == Ack(
            "order-1", 1, 1, (("order-1", 1),)
        )
        with pytest.raises(PaymentDeclined, match="no funds"):
            await answers.replay("k-declined", "fp")
        (moved,) = await store.read_stream(answer_stream("k-placed"))
        assert _is_utc_event(moved)
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:  # left for processes of the old version
        assert conn.execute("SELECT count(*) FROM idempotency").fetchone() == (2,)


def _is_utc_event(event: RecordedEvent) -> bool:
    return event.type == "CommandAnswered" and event.recorded_at.utcoffset() is not None
