"""A shopper's journey over HTTP against a running `cqrskit run`.

Tests in this module share one running system, so each uses its own SKUs,
carts and customers. Reads that follow a write either present the write's
Consistency-Token (read-your-writes) or poll until the read side shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from harness import Shop

pytestmark = pytest.mark.e2e

APPROVE = {"card_number": "4242424242424242", "expiry": "12/2099", "cvc": "123"}
DECLINE = {"card_number": "4000000000000002", "expiry": "12/2099", "cvc": "123"}
LUHN_INVALID = {"card_number": "4242424242424241", "expiry": "12/2099", "cvc": "123"}
PROBLEM = "application/problem+json"


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    return problem


def token_of(answer: httpx.Response) -> str:
    token: str = answer.json()["consistency_token"]
    assert answer.headers["Consistency-Token"] == token
    return token


def add_product(shop: Shop, sku: str, price_cents: int, stock: int) -> str:
    """Add a product with stock; returns the restock's consistency token."""
    product = {"sku": sku, "name": f"Product {sku}", "price_cents": price_cents}
    assert shop.command.post("/products", json=product).status_code == 201
    restock = shop.command.post(f"/inventory/{sku}/restock", json={"quantity": stock})
    assert restock.status_code == 202, restock.text
    return token_of(restock)


def cart_with(shop: Shop, cart_id: str, customer_id: str, **quantities: int) -> None:
    created = shop.command.post(
        "/carts", json={"customer_id": customer_id, "cart_id": cart_id}
    )
    assert created.status_code == 201, created.text
    for sku, quantity in quantities.items():
        added = shop.command.post(
            f"/carts/{cart_id}/items", json={"sku": sku, "quantity": quantity}
        )
        assert added.status_code == 202, added.text


def order(
    shop: Shop, cart_id: str, card: dict[str, str] = APPROVE, **extra: Any
) -> httpx.Response:
    return shop.command.post(
        "/orders", json={"cart_id": cart_id, "payment": card, **extra}
    )


def available(shop: Shop, sku: str, token: str | None = None) -> int:
    count: int = shop.read(f"/products/{sku}", token)["available"]
    return count


def event_types(shop: Shop, stream_id: str) -> list[str]:
    return [event["type"] for event in shop.audit_trail(stream_id)]


def test_a_product_is_added_and_restocked(shop: Shop) -> None:
    product = {
        "sku": "MUG-1",
        "name": "Stoneware mug",
        "price_cents": 1250,
        "description": "350 ml",
        "category": "kitchen",
    }
    added = shop.command.post("/products", json=product)
    assert added.status_code == 201, added.text
    ack = added.json()
    assert ack["stream_id"] == "product-MUG-1"
    assert ack["version"] == 1
    assert isinstance(ack["position"], int) and ack["position"] >= 1
    assert ack["sku"] == "MUG-1"

    restocked = shop.command.post("/inventory/MUG-1/restock", json={"quantity": 7})
    assert restocked.status_code == 202, restocked.text
    assert restocked.json()["stream_id"] == "inventory-MUG-1"
    assert restocked.json()["position"] > ack["position"]

    shown = shop.read("/products/MUG-1", token_of(restocked))
    assert shown == {
        **product,
        "available": 7,
        "discontinued": False,
    }


