"""Replay equals fold; projecting through an at-least-once broker equals
projecting once.

A random valid history of the shop is made the honest way: random shop commands
run through the real ShopCommands on the in-memory event store (refused ones are
just refused). Its log is then projected (a) once, (b) through a simulated broker
that splits it per partition, redelivers batches and replays earlier slices, and
(c) folded by a small model written here, independent of shop/views.py. The
answers of ShopQueries over (a) and (b) must equal the model's.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqrskit.adapters.memory import InMemoryEventStore, InMemoryReadStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import CqrskitError, NotFound, ProjectionGap
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import ReadStore
from cqrskit.core.projection import ProjectionRunner
from cqrskit.core.wire import decode_batch, encode_batch, partition_for
from cqrskit.runtime.bootstrap import CommandSide, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import cart as c
from cqrskit.shop.domain import catalog as p
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import APPROVE_CARD, DECLINE_CARD, Card
from cqrskit.shop.queries import ShopQueries
from cqrskit.shop.views import shop_projections

SKUS = ["MUG-1", "tea.2", "Lamp_3"]
NAMES = ["Red Mug", "green TEA", "Desk lamp"]
CATEGORIES = ["", "kitchen", "home"]
CARTS = ["c1", "c2", "c3"]
CUSTOMERS = ["alice", "bob"]
ORDERS = ["o1", "o2", "o3", "o4"]
NEEDLES = ["mug", "TEA", "a", "3"]

Op = tuple[Any, ...]

KINDS = [
    # weighted: the ops that build up carts and orders come more often
    *["add_product", "rename", "reprice", "discontinue", "create_cart"],
    *["restock"] * 3,
    *["add_item"] * 4,
    *["change_quantity", "remove_item", "ship", "cancel"],
    *["place_order"] * 3,
]
CARDS = [APPROVE_CARD, APPROVE_CARD, DECLINE_CARD]
# hypothesis favours the ends of a range, so "anywhere" sits in the middle
AIM = st.sampled_from(["likely"] * 3 + ["anywhere"] + ["likely"] * 4)


class Shopper:
    """Draws the next command, mostly one that is likely to be accepted.

    It remembers only which earlier commands were accepted, so it aims at
    existing products, open carts and their lines, placed orders; now and
    then it aims anywhere, and the shop refuses.
    """

    def __init__(self, data: st.DataObject) -> None:
        self._data = data
        self.added: set[str] = set()
        self.discontinued: set[str] = set()
        self.carts: dict[str, set[str]] = {}  # open carts and the SKUs in them
        self.placed: set[str] = set()

    def _draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self._data.draw(strategy)

    def _pick(self, likely: set[str], everything: Sequence[str]) -> str:
        if likely and self._draw(AIM) == "likely":
            return str(self._draw(st.sampled_from(sorted(likely))))
        return str(self._draw(st.sampled_from(everything)))

    def _possible(self, kind: str) -> bool:
        active = self.added - self.discontinued
        match kind:
            case "add_product":
                return self.added != set(SKUS)
            case "create_cart":
                return len(self.carts) < len(CARTS)
            case "add_item":
                return bool(self.carts and active)
            case "change_quantity" | "remove_item" | "place_order":
                return any(self.carts.values())
            case "ship" | "cancel":
                return bool(self.placed)
        return bool(active)

    def next_op(self) -> Op:
        kinds = KINDS
        if self._draw(AIM) == "likely":
            kinds = [kind for kind in KINDS if self._possible(kind)] or KINDS
        kind = self._draw(st.sampled_from(kinds))
        active = self.added - self.discontinued
        name, price = st.sampled_from(NAMES), st.integers(1, 5000)
        match kind:
            case "add_product":
                sku = self._pick(set(SKUS) - self.added, SKUS)
                category = self._draw(st.sampled_from(CATEGORIES))
                return (kind, sku, self._draw(name), self._draw(price), category)
            case "rename":
                return (kind, self._pick(active, SKUS), self._draw(name))
            case "reprice":
                return (kind, self._pick(active, SKUS), self._draw(price))
            case "discontinue":
                return (kind, self._pick(active, SKUS))
            case "restock":
                return (kind, self._pick(active, SKUS), self._draw(st.integers(1, 10)))
            case "create_cart":
                cart_id = self._pick(set(CARTS) - set(self.carts), CARTS)
                return (kind, cart_id, self._draw(st.sampled_from(CUSTOMERS)))
            case "add_item":
                cart_id = self._pick(set(self.carts), CARTS)
                sku = self._pick(active, SKUS)
                return (kind, cart_id, sku, self._draw(st.integers(1, 4)))
            case "change_quantity" | "remove_item":
                cart_id = self._pick(set(self.carts), CARTS)
                sku = self._pick(self.carts.get(cart_id, set()), SKUS)
                if kind == "remove_item":
                    return (kind, cart_id, sku)
                return (kind, cart_id, sku, self._draw(st.integers(0, 5)))
            case "place_order":
                filled = {cart for cart, skus in self.carts.items() if skus}
                cart_id = self._pick(filled, CARTS)
                order_id = self._pick(set(ORDERS) - self.placed, ORDERS)
                return (kind, cart_id, order_id, self._draw(st.sampled_from(CARDS)))
            case _:  # ship or cancel
                return (kind, self._pick(self.placed, ORDERS))

    def accepted(self, op: Op) -> None:
        match op:
            case ("add_product", sku, *_):
                self.added.add(sku)
            case ("discontinue", sku):
                self.discontinued.add(sku)
            case ("create_cart", cart_id, _):
                self.carts[cart_id] = set()
            case ("add_item", cart_id, sku, _):
                self.carts[cart_id].add(sku)
            case ("remove_item", cart_id, sku) | ("change_quantity", cart_id, sku, 0):
                self.carts[cart_id].discard(sku)
            case ("place_order", cart_id, order_id, _):
                del self.carts[cart_id]
                self.placed.add(order_id)


def ticking_clock() -> Callable[[], datetime]:
    """Each reading is a second later: orders placed later are newer."""
    start = datetime(2030, 1, 1, tzinfo=UTC)
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


async def run_op(side: CommandSide, n: int, op: Op) -> None:
    ctx = CommandContext(command_id=f"cmd-{n}", correlation_id="property")
    shop = side.commands
    match op:
        case ("add_product", sku, name, price, category):
            command = p.AddProduct(sku, name, price, f"about {sku}", category)
            await shop.catalog(ctx, command, sku=sku)
        case ("rename", sku, name):
            await shop.catalog(ctx, p.RenameProduct(sku, name), sku=sku)
        case ("reprice", sku, price):
            await shop.catalog(ctx, p.ChangePrice(sku, price), sku=sku)
        case ("discontinue", sku):
            await shop.catalog(ctx, p.DiscontinueProduct(sku), sku=sku)
        case ("restock", sku, quantity):
            await shop.restock(ctx, i.Restock(sku, quantity))
        case ("create_cart", cart_id, customer_id):
            await shop.create_cart(ctx, customer_id, cart_id)
        case ("add_item", cart_id, sku, quantity):
            await shop.add_item(ctx, cart_id, sku, quantity)
        case ("change_quantity", cart_id, sku, quantity):
            command = c.ChangeQuantity(cart_id, sku, quantity)
            await shop.cart(ctx, command, cart_id=cart_id)
        case ("remove_item", cart_id, sku):
            await shop.cart(ctx, c.RemoveItem(cart_id, sku), cart_id=cart_id)
        case ("place_order", cart_id, order_id, number):
            card = Card(number, "12/2099", "123")
            await shop.place_order(ctx, cart_id, card, order_id)
        case ("ship", order_id):
            await shop.ship_order(ctx, order_id)
        case ("cancel", order_id):
            await shop.cancel_order(ctx, order_id, "changed my mind")
        case _:  # pragma: no cover - the strategy makes only the ops above
            raise AssertionError(f"unknown op {op!r}")


async def run_history(
    ops: Iterable[Op], accepted: Callable[[Op], None] = lambda op: None
) -> list[RecordedEvent]:
    """Runs the commands (refused ones are skipped); returns the whole log."""
    clock = ticking_clock()
    store = InMemoryEventStore(clock=clock)
    side = command_side(SHOP, store, clock=clock)
    for n, op in enumerate(ops):
        try:
            await run_op(side, n, op)
        except CqrskitError:
            continue  # refused (a rule, a missing thing, a declined card): still valid
        accepted(op)
    return await store.read_all(0, 1_000_000)


async def random_history(data: st.DataObject) -> list[RecordedEvent]:
    shopper = Shopper(data)
    count = data.draw(st.integers(1, 60), label="commands")
    # lazy: each command is drawn after the previous one was accepted or refused
    return await run_history(
        (shopper.next_op() for _ in range(count)), shopper.accepted
    )


# --- (c) the independent model -------------------------------------------------


def fold(log: Sequence[RecordedEvent]) -> dict[str, Any]:
    """The answers every query should give, folded from the raw stored events."""
    products: dict[str, dict[str, Any]] = {}
    stock: dict[str, int] = defaultdict(int)
    carts: dict[str, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}
    placed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for event in log:
        d = event.data
        match event.type:
            case "ProductAdded":
                products[d["sku"]] = {
                    "sku": d["sku"],
                    "name": d["name"],
                    "description": d["description"],
                    "category": d["category"],
                    "price_cents": d["price_cents"],
                    "discontinued": False,
                }
            case "PriceChanged":
                products[d["sku"]]["price_cents"] = d["price_cents"]
            case "ProductRenamed":
                products[d["sku"]]["name"] = d["name"]
            case "ProductDiscontinued":
                products[d["sku"]]["discontinued"] = True
            case "StockAdded" | "StockReleased":
                stock[d["sku"]] += d["quantity"]
            case "StockReserved":
                stock[d["sku"]] -= d["quantity"]
            case "CartCreated":
                carts[d["cart_id"]] = {
                    "customer_id": d["customer_id"],
                    "lines": {},
                    "status": "open",
                }
            case "ItemAdded":
                lines = carts[d["cart_id"]]["lines"]
                line = lines.setdefault(d["sku"], {"quantity": 0})
                line["quantity"] += d["quantity"]
                line["name"] = d["name"]
                line["unit_price_cents"] = d["unit_price_cents"]
            case "QuantityChanged":
                carts[d["cart_id"]]["lines"][d["sku"]]["quantity"] = d["quantity"]
            case "ItemRemoved":
                del carts[d["cart_id"]]["lines"][d["sku"]]
            case "CartCheckedOut":
                carts[d["cart_id"]]["status"] = "checked_out"
            case "OrderPlaced":
                orders[d["order_id"]] = {
                    "customer_id": d["customer_id"],
                    "lines": [
                        (x["sku"], x["name"], x["quantity"], x["unit_price_cents"])
                        for x in d["lines"]
                    ],
                    "status": "placed",
                    "placed_at": d["placed_at"],
                }
                placed[d["customer_id"]].append((d["placed_at"], d["order_id"]))
            case "OrderShipped":
                orders[d["order_id"]]["status"] = "shipped"
            case "OrderCancelled":
                orders[d["order_id"]]["status"] = "cancelled"
            case "PaymentDeclined":
                pass  # a business outcome with no read model of its own
            case other:  # pragma: no cover
                raise AssertionError(f"the model does not know {other}")
    return _render(products, stock, carts, orders, placed)


def _render(
    products: dict[str, dict[str, Any]],
    stock: dict[str, int],
    carts: dict[str, dict[str, Any]],
    orders: dict[str, dict[str, Any]],
    placed: dict[str, list[tuple[str, str]]],
) -> dict[str, Any]:
    product_docs = {
        sku: {**doc, "available": stock[sku]} for sku, doc in sorted(products.items())
    }
    order_docs = {oid: _order_doc(oid, order) for oid, order in orders.items()}
    listing = list(product_docs.values())
    expected: dict[str, Any] = {}
    for sku in SKUS:
        expected[f"product {sku}"] = product_docs.get(sku)
    for cart_id in CARTS:
        cart = carts.get(cart_id)
        expected[f"cart {cart_id}"] = None if cart is None else _cart_doc(cart_id, cart)
    for order_id in ORDERS:
        expected[f"order {order_id}"] = order_docs.get(order_id)
    for customer in CUSTOMERS:
        newest_first = sorted(placed[customer], reverse=True)
        expected[f"history {customer}"] = [order_docs[oid] for _, oid in newest_first]
    expected["catalog"] = listing
    for category in CATEGORIES[1:]:
        expected[f"category {category}"] = [
            d for d in listing if d["category"] == category
        ]
    for needle in NEEDLES:
        expected[f"search {needle}"] = [
            d for d in listing if needle.lower() in f"{d['name']} {d['sku']}".lower()
        ]
    return expected


def _cart_doc(cart_id: str, cart: dict[str, Any]) -> dict[str, Any]:
    items = [
        {
            "sku": sku,
            "name": line["name"],
            "quantity": line["quantity"],
            "unit_price_cents": line["unit_price_cents"],
            "line_total_cents": line["quantity"] * line["unit_price_cents"],
        }
        for sku, line in cart["lines"].items()
    ]
    return {
        "cart_id": cart_id,
        "customer_id": cart["customer_id"],
        "items": items,
        "total_cents": sum(item["line_total_cents"] for item in items),
        "status": cart["status"],
    }


def _order_doc(order_id: str, order: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {
            "sku": sku,
            "name": name,
            "quantity": quantity,
            "unit_price_cents": price,
            "line_total_cents": quantity * price,
        }
        for sku, name, quantity, price in order["lines"]
    ]
    return {
        "order_id": order_id,
        "customer_id": order["customer_id"],
        "lines": lines,
        "total_cents": sum(line["line_total_cents"] for line in lines),
        "status": order["status"],
        "placed_at": order["placed_at"],
    }


# --- the query answers of a read store ------------------------------------------


async def _one(answer: Awaitable[bytes]) -> Any:
    try:
        return orjson.loads(await answer)
    except NotFound:
        return None


async def _every_page(page: Callable[[str | None], Awaitable[bytes]]) -> list[Any]:
    """Follows next_cursor to the end (small pages, so cursors are exercised)."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        answer = orjson.loads(await page(cursor))
        items.extend(answer["items"])
        cursor = answer["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination never ended")


