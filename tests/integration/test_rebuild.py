"""Read models are disposable (DESIGN.md rule 1): a random shop history is made
through the real command side and projected live; then views are deleted,
garbled and invented; a rebuild from the event store gives back every query
answer, takes in what was appended while it ran, and leaves alone the
projections it was not asked to rebuild."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from cqrskit.adapters.memory import InMemoryEventStore, InMemoryReadStore
from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import CqrskitError, NotFound
from cqrskit.core.messages import Metadata, RecordedEvent, StreamAppend
from cqrskit.core.ports import (
    EventStore,
    IndexEntry,
    ReadStore,
    VersionMove,
    ViewChanges,
)
from cqrskit.core.projection import Projection, ProjectionRunner
from cqrskit.core.rebuild import RebuildableStore, rebuild
from cqrskit.runtime.bootstrap import CommandSide, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain import orders as o
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import APPROVE_CARD, DECLINE_CARD, Card
from cqrskit.shop.queries import ShopQueries
from cqrskit.shop.views import (
    CATALOG_INDEX,
    cart_key,
    history_index,
    order_key,
    product_key,
    shop_projections,
)
from services import POSTGRES_URL, REDIS_URL, require

CUSTOMERS = ["alice", "bob", "carol"]
CATEGORIES = ["", "kitchen", "home"]
NAMES = ["Red Mug", "green tea", "Desk lamp", "50% Off_Hat"]
NEEDLES = ["a", "LAMP", "%", "_"]


def projections() -> list[Projection]:
    return shop_projections(shop_codec())


# --- the stores -------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
async def event_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
    elif request.param == "sqlite":
        sqlite = await SqliteEventStore.open(tmp_path / "events.sqlite")
        yield sqlite
        await sqlite.close()
    else:
        url = require(POSTGRES_URL)
        schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
        postgres = await PostgresEventStore.open(url, schema=schema, pool_size=4)
        try:
            yield postgres
        finally:
            await postgres.close()
            conn = await asyncpg.connect(url)
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.close()


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("sqlite"),
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
async def read_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[RebuildableStore]:
    if request.param == "memory":
        yield InMemoryReadStore()
    elif request.param == "sqlite":
        sqlite = await SqliteReadStore.open(tmp_path / "views.sqlite")
        yield sqlite
        await sqlite.close()
    else:
        namespace = f"test-rebuild-{uuid.uuid4().hex[:12]}"
        redis = await RedisReadStore.open(require(REDIS_URL), namespace=namespace)
        try:
            yield redis
        finally:
            await redis.purge()
            await redis.close()


# --- a random shop history, made through the real command side --------------------


class Shopper:
    """Runs random commands, mostly ones the shop accepts (refused ones are
    skipped: still a valid history), and remembers every id it used."""

    def __init__(self, store: EventStore, seed: int) -> None:
        start = datetime(2030, 1, 1, tzinfo=UTC)
        ticks = itertools.count()
        self.side: CommandSide = command_side(
            SHOP, store, clock=lambda: start + timedelta(seconds=next(ticks))
        )
        self.rng = random.Random(seed)
        self.skus: list[str] = []
        self.discontinued: set[str] = set()
        self.carts: dict[str, set[str]] = {}  # every cart -> the SKUs in it
        self.checked_out: set[str] = set()
        self.orders: list[str] = []  # every order id tried, declined ones too
        self.placed: list[str] = []
        self._ids = itertools.count()

    def _ctx(self) -> CommandContext:
        """Every other command under a key of its own: the log then holds
        answer streams (`idempotency-…`) that no projection reads."""
        n = next(self._ids)
        key = f"key-{n}" if n % 2 else None
        return CommandContext(
            command_id=f"cmd-{n}", correlation_id="t", idempotency_key=key
        )

    async def run(self, commands: int) -> None:
        steps = [
            (self.add_product, 2),
            (self.change_product, 3),
            (self.restock, 4),
            (self.create_cart, 2),
            (self.add_item, 6),
            (self.change_cart, 2),
            (self.place_order, 3),
            (self.ship_or_cancel, 2),
        ]
        for _ in range(commands):
            (step,) = self.rng.choices(
                [s for s, _ in steps], weights=[w for _, w in steps]
            )
            try:
                await step()
            except CqrskitError:
                continue

    def _any(self, items: Sequence[str], fallback: str = "nope") -> str:
        return self.rng.choice(items) if items else fallback

    async def add_product(self, sku: str | None = None) -> None:
        if sku is None and len(self.skus) >= 8:
            return
        sku = sku or f"SKU-{len(self.skus)}"
        name, category = self.rng.choice(NAMES), self.rng.choice(CATEGORIES)
        command = p.AddProduct(sku, name, self.rng.randint(1, 900), "", category)
        await self.side.commands.catalog(self._ctx(), command, sku=sku)
        self.skus.append(sku)

    async def change_product(self) -> None:
        sku = self._any(self.skus)
        command = self.rng.choice(
            [
                p.RenameProduct(sku, self.rng.choice(NAMES)),
                p.ChangePrice(sku, self.rng.randint(1, 900)),
            ]
        )
        if self.rng.random() < 0.1:
            command = p.DiscontinueProduct(sku)
        await self.side.commands.catalog(self._ctx(), command, sku=sku)
        if isinstance(command, p.DiscontinueProduct):
            self.discontinued.add(sku)

    async def restock(self) -> None:
        command = i.Restock(self._any(self._active()), self.rng.randint(3, 12))
        await self.side.commands.restock(self._ctx(), command)

    async def create_cart(self) -> None:
        cart_id = f"cart-{len(self.carts)}"
        customer = self.rng.choice(CUSTOMERS)
        await self.side.commands.create_cart(self._ctx(), customer, cart_id)
        self.carts[cart_id] = set()

    def _active(self) -> list[str]:
        return [sku for sku in self.skus if sku not in self.discontinued]

    def _open_cart(self, filled: bool = False) -> str:
        carts = [
            cart
            for cart, skus in self.carts.items()
            if cart not in self.checked_out and (skus or not filled)
        ]
        return self._any(carts)

    async def add_item(self) -> None:
        cart_id, sku = self._open_cart(), self._any(self._active())
        quantity = self.rng.randint(1, 3)
        await self.side.commands.add_item(self._ctx(), cart_id, sku, quantity)
        self.carts[cart_id].add(sku)

    async def change_cart(self) -> None:
        cart_id = self._open_cart(filled=True)
        sku = self._any(sorted(self.carts.get(cart_id, ())))
        if self.rng.random() < 0.6:
            command: object = c.ChangeQuantity(cart_id, sku, self.rng.randint(1, 4))
        else:
            command = c.RemoveItem(cart_id, sku)
        await self.side.commands.cart(self._ctx(), command, cart_id=cart_id)
        if isinstance(command, c.RemoveItem):
            self.carts[cart_id].discard(sku)

    async def place_order(self) -> None:
        cart_id, order_id = self._open_cart(filled=True), f"order-{len(self.orders)}"
        self.orders.append(order_id)
        for sku in sorted(self.carts.get(cart_id, ())):
            if self.rng.random() < 0.7:  # mostly there is enough stock
                await self.side.commands.restock(self._ctx(), i.Restock(sku, 3))
        number = self.rng.choice([APPROVE_CARD, APPROVE_CARD, DECLINE_CARD])
        card = Card(number, "12/2099", "123")
        await self.side.commands.place_order(self._ctx(), cart_id, card, order_id)
        self.checked_out.add(cart_id)
        self.placed.append(order_id)

    async def ship_or_cancel(self) -> None:
        order_id = self._any(self.placed)
        if self.rng.random() < 0.5:
            await self.side.commands.ship_order(self._ctx(), order_id)
        else:
            await self.side.commands.cancel_order(self._ctx(), order_id, "no")


async def deliver(store: EventStore, runner: ProjectionRunner, after: int) -> int:
    """What relay and broker do: the log, in batches, to a projector."""
    while events := await store.read_all(after, 7):
        await runner.handle(0, events)
        after = events[-1].position
    return after


# --- every answer the query side gives ----------------------------------------------


async def _one(answer: Awaitable[bytes]) -> bytes | None:
    try:
        return await answer
    except NotFound:
        return None


async def _pages(query: Callable[..., Awaitable[bytes]], **args: Any) -> list[bytes]:
    """Every page, following next_cursor (small pages, so cursors are used)."""
    pages = [await query(**args, cursor=None)]
    while cursor := orjson.loads(pages[-1])["next_cursor"]:
        pages.append(await query(**args, cursor=cursor))
    return pages


async def answers(store: ReadStore, shop: Shopper) -> dict[str, Any]:
    q = ShopQueries(store)
    got: dict[str, Any] = {}
    for sku in [*shop.skus, "ghost"]:
        got[f"product {sku}"] = await _one(q.product(sku))
    for cart_id in shop.carts:
        got[f"cart {cart_id}"] = await _one(q.cart(cart_id))
    for order_id in shop.orders:
        got[f"order {order_id}"] = await _one(q.order(order_id))
    for who in CUSTOMERS:
        got[f"history {who}"] = await _pages(
            q.customer_orders, customer_id=who, limit=2
        )
    for category in CATEGORIES:
        got[f"catalog {category}"] = await _pages(
            q.products, q=None, category=category or None, limit=2
        )
    for needle in NEEDLES:
        got[f"search {needle}"] = await _pages(
            q.products, q=needle, category=None, limit=3
        )
    return got


async def fresh_answers(store: EventStore, shop: Shopper) -> dict[str, Any]:
    """The answers of views projected from the whole log into an empty store."""
    views = InMemoryReadStore()
    await deliver(store, ProjectionRunner(projections(), views, store), 0)
    return await answers(views, shop)


async def vandalize(store: ReadStore, shop: Shopper) -> None:
    """Views deleted, garbled and invented, and a checkpoint moved past the end
    of its stream: what a bug or a hand-edit could leave behind."""
    cart = c.cart_stream(next(iter(shop.carts)))
    (moved,) = (await store.stream_versions("carts", [cart])).values()
    placed = [x for x in shop.orders if await store.get(order_key(x)) is not None]
    await store.commit(
        "carts",
        ViewChanges(
            docs={
                product_key(shop.skus[0]): None,
                product_key(shop.skus[1]): b'{"sku":"garbled"}',
                product_key("ghost"): b'{"sku":"ghost"}',
                cart_key(next(iter(shop.carts))): b'{"items":"garbled"}',
                order_key(placed[0]): None,
            },
            index_puts={
                (CATALOG_INDEX, "ghost"): IndexEntry("ghost", "ghost", "ghost"),
                (history_index("alice"), "ghost"): IndexEntry("ghost", "9999"),
            },
            index_removes={(CATALOG_INDEX, shop.skus[2])},
        ),
        {cart: VersionMove(moved, moved + 100)},
    )


# --- the event store as the rebuild sees it -----------------------------------------


class AppendsWhileRead:
    """Passes everything to `store`; runs the commands queued in `next_read`
    before its next read of the log, and those in `at_end` right after a read
    that found the end of the log: their events come after the replay finished,
    so only the rebuild's catch-up pass can see them."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.next_read: list[Callable[[], Awaitable[None]]] = []
        self.at_end: list[Callable[[], Awaitable[None]]] = []

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        while self.next_read:
            await self.next_read.pop(0)()
        events = await self._store.read_all(after, limit)
        while not events and self.at_end:
            await self.at_end.pop(0)()
        return events

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        return await self._store.append(appends, metadata=metadata)

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        return await self._store.read_stream(stream_id, from_version)

    async def close(self) -> None:
        await self._store.close()