def test_a_cart_keeps_lines_and_totals(shop: Shop) -> None:
    add_product(shop, "CART-A", 1250, 10)
    add_product(shop, "CART-B", 890, 10)
    add_product(shop, "CART-C", 300, 10)
    created = shop.command.post(
        "/carts", json={"customer_id": "cart-shopper", "cart_id": "cart-lines"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["cart_id"] == "cart-lines"

    for sku, quantity in [("CART-A", 1), ("CART-A", 2), ("CART-B", 1), ("CART-C", 5)]:
        added = shop.command.post(
            "/carts/cart-lines/items", json={"sku": sku, "quantity": quantity}
        )
        assert added.status_code == 202, added.text
    changed = shop.command.put("/carts/cart-lines/items/CART-B", json={"quantity": 4})
    assert changed.status_code == 202, changed.text
    removed = shop.command.delete("/carts/cart-lines/items/CART-C")
    assert removed.status_code == 202, removed.text

    cart = shop.read("/carts/cart-lines", token_of(removed))
    assert cart == {
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


def test_a_cart_without_an_id_gets_one(shop: Shop) -> None:
    created = shop.command.post("/carts", json={"customer_id": "anonymous-1"})
    assert created.status_code == 201, created.text
    cart_id = created.json()["cart_id"]
    assert cart_id
    assert created.json()["stream_id"] == f"cart-{cart_id}"

    cart = shop.eventually(f"/carts/{cart_id}")
    assert cart["customer_id"] == "anonymous-1"
    assert (cart["items"], cart["total_cents"], cart["status"]) == ([], 0, "open")


def test_a_declined_card_reserves_nothing_and_leaves_the_cart_open(shop: Shop) -> None:
    stocked = add_product(shop, "DECL-1", 2000, 5)
    cart_with(shop, "cart-declined", "decliner", **{"DECL-1": 2})

    declined = order(shop, "cart-declined", DECLINE)

    assert "declined" in assert_problem(declined, 402)["detail"]
    assert event_types(shop, "inventory-DECL-1") == ["StockAdded"]
    assert "CartCheckedOut" not in event_types(shop, "cart-cart-declined")
    assert available(shop, "DECL-1", stocked) == 5
    assert shop.eventually("/carts/cart-declined")["status"] == "open"
    # the cart is still usable: the same cart pays with a good card
    placed = order(shop, "cart-declined")
    assert placed.status_code == 201, placed.text
    assert available(shop, "DECL-1", token_of(placed)) == 3


def test_a_card_number_failing_luhn_is_422(shop: Shop) -> None:
    add_product(shop, "LUHN-1", 500, 5)
    cart_with(shop, "cart-luhn", "luhn-shopper", **{"LUHN-1": 1})

    assert (
        "Luhn" in assert_problem(order(shop, "cart-luhn", LUHN_INVALID), 422)["detail"]
    )
    assert event_types(shop, "inventory-LUHN-1") == ["StockAdded"]


def test_an_order_is_placed_then_shipped_or_cancelled(shop: Shop) -> None:
    add_product(shop, "LIFE-1", 1500, 10)

    cart_with(shop, "cart-life-1", "lifer", **{"LIFE-1": 2})
    placed = order(shop, "cart-life-1")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert placed.json()["stream_id"] == f"order-{order_id}"
    token = token_of(placed)
    shown = shop.read(f"/orders/{order_id}", token)
    assert shown["order_id"] == order_id
    assert shown["customer_id"] == "lifer"
    assert shown["status"] == "placed"
    assert shown["lines"] == [
        {
            "sku": "LIFE-1",
            "name": "Product LIFE-1",
            "quantity": 2,
            "unit_price_cents": 1500,
            "line_total_cents": 3000,
        }
    ]
    assert shown["total_cents"] == 3000
    assert datetime.fromisoformat(shown["placed_at"]).utcoffset() is not None
    assert available(shop, "LIFE-1", token) == 8
    assert shop.read("/carts/cart-life-1", token)["status"] == "checked_out"

    cart_with(shop, "cart-life-2", "lifer", **{"LIFE-1": 1})
    assert order(shop, "cart-life-2", order_id="life-shipped").status_code == 201
    shipped = shop.command.post("/orders/life-shipped/ship")
    assert shipped.status_code == 202, shipped.text
    assert shop.read("/orders/life-shipped", token_of(shipped))["status"] == "shipped"
    assert available(shop, "LIFE-1", token_of(shipped)) == 7

    cart_with(shop, "cart-life-3", "lifer", **{"LIFE-1": 3})
    assert order(shop, "cart-life-3", order_id="life-cancelled").status_code == 201
    cancelled = shop.command.post(
        "/orders/life-cancelled/cancel", json={"reason": "changed my mind"}
    )
    assert cancelled.status_code == 202, cancelled.text
    token = token_of(cancelled)
    assert shop.read("/orders/life-cancelled", token)["status"] == "cancelled"
    assert available(shop, "LIFE-1", token) == 7  # the 3 units came back

    trail = shop.audit_trail("order-life-cancelled")
    assert [e["type"] for e in trail] == ["OrderPlaced", "OrderCancelled"]
    assert [e["version"] for e in trail] == [1, 2]
    assert trail[0]["position"] < trail[1]["position"]
    assert trail[1]["data"]["reason"] == "changed my mind"
    assert event_types(shop, "inventory-LIFE-1") == [
        "StockAdded",
        "StockReserved",
        "StockReserved",
        "StockReserved",
        "StockReleased",
    ]

    assert_problem(shop.command.post("/orders/life-cancelled/ship"), 409)
    assert_problem(shop.command.post("/orders/life-shipped/cancel"), 409)
    assert_problem(
        shop.command.post(
            "/carts/cart-life-1/items", json={"sku": "LIFE-1", "quantity": 1}
        ),
        409,
    )


def test_a_customers_history_is_newest_first_and_paginated(shop: Shop) -> None:
    add_product(shop, "HIST-1", 100, 10)
    for n in (1, 2, 3):
        cart_with(shop, f"cart-hist-{n}", "historian", **{"HIST-1": n})
        placed = order(shop, f"cart-hist-{n}", order_id=f"hist-{n}")
        assert placed.status_code == 201, placed.text

    everything = shop.eventually(
        "/customers/historian/orders", lambda page: len(page["items"]) == 3
    )
    assert [o["order_id"] for o in everything["items"]] == [
        "hist-3",
        "hist-2",
        "hist-1",
    ]
    assert everything["next_cursor"] is None

    pages, cursor = [], None
    for _ in range(4):  # three pages, and a fourth only if the cursor never ends
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = shop.query.get("/customers/historian/orders", params=params).json()
        pages.append([o["order_id"] for o in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["hist-3"], ["hist-2"], ["hist-1"]]


def test_an_idempotency_key_replays_the_order_and_appends_nothing(shop: Shop) -> None:
    add_product(shop, "IDEM-1", 700, 5)
    cart_with(shop, "cart-idem", "repeater", **{"IDEM-1": 2})
    body = {"cart_id": "cart-idem", "payment": APPROVE}
    key = {"Idempotency-Key": "order-cart-idem-once"}

    first = shop.command.post("/orders", json=body, headers=key)
    assert first.status_code == 201, first.text
    order_stream = first.json()["stream_id"]
    trails = {s: len(shop.audit_trail(s)) for s in (order_stream, "inventory-IDEM-1")}

    again = shop.command.post("/orders", json=body, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert {s: len(shop.audit_trail(s)) for s in trails} == trails

    other = {"cart_id": "cart-idem", "payment": {**APPROVE, "cvc": "999"}}
    reused = shop.command.post("/orders", json=other, headers=key)
    assert "Idempotency-Key" in assert_problem(reused, 422)["detail"]
    assert {s: len(shop.audit_trail(s)) for s in trails} == trails


def test_problems_are_reported_as_problem_details(shop: Shop) -> None:
    assert_problem(shop.query.get("/products/NO-SUCH-SKU"), 404)
    assert_problem(
        shop.command.post("/inventory/NO-SUCH-SKU/restock", json={"quantity": 1}), 404
    )
    assert_problem(shop.command.get("/streams/product-NO-SUCH-SKU"), 404)

    malformed = shop.command.post(
        "/products",
        content=b'{"sku": "BROKEN", "name": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(malformed, 400)

    huge = b'{"sku": "HUGE", "name": "' + b"x" * (1024 * 1024) + b'"}'
    too_large = shop.command.post(
        "/products", content=huge, headers={"Content-Type": "application/json"}
    )
    assert_problem(too_large, 413)
    assert_problem(shop.query.get("/products/HUGE"), 404)


def test_data_survives_a_restart(fresh_shop: Shop) -> None:
    shop = fresh_shop
    add_product(shop, "KEEP-1", 4200, 3)
    cart_with(shop, "cart-keep", "keeper", **{"KEEP-1": 1})
    placed = order(shop, "cart-keep", order_id="kept")
    assert placed.status_code == 201, placed.text

    shop.system.restart()  # Ctrl-C right after the write, then start again

    kept = shop.eventually("/orders/kept")
    assert (kept["status"], kept["total_cents"]) == ("placed", 4200)
    product = shop.eventually("/products/KEEP-1", lambda p: p["available"] == 2)
    assert product["price_cents"] == 4200
    shipped = shop.command.post("/orders/kept/ship")
    assert shipped.status_code == 202, shipped.text
    assert shipped.json()["version"] == 2
    assert shop.read("/orders/kept", token_of(shipped))["status"] == "shipped"


def test_a_dropped_read_store_is_rebuilt_on_start(fresh_shop: Shop) -> None:
    shop = fresh_shop
    add_product(shop, "REBUILD-1", 999, 4)
    cart_with(shop, "cart-rebuild", "rebuilder", **{"REBUILD-1": 3})
    placed = order(shop, "cart-rebuild", order_id="rebuilt")
    assert placed.status_code == 201, placed.text
    before = shop.read("/orders/rebuilt", token_of(placed))

    shop.system.stop()
    for views in shop.system.data_dir.glob("views.db*"):
        views.unlink()
    shop.system.start()

    assert shop.eventually("/orders/rebuilt") == before
    shop.eventually("/products/REBUILD-1", lambda p: p["available"] == 1)
    assert shop.eventually("/carts/cart-rebuild")["status"] == "checked_out"