async def answers(store: ReadStore) -> dict[str, Any]:
    q = ShopQueries(store)
    got: dict[str, Any] = {}
    for sku in SKUS:
        got[f"product {sku}"] = await _one(q.product(sku))
    for cart_id in CARTS:
        got[f"cart {cart_id}"] = await _one(q.cart(cart_id))
    for order_id in ORDERS:
        got[f"order {order_id}"] = await _one(q.order(order_id))
    for customer in CUSTOMERS:
        got[f"history {customer}"] = await _every_page(
            lambda cur, who=customer: q.customer_orders(who, limit=2, cursor=cur)
        )
    got["catalog"] = await _every_page(
        lambda cur: q.products(q=None, category=None, limit=2, cursor=cur)
    )
    for category in CATEGORIES[1:]:
        got[f"category {category}"] = await _every_page(
            lambda cur, cat=category: q.products(
                q=None, category=cat, limit=2, cursor=cur
            )
        )
    for needle in NEEDLES:
        got[f"search {needle}"] = await _every_page(
            lambda cur, n=needle: q.products(q=n, category=None, limit=2, cursor=cur)
        )
    return got


def runner_for(
    store: ReadStore, gap_source: InMemoryEventStore | None = None
) -> ProjectionRunner:
    return ProjectionRunner(shop_projections(shop_codec()), store, gap_source)


