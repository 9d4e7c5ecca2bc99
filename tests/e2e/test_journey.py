"""A shopper's journey over HTTP against a running `cqrskit run` (and `cqrskit
up`, and the CRUD baseline), through the typed client.

Tests in this module share one running system, so each uses its own SKUs,
carts and customers. The client sends each command's Consistency-Token with
the next query, so a read that follows a write reflects it; a test that
needs to wait for something else polls (`eventually`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from cqrskit import client as c
from credentials import ADMIN_TOKEN

if TYPE_CHECKING:
    from harness import Shop

pytestmark = pytest.mark.e2e

APPROVE = ("4242424242424242", "12/2099", "123")
DECLINE = ("4000000000000002", "12/2099", "123")
LUHN_INVALID = ("4242424242424241", "12/2099", "123")
T = TypeVar("T")


def client_of(shop: Shop) -> c.ShopClient:
    system = shop.system
    return c.ShopClient(system.command_url, system.query_url, token=ADMIN_TOKEN)


@pytest.fixture
async def client(shop: Shop) -> AsyncIterator[c.ShopClient]:
    async with client_of(shop) as ops:
        yield ops


async def eventually(
    read: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool] = lambda _: True,
    within: float = 15.0,
) -> T:
    """Poll a read until it answers with what the predicate accepts."""
    deadline = time.monotonic() + within
    while True:
        try:
            answer = await read()
            if predicate(answer):
                return answer
        except c.NotFound:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"not there in {within} s")
        await asyncio.sleep(0.05)


async def add_product(
    ops: c.ShopClient, sku: str, price_cents: int, stock: int
) -> None:
    await ops.add_product(sku, f"Product {sku}", price_cents)
    await ops.restock(sku, stock)


async def cart_with(
    ops: c.ShopClient, cart_id: str, customer_id: str, **quantities: int
) -> None:
    created = await ops.create_cart(customer_id=customer_id, cart_id=cart_id)
    assert created.cart_id == cart_id
    for sku, quantity in quantities.items():
        await ops.add_item(cart_id, sku, quantity)


async def event_types(ops: c.ShopClient, stream_id: str) -> list[str]:
    return [event.type for event in (await ops.read_stream(stream_id)).events]


async def test_a_product_is_added_and_restocked(client: c.ShopClient) -> None:
    ack = await client.add_product(
        "MUG-1", "Stoneware mug", 1250, description="350 ml", category="kitchen"
    )
    assert (ack.stream_id, ack.version, ack.sku) == ("product-MUG-1", 1, "MUG-1")
    assert ack.position >= 1

    restocked = await client.restock("MUG-1", 7)
    assert restocked.stream_id == "inventory-MUG-1"
    assert restocked.position > ack.position

    assert (await client.get_product("MUG-1")).model_dump() == {
        "sku": "MUG-1",
        "name": "Stoneware mug",
        "price_cents": 1250,
        "description": "350 ml",
        "category": "kitchen",
        "available": 7,
        "discontinued": False,
    }


async def test_a_cart_keeps_lines_and_totals(client: c.ShopClient) -> None:
    await add_product(client, "CART-A", 1250, 10)
    await add_product(client, "CART-B", 890, 10)
    await add_product(client, "CART-C", 300, 10)
    await cart_with(client, "cart-lines", "cart-shopper")
    for sku, quantity in [("CART-A", 1), ("CART-A", 2), ("CART-B", 1), ("CART-C", 5)]:
        await client.add_item("cart-lines", sku, quantity)
    await client.change_quantity("cart-lines", "CART-B", 4)
    await client.remove_item("cart-lines", "CART-C")

    cart = await client.get_cart("cart-lines")
    assert cart.model_dump() == {
        "cart_id": "cart-lines",
        "customer_id": "cart-shopper",
        "items": [
            {
                "sku": "CART-A",
                "name": "Product CART-A",
                "quantity": 3,
                "unit_price_cents": 1250,
                "line_total_cents": 3750,
            },
            {
                "sku": "CART-B",
                "name": "Product CART-B",
                "quantity": 4,
                "unit_price_cents": 890,
                "line_total_cents": 3560,
            },
        ],
        "total_cents": 7310,
        "status": "open",
    }


async def test_a_cart_without_an_id_gets_one(client: c.ShopClient) -> None:
    created = await client.create_cart(customer_id="anonymous-1")
    assert created.cart_id and created.stream_id == f"cart-{created.cart_id}"

    cart = await client.get_cart(created.cart_id)
    assert cart.customer_id == "anonymous-1"
    assert (cart.items, cart.total_cents, cart.status) == ([], 0, "open")


async def test_a_declined_card_reserves_nothing_and_leaves_the_cart_open(
    client: c.ShopClient,
) -> None:
    await add_product(client, "DECL-1", 2000, 5)
    await cart_with(client, "cart-declined", "decliner", **{"DECL-1": 2})

    with pytest.raises(c.PaymentDeclined) as declined:
        await client.place_order("cart-declined", *DECLINE)

    assert "declined" in declined.value.problem.detail
    assert await event_types(client, "inventory-DECL-1") == ["StockAdded"]
    assert "CartCheckedOut" not in await event_types(client, "cart-cart-declined")
    assert (await client.get_product("DECL-1")).available == 5
    assert (await client.get_cart("cart-declined")).status == "open"
    # the cart is still usable: the same cart pays with a good card
    await client.place_order("cart-declined", *APPROVE)
    assert (await client.get_product("DECL-1")).available == 3


async def test_a_card_number_failing_luhn_is_422(client: c.ShopClient) -> None:
    await add_product(client, "LUHN-1", 500, 5)
    await cart_with(client, "cart-luhn", "luhn-shopper", **{"LUHN-1": 1})

    with pytest.raises(c.Invalid) as refused:
        await client.place_order("cart-luhn", *LUHN_INVALID)
    assert refused.value.status == 422 and "Luhn" in refused.value.problem.detail
    assert await event_types(client, "inventory-LUHN-1") == ["StockAdded"]


async def test_an_order_is_placed_then_shipped_or_cancelled(
    client: c.ShopClient,
) -> None:
    await add_product(client, "LIFE-1", 1500, 10)

    await cart_with(client, "cart-life-1", "lifer", **{"LIFE-1": 2})
    placed = await client.place_order("cart-life-1", *APPROVE)
    order_id = str(placed.order_id)
    assert placed.stream_id == f"order-{order_id}"
    shown = await client.get_order(order_id)
    assert (shown.order_id, shown.customer_id) == (order_id, "lifer")
    assert (shown.status, shown.total_cents) == ("placed", 3000)
    assert [line.model_dump() for line in shown.lines] == [
        {
            "sku": "LIFE-1",
            "name": "Product LIFE-1",
            "quantity": 2,
            "unit_price_cents": 1500,
            "line_total_cents": 3000,
        }
    ]
    assert datetime.fromisoformat(shown.placed_at).utcoffset() is not None
    assert (await client.get_product("LIFE-1")).available == 8
    assert (await client.get_cart("cart-life-1")).status == "checked_out"

    await cart_with(client, "cart-life-2", "lifer", **{"LIFE-1": 1})
    await client.place_order("cart-life-2", *APPROVE, order_id="life-shipped")
    await client.ship_order("life-shipped")
    assert (await client.get_order("life-shipped")).status == "shipped"
    assert (await client.get_product("LIFE-1")).available == 7

    await cart_with(client, "cart-life-3", "lifer", **{"LIFE-1": 3})
    await client.place_order("cart-life-3", *APPROVE, order_id="life-cancelled")
    await client.cancel_order("life-cancelled", reason="changed my mind")
    assert (await client.get_order("life-cancelled")).status == "cancelled"
    assert (await client.get_product("LIFE-1")).available == 7  # 3 came back

    trail = (await client.read_stream("order-life-cancelled")).events
    assert [e.type for e in trail] == ["OrderPlaced", "OrderCancelled"]
    assert [e.version for e in trail] == [1, 2]
    assert trail[0].position < trail[1].position
    assert trail[1].data["reason"] == "changed my mind"
    assert await event_types(client, "inventory-LIFE-1") == [
        "StockAdded",
        "StockReserved",
        "StockReserved",
        "StockReserved",
        "StockReleased",
    ]

    with pytest.raises(c.Conflict):
        await client.ship_order("life-cancelled")
    with pytest.raises(c.Conflict):
        await client.cancel_order("life-shipped")
    with pytest.raises(c.Conflict):
        await client.add_item("cart-life-1", "LIFE-1", 1)


async def test_a_customers_history_is_newest_first_and_paginated(
    client: c.ShopClient,
) -> None:
    await add_product(client, "HIST-1", 100, 10)
    for n in (1, 2, 3):
        await cart_with(client, f"cart-hist-{n}", "historian", **{"HIST-1": n})
        await client.place_order(f"cart-hist-{n}", *APPROVE, order_id=f"hist-{n}")

    everything = await client.list_customer_orders("historian")
    assert [o.order_id for o in everything.items] == ["hist-3", "hist-2", "hist-1"]
    assert everything.next_cursor is None

    pages: list[list[str]] = []
    cursor = None
    for _ in range(4):  # three pages, and a fourth only if the cursor never ends
        page = await client.list_customer_orders("historian", limit=1, cursor=cursor)
        pages.append([o.order_id for o in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [["hist-3"], ["hist-2"], ["hist-1"]]


async def test_an_idempotency_key_replays_the_order_and_appends_nothing(
    client: c.ShopClient,
) -> None:
    await add_product(client, "IDEM-1", 700, 5)
    await cart_with(client, "cart-idem", "repeater", **{"IDEM-1": 2})
    key = "order-cart-idem-once"

    first = await client.place_order("cart-idem", *APPROVE, key=key)
    streams = (first.stream_id, "inventory-IDEM-1")
    trails = {s: len(await event_types(client, s)) for s in streams}

    again = await client.place_order("cart-idem", *APPROVE, key=key)
    assert again == first
    assert {s: len(await event_types(client, s)) for s in streams} == trails

    with pytest.raises(c.Invalid) as reused:
        await client.place_order("cart-idem", APPROVE[0], APPROVE[1], "999", key=key)
    assert "Idempotency-Key" in reused.value.problem.detail
    assert {s: len(await event_types(client, s)) for s in streams} == trails


async def test_problems_are_reported_as_problem_details(
    shop: Shop, client: c.ShopClient
) -> None:
    with pytest.raises(c.NotFound):
        await client.get_product("NO-SUCH-SKU")
    with pytest.raises(c.NotFound):
        await client.restock("NO-SUCH-SKU", 1)
    with pytest.raises(c.NotFound):
        await client.read_stream("product-NO-SUCH-SKU")

    # What the client never sends: a body that is not JSON, or too big.
    json_type = {"Content-Type": "application/json"}
    malformed = shop.command.post(
        "/products", content=b'{"sku": "BROKEN", "name": ', headers=json_type
    )
    assert_problem(malformed.status_code, malformed.headers, 400)
    huge = b'{"sku": "HUGE", "name": "' + b"x" * (1024 * 1024) + b'"}'
    too_large = shop.command.post("/products", content=huge, headers=json_type)
    assert_problem(too_large.status_code, too_large.headers, 413)
    with pytest.raises(c.NotFound):
        await client.get_product("HUGE")


def assert_problem(status: int, headers: Any, expected: int) -> None:
    assert status == expected
    assert headers["content-type"].startswith("application/problem+json")


async def test_data_survives_a_restart(fresh_shop: Shop) -> None:
    async with client_of(fresh_shop) as client:
        await add_product(client, "KEEP-1", 4200, 3)
        await cart_with(client, "cart-keep", "keeper", **{"KEEP-1": 1})
        await client.place_order("cart-keep", *APPROVE, order_id="kept")

        fresh_shop.system.restart()  # Ctrl-C right after the write, then start again

        kept = await eventually(lambda: client.get_order("kept"))
        assert (kept.status, kept.total_cents) == ("placed", 4200)
        product = await eventually(
            lambda: client.get_product("KEEP-1"), lambda p: p.available == 2
        )
        assert product.price_cents == 4200
        shipped = await client.ship_order("kept")
        assert shipped.version == 2
        assert (await client.get_order("kept")).status == "shipped"


async def test_a_dropped_read_store_is_rebuilt_on_start(fresh_shop: Shop) -> None:
    async with client_of(fresh_shop) as client:
        await add_product(client, "REBUILD-1", 999, 4)
        await cart_with(client, "cart-rebuild", "rebuilder", **{"REBUILD-1": 3})
        await client.place_order("cart-rebuild", *APPROVE, order_id="rebuilt")
        before = await client.get_order("rebuilt")

        fresh_shop.system.stop()
        for views in fresh_shop.system.data_dir.glob("views.db*"):
            views.unlink()
        fresh_shop.system.start()

        assert await eventually(lambda: client.get_order("rebuilt")) == before
        await eventually(
            lambda: client.get_product("REBUILD-1"), lambda p: p.available == 1
        )
        cart = await eventually(lambda: client.get_cart("cart-rebuild"))
        assert cart.status == "checked_out"