# --- the tests ----------------------------------------------------------------------


async def live_shop(
    events: EventStore, views: ReadStore, seed: int
) -> tuple[Shopper, ProjectionRunner, int]:
    """A history made in rounds, each delivered to a live projector."""
    shop = Shopper(events, seed)
    for sku in ("SKU-a", "SKU-b", "SKU-c"):
        await shop.add_product(sku)
    runner = ProjectionRunner(projections(), views, events)
    position = 0
    for _ in range(6):
        await shop.run(20)
        position = await deliver(events, runner, position)
    return shop, runner, position


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_rebuild_gives_back_every_answer_and_what_came_meanwhile(
    event_store: EventStore,
    read_store: RebuildableStore,
    seed: int,
    request: pytest.FixtureRequest,
) -> None:
    shop, runner, position = await live_shop(event_store, read_store, seed)
    before = await answers(read_store, shop)
    log = await event_store.read_all(0, 100_000)
    assert before == await fresh_answers(event_store, shop)
    assert any(before[f"order {x}"] for x in shop.orders), "no order was placed"
    await vandalize(read_store, shop)
    assert await answers(read_store, shop) != before

    reports: list[tuple[int, int]] = []
    total = await rebuild(
        event_store,
        read_store,
        projections(),
        page=25,
        progress=lambda *r: reports.append(r),
    )

    assert await answers(read_store, shop) == before
    assert total == len(log)
    assert len(reports) >= -(-len(log) // 25)
    assert reports[-1] == (len(log), log[-1].position)
    assert reports == sorted(reports)

    # Again, with commands running while the rebuild reads the log.
    await vandalize(read_store, shop)
    store = AppendsWhileRead(event_store)
    late: list[int] = []
    armed: list[bool] = []

    async def at_end() -> None:
        late.append(len(await event_store.read_all(0, 100_000)))
        await shop.add_product("SKU-late")
        await shop.run(15)

    def progress(done: int, reached: int) -> None:
        if not armed:
            armed.append(True)
            store.next_read.append(lambda: shop.run(15))
            store.at_end.append(at_end)
        reports.append((done, reached))

    await rebuild(store, read_store, projections(), page=25, progress=progress)

    now = await fresh_answers(event_store, shop)
    after = await event_store.read_all(0, 100_000)
    assert len(after) > late[0], "the commands after the replay appended nothing"
    assert now["product SKU-late"] is not None
    assert await answers(read_store, shop) == now
    assert reports[-1] == (len(after), after[-1].position)

    # The live projector goes on: what it is delivered again is a duplicate,
    # and what comes next is applied (the garbled checkpoint was replaced).
    await deliver(event_store, runner, position)
    await shop.run(30)
    await deliver(event_store, runner, after[-1].position)
    assert await answers(read_store, shop) == await fresh_answers(event_store, shop)


async def test_rebuilding_one_projection_leaves_the_others_alone(
    read_store: RebuildableStore,
) -> None:
    events = InMemoryEventStore()
    shop, _, _ = await live_shop(events, read_store, seed=3)
    carts = [c.cart_stream(cart) for cart in shop.carts]
    orders = [o.order_stream(order) for order in shop.orders]
    before = await answers(read_store, shop)
    versions = {
        "carts": await read_store.stream_versions("carts", carts),
        "orders": await read_store.stream_versions("orders", orders),
    }
    await vandalize(read_store, shop)
    vandalized = await answers(read_store, shop)
    versions["carts"] = await read_store.stream_versions("carts", carts)

    catalog = [x for x in projections() if x.name == "catalog"]
    await rebuild(events, read_store, catalog)

    now = await answers(read_store, shop)
    for key, answer in now.items():
        kind = key.split()[0]
        want = before if kind in ("product", "catalog", "search") else vandalized
        assert answer == want[key], key
    assert await read_store.stream_versions("carts", carts) == versions["carts"]
    assert await read_store.stream_versions("orders", orders) == versions["orders"]
    assert now != before, "the carts and orders views were rebuilt too"