async def checkpoints(store: ReadStore, log: Sequence[RecordedEvent]) -> dict[str, int]:
    """The checkpoint of every stream in the log (each has exactly one projection)."""
    seen: dict[str, int] = {}
    for projection in shop_projections(shop_codec()):
        streams = {e.stream_id for e in log if e.category in projection.categories}
        seen.update(await store.stream_versions(projection.name, sorted(streams)))
    return seen


# --- (b) an at-least-once broker --------------------------------------------------


def broker_queues(
    log: Sequence[RecordedEvent], data: st.DataObject
) -> list[list[bytes]]:
    """What a relay that restarts and a broker that redelivers would put in each
    partition's queue: pages of the log split per partition, some pages
    re-published from an earlier position, some messages delivered twice."""
    partitions = data.draw(st.integers(1, 4), label="partitions")
    queues: list[list[bytes]] = [[] for _ in range(partitions)]
    published = 0
    while published < len(log):
        if published and data.draw(st.booleans(), label="replay an earlier slice"):
            start = data.draw(st.integers(0, published - 1))
            end = data.draw(st.integers(start + 1, published))
        else:
            start = data.draw(st.integers(max(0, published - 5), published))
            end = data.draw(st.integers(published + 1, min(len(log), published + 8)))
            published = end
        per_partition: dict[int, list[RecordedEvent]] = defaultdict(list)
        for event in log[start:end]:
            per_partition[partition_for(event.stream_id, partitions)].append(event)
        for partition, batch in per_partition.items():
            copies = data.draw(st.sampled_from([1, 1, 2]), label="deliveries")
            queues[partition].extend([encode_batch(batch)] * copies)
    return queues


