"""A customer's carts, orders and history are theirs: another customer gets
exactly the answer a missing one gets, before anything about its state."""

from __future__ import annotations

import httpx
import pytest
from shop_http import Shop, assert_problem, card

from credentials import customer


async def alices_order(shop: Shop) -> tuple[str, str]:
    await shop.add_product("OWN-1", stock=5)
    cart_id = await shop.cart("alice", **{"OWN-1": 1})
    return cart_id, await shop.order(cart_id)


def same_problem(theirs: httpx.Response, missing: httpx.Response) -> None:
    a, b = assert_problem(theirs, 404), assert_problem(missing, 404)
    assert a["detail"].split()[0] == b["detail"].split()[0]
    assert a["detail"].split()[2:] == b["detail"].split()[2:]


@pytest.mark.parametrize("path", ["/carts/{cart}", "/orders/{order}"])
async def test_another_customers_document_reads_as_missing(
    shop: Shop, path: str
) -> None:
    cart_id, order_id = await alices_order(shop)
    mine = path.format(cart=cart_id, order=order_id)
    await shop.read(mine)  # caught up
    assert (await shop.query.get(mine, headers=customer("alice"))).status_code == 200
    theirs = await shop.query.get(mine, headers=customer("bob"))
    missing = await shop.query.get(
        path.format(cart="nope", order="nope"), headers=customer("bob")
    )
    same_problem(theirs, missing)


async def test_another_customers_history_is_404_and_ones_own_is_listed(
    shop: Shop,
) -> None:
    _, order_id = await alices_order(shop)
    await shop.read(f"/orders/{order_id}")
    own = await shop.query.get("/customers/alice/orders", headers=customer("alice"))
    assert [o["order_id"] for o in own.json()["items"]] == [order_id]
    theirs = await shop.query.get("/customers/alice/orders", headers=customer("bob"))
    assert_problem(theirs, 404)


async def test_ownership_is_checked_before_the_state(shop: Shop) -> None:
    """Alice's cart is checked out and her order cancelled: bob still learns
    nothing but 404, where alice would get 409."""
    cart_id, order_id = await alices_order(shop)
    bob, alice = customer("bob"), customer("alice")
    cancel = f"/orders/{order_id}/cancel"
    assert (await shop.command.post(cancel, json={}, headers=alice)).status_code == 202
    assert_problem(await shop.command.post(cancel, json={}, headers=alice), 409)
    assert_problem(await shop.command.post(cancel, json={}, headers=bob), 404)
    line = {"sku": "OWN-1", "quantity": 1}
    add = f"/carts/{cart_id}/items"
    assert_problem(await shop.command.post(add, json=line, headers=alice), 409)
    assert_problem(await shop.command.post(add, json=line, headers=bob), 404)
    order = {"cart_id": cart_id, "payment": card()}
    assert_problem(await shop.command.post("/orders", json=order, headers=bob), 404)
    assert not shop.gateway.holds, "bob's attempt held nothing on a card"


async def test_a_cart_is_created_for_oneself(shop: Shop) -> None:
    alice = customer("alice")
    answer = await shop.command.post("/carts", json={}, headers=alice)
    assert answer.status_code == 201, answer.text
    shop.token = answer.json()["consistency_token"]
    cart = await shop.read(f"/carts/{answer.json()['cart_id']}")
    assert cart["customer_id"] == "alice"
    other = {"customer_id": "bob"}
    assert_problem(await shop.command.post("/carts", json=other, headers=alice), 403)


async def test_every_event_records_who_issued_its_command(shop: Shop) -> None:
    """The audit trail names the principal of each command: an operator's
    product and stock, alice's cart and order, bob's attempt nowhere."""
    await shop.add_product("WHO-1", stock=3)
    alice = customer("alice")
    answer = await shop.command.post("/carts", json={"cart_id": "who"}, headers=alice)
    assert answer.status_code == 201
    line = {"sku": "WHO-1", "quantity": 1}
    await shop.command.post("/carts/who/items", json=line, headers=alice)
    await shop.command.post("/carts/who/items", json=line, headers=customer("bob"))
    order = {"cart_id": "who", "order_id": "who-o", "payment": card()}
    assert (await shop.command.post("/orders", json=order, headers=alice)).is_success

    def who(events: list[dict[str, object]]) -> list[object]:
        return [e["metadata"]["principal"] for e in events]  # type: ignore[index]

    operator = {"sub": "ops", "roles": ["admin"]}
    mine = {"sub": "alice", "roles": ["customer"]}
    assert who(await shop.events("product-WHO-1")) == [operator]
    assert who(await shop.events("inventory-WHO-1")) == [operator, mine]
    assert who(await shop.events("cart-who")) == [mine, mine, mine]
    assert who(await shop.events("order-who-o")) == [mine]
