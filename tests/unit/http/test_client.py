"""The typed client against both services (the embedded system in memory):
a caller reads its own writes without handling tokens, problem answers
arrive as exceptions of their kind, keys replay, tokens name the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cqrskit import client as c
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime.embedded import System, borrowed
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.payments import APPROVE_CARD, DECLINE_CARD
from credentials import ADMIN, ADMIN_TOKEN, SERVER_KEY, token, verifier

CARD = (APPROVE_CARD, "12/2099", "123")


@pytest.fixture
async def shop(system: System) -> AsyncIterator[c.ShopClient]:
    command = create_command_app(
        SHOP, lambda: borrowed(system.command), verifier(), SERVER_KEY
    )
    query = create_query_app(
        SHOP, lambda: borrowed(system.query), verifier(), SERVER_KEY
    )
    async with (
        command.router.lifespan_context(command),
        query.router.lifespan_context(query),
    ):
        transports = (httpx.ASGITransport(command), httpx.ASGITransport(query))
        async with c.ShopClient(
            "http://command", "http://query", token=ADMIN_TOKEN, transports=transports
        ) as client:
            yield client


async def test_a_read_after_a_command_reflects_it(shop: c.ShopClient) -> None:
    added = await shop.add_product("MUG-1", "Mug", 900, category="kitchen")
    assert (added.stream_id, added.sku) == ("product-MUG-1", "MUG-1")
    await shop.restock("MUG-1", 7)
    assert shop.consistency_token is not None
    product = await shop.get_product("MUG-1")
    assert (product.available, product.category) == (7, "kitchen")
    assert shop.consistency_token is None  # reached: later reads send none
    await shop.change_price("MUG-1", 1100)
    assert (await shop.list_products(q="mug")).items[0].price_cents == 1100


async def test_a_journey_of_typed_answers(shop: c.ShopClient) -> None:
    await shop.add_product("HAT-1", "Hat", 2400)
    await shop.restock("HAT-1", 5)
    alice = shop.with_token(token("alice", "customer"))
    cart = await alice.create_cart()
    assert cart.cart_id
    await alice.add_item(cart.cart_id, "HAT-1", 2)
    await alice.change_quantity(cart.cart_id, "HAT-1", 3)
    shown = await alice.get_cart(cart.cart_id)
    assert (shown.customer_id, shown.total_cents) == ("alice", 7200)
    placed = await alice.place_order(cart.cart_id, *CARD, order_id="o1")
    assert placed.order_id == "o1"
    assert (await alice.get_order("o1")).status == "placed"
    assert [o.order_id for o in (await alice.list_customer_orders("alice")).items] == [
        "o1"
    ]
    await alice.cancel_order("o1", reason="changed my mind")
    trail = await shop.read_stream("order-o1")
    assert [e.type for e in trail.events] == ["OrderPlaced", "OrderCancelled"]


async def test_problems_are_exceptions_of_their_kind(shop: c.ShopClient) -> None:
    with pytest.raises(c.NotFound) as missing:
        await shop.get_product("NOPE")
    assert missing.value.problem.status == 404
    assert missing.value.problem.detail == "product NOPE does not exist"
    await shop.add_product("PEN-1", "Pen", 150)
    with pytest.raises(c.Conflict) as twice:
        await shop.add_product("PEN-1", "Pen", 150)
    assert twice.value.problem.type == "/problems/conflict"
    with pytest.raises(c.Invalid) as invalid:
        await shop.change_price("PEN-1", 0)
    assert invalid.value.problem.errors[0]["field"] == "price_cents"
    await shop.restock("PEN-1", 1)
    cart = await shop.create_cart(customer_id="bob")
    await shop.add_item(str(cart.cart_id), "PEN-1", 1)
    with pytest.raises(c.PaymentDeclined) as declined:
        await shop.place_order(str(cart.cart_id), DECLINE_CARD, "12/2099", "123")
    assert declined.value.status == 402
    with pytest.raises(c.Unauthorized):
        await shop.with_token(None).get_cart(str(cart.cart_id))
    with pytest.raises(c.Forbidden):
        await shop.with_token(token("bob", "customer")).ship_order("o1")
    assert issubclass(c.NotCaughtUp, c.Unavailable) and ADMIN


async def test_an_idempotency_key_replays_the_answer(shop: c.ShopClient) -> None:
    await shop.add_product("KEY-1", "Key", 100)
    first = await shop.restock("KEY-1", 3, key="restock-once")
    again = await shop.restock("KEY-1", 3, key="restock-once")
    assert again == first
    assert (await shop.get_product("KEY-1")).available == 3
    with pytest.raises(c.IdempotencyKeyReused):
        await shop.restock("KEY-1", 4, key="restock-once")