async def consume(
    runner: ProjectionRunner, queues: list[list[bytes]], data: st.DataObject
) -> None:
    """Partitions are consumed concurrently (any interleaving), each in order."""
    while any(queues):
        ready = [n for n, queue in enumerate(queues) if queue]
        partition = data.draw(st.sampled_from(ready), label="next partition")
        await runner.handle(partition, decode_batch(queues[partition].pop(0)))


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_replay_and_redelivery_both_equal_an_independent_fold(
    data: st.DataObject,
) -> None:
    async def check() -> None:
        log = await random_history(data)
        expected = fold(log)

        once = InMemoryReadStore()
        runner_once = runner_for(once)
        await runner_once.handle(0, log)
        assert await answers(once) == expected
        assert runner_once.applied == len(log)

        redelivered = InMemoryReadStore()
        runner = runner_for(redelivered)
        await consume(runner, broker_queues(log, data), data)
        assert await answers(redelivered) == await answers(once)
        assert runner.applied == len(log), "every event took effect exactly once"
        last_versions = {e.stream_id: e.version for e in log}
        assert await checkpoints(once, log) == last_versions
        assert await checkpoints(redelivered, log) == last_versions

    asyncio.run(check())


def test_the_model_sees_orders_placed_shipped_and_cancelled() -> None:
    """Guards the generator: a hand-picked history reaches every event type."""
    sequence: list[Op] = [
        ("add_product", "MUG-1", "Red Mug", 500, "kitchen"),
        ("add_product", "tea.2", "green TEA", 300, ""),
        ("restock", "MUG-1", 5),
        ("restock", "tea.2", 5),
        ("rename", "tea.2", "Desk lamp"),
        ("create_cart", "c1", "alice"),
        ("add_item", "c1", "MUG-1", 2),
        ("add_item", "c1", "tea.2", 1),
        ("add_item", "c1", "MUG-1", 1),
        ("change_quantity", "c1", "tea.2", 3),
        ("reprice", "MUG-1", 700),
        ("place_order", "c1", "o1", DECLINE_CARD),
        ("place_order", "c1", "o1", APPROVE_CARD),
        ("create_cart", "c2", "alice"),
        ("add_item", "c2", "MUG-1", 1),
        ("remove_item", "c2", "MUG-1"),
        ("add_item", "c2", "tea.2", 2),
        ("place_order", "c2", "o2", APPROVE_CARD),
        ("ship", "o1"),
        ("cancel", "o2"),
        ("discontinue", "tea.2"),
    ]

    async def check() -> None:
        log = await run_history(sequence)
        types = {e.type for e in log}
        assert types >= {
            "ProductAdded",
            "PriceChanged",
            "ProductRenamed",
            "ProductDiscontinued",
            "StockAdded",
            "StockReserved",
            "StockReleased",
            "CartCreated",
            "ItemAdded",
            "QuantityChanged",
            "ItemRemoved",
            "CartCheckedOut",
            "OrderPlaced",
            "PaymentDeclined",
            "OrderShipped",
            "OrderCancelled",
        }
        expected = fold(log)
        assert expected["order o1"]["total_cents"] == 3 * 700 + 3 * 300
        assert expected["order o1"]["status"] == "shipped"
        assert expected["product MUG-1"]["available"] == 2
        assert [o["order_id"] for o in expected["history alice"]] == ["o2", "o1"]
        store = InMemoryReadStore()
        await runner_for(store).handle(0, log)
        assert await answers(store) == expected

    asyncio.run(check())


# --- gaps -------------------------------------------------------------------------


async def _product_with_restocks(
    store: InMemoryEventStore, sku: str, *quantities: int
) -> None:
    side = command_side(SHOP, store)
    ctx = CommandContext(command_id="setup", correlation_id="setup")
    await side.commands.catalog(ctx, p.AddProduct(sku, sku, 100), sku=sku)
    for quantity in quantities:
        await side.commands.restock(ctx, i.Restock(sku, quantity))


async def _available(store: ReadStore, sku: str) -> int:
    available: int = orjson.loads(await ShopQueries(store).product(sku))["available"]
    return available


async def test_a_version_gap_is_filled_from_the_event_store() -> None:
    events = InMemoryEventStore()
    await _product_with_restocks(events, "A", 3, 4, 5)
    added, first, lost, last = await events.read_all(0, 100)
    assert (lost.stream_id, lost.version) == ("inventory-A", 2)
    read = InMemoryReadStore()
    runner = runner_for(read, gap_source=events)

    await runner.handle(0, [added, first])
    await runner.handle(0, [last])

    assert await _available(read, "A") == 12
    assert runner.gaps_filled == 1
    assert await read.stream_versions("catalog", ["inventory-A"]) == {"inventory-A": 3}
    await runner.handle(0, [lost, last])  # the lost one turns up late: a duplicate
    assert await _available(read, "A") == 12


async def test_without_a_gap_source_a_gap_stops_the_batch_and_commits_nothing() -> None:
    events = InMemoryEventStore()
    await _product_with_restocks(events, "A", 3, 4)
    await _product_with_restocks(events, "B", 7)
    added_a, a1, a2, added_b, b1 = await events.read_all(0, 100)
    read = InMemoryReadStore()
    runner = runner_for(read)
    await runner.handle(0, [added_a, added_b])
    streams = ["inventory-A", "inventory-B"]

    with pytest.raises(ProjectionGap, match="inventory-A"):
        await runner.handle(0, [b1, a2])  # a1 never arrived

    assert await _available(read, "B") == 0, "B's stock in the same batch was kept out"
    assert await _available(read, "A") == 0
    assert await read.stream_versions("catalog", streams) == dict.fromkeys(streams, 0)
    # the broker redelivers; once the missing event is there, all lands exactly once
    await runner.handle(0, [a1, b1, a2])
    assert (await _available(read, "A"), await _available(read, "B")) == (7, 7)


async def test_a_gap_in_one_projection_holds_back_only_that_projection() -> None:
    """Projections keep checkpoints of their own: the catalog's part of a batch
    commits even when the orders projection stops on a gap, and the batch's
    redelivery then completes the orders without touching the catalog twice."""
    log = await run_history(
        [
            ("add_product", "MUG-1", "Mug", 100, ""),
            ("restock", "MUG-1", 5),
            ("create_cart", "c1", "alice"),
            ("add_item", "c1", "MUG-1", 1),
            ("place_order", "c1", "o1", APPROVE_CARD),
            ("ship", "o1"),
            ("add_product", "tea.2", "Tea", 5, ""),
        ]
    )
    *before, placed, shipped, tea_added = log
    assert (placed.type, shipped.type, tea_added.type) == (
        "OrderPlaced",
        "OrderShipped",
        "ProductAdded",
    )
    read = InMemoryReadStore()
    runner = runner_for(read)
    await runner.handle(0, before)

    with pytest.raises(ProjectionGap, match="order-o1"):
        await runner.handle(0, [tea_added, shipped])  # OrderPlaced never arrived

    queries = ShopQueries(read)
    assert orjson.loads(await queries.product("tea.2"))["name"] == "Tea"
    with pytest.raises(NotFound):
        await queries.order("o1")

    await runner.handle(0, [placed, tea_added, shipped])  # the broker redelivers
    assert orjson.loads(await queries.order("o1"))["status"] == "shipped"
    assert runner.duplicates >= 1
