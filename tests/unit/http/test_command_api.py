"""The command service as a client sees it: answers, problems, idempotency and
the payment hold, over the whole embedded system."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shop_http import Shop, assert_problem, card, created

from cqrskit.shop.payments import APPROVE_CARD, DECLINE_CARD
from credentials import customer

# --- validation at the edge ----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/streams/%00",
        "/streams/a%00b",
        "/streams/%ff",
        "/streams/product",
        "/streams/x",
    ],
)
async def test_a_malformed_stream_id_is_a_422_before_any_store(
    command: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await command.get(path), 422)


async def test_a_well_formed_stream_without_events_is_a_404(
    command: httpx.AsyncClient,
) -> None:
    assert_problem(await command.get("/streams/product-NOPE"), 404)


async def test_integral_floats_are_integers_as_json_schema_says(shop: Shop) -> None:
    await shop.do("POST", "/products", {**PRODUCT, "price_cents": 1046.0}, 201)
    await shop.do("POST", "/inventory/MUG-1/restock", {"quantity": 3.0})
    product = await shop.read("/products/MUG-1")
    assert (product["price_cents"], product["available"]) == (1046, 3)


async def test_names_are_trimmed_and_free_text_keeps_its_lines(shop: Shop) -> None:
    body = {**PRODUCT, "name": "  Mug\u3000", "description": "one\ntwo\tthree"}
    await shop.do("POST", "/products", {**body, "category": " kitchen "}, 201)
    product = await shop.read("/products/MUG-1")
    assert product["name"] == "Mug"
    assert product["category"] == "kitchen"
    assert product["description"] == "one\ntwo\tthree"


async def test_a_refused_text_is_explained_in_words(
    command: httpx.AsyncClient,
) -> None:
    response = await command.post("/products", json={**PRODUCT, "name": "a\u0000"})
    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {
            "field": "name",
            "message": "should be one line, not blank, without control characters",
        }
    ]


async def test_a_405_names_every_method_the_path_allows(
    command: httpx.AsyncClient,
) -> None:
    response = await command.patch("/carts/c1/items/MUG-1")
    assert_problem(response, 405)
    assert response.headers["Allow"] == "DELETE, PUT"


@pytest.mark.parametrize("key", ["", "has space", "nul\x00", "é", "k" * 256])
async def test_an_idempotency_key_is_visible_ascii(
    command: httpx.AsyncClient, key: str
) -> None:
    headers = [(b"idempotency-key", key.encode("latin-1"))]
    response = await command.post("/carts", json={"customer_id": "a"}, headers=headers)
    assert_problem(response, 422)


PRODUCT = {"sku": "MUG-1", "name": "Mug", "price_cents": 1000}


@pytest.mark.parametrize(
    "path",
    ["/products", "/carts", "/orders", "/inventory/MUG-1/restock", "/carts/c1/items"],
)
async def test_malformed_json_is_a_400_problem(
    command: httpx.AsyncClient, path: str
) -> None:
    response = await command.post(
        path, content=b'{"sku": "MUG-1",', headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/products", {**PRODUCT, "price_cents": 12.5}, "price_cents"),
        ("/products", {**PRODUCT, "price_cents": 1e21}, "price_cents"),
        ("/products", {**PRODUCT, "name": "Mug\u0000"}, "name"),
        ("/products", {**PRODUCT, "name": "Mug\nTwo"}, "name"),
        ("/products", {**PRODUCT, "description": "nul \u0000"}, "description"),
        ("/products", {**PRODUCT, "category": "kit\u0000chen"}, "category"),
        ("/products/MUG-1/name", {"name": "\u0000"}, "name"),
        ("/orders/o1/cancel", {"reason": "why\u0000"}, "reason"),
        ("/products", {**PRODUCT, "price_cents": "1000"}, "price_cents"),
        ("/products", {**PRODUCT, "price_cents": True}, "price_cents"),
        ("/products", {**PRODUCT, "price_cents": 0}, "price_cents"),
        ("/products", {**PRODUCT, "price_cents": -5}, "price_cents"),
        ("/products", {**PRODUCT, "colour": "blue"}, "colour"),
        ("/products", {**PRODUCT, "sku": "bad sku"}, "sku"),
        ("/products", {**PRODUCT, "sku": "-leading"}, "sku"),
        ("/products", {**PRODUCT, "sku": ""}, "sku"),
        ("/products", {**PRODUCT, "name": "   "}, "name"),
        ("/products", {"sku": "MUG-1", "price_cents": 1}, "name"),
        ("/products", [PRODUCT], ""),
        ("/products", "MUG-1", ""),
        ("/products/MUG-1/price", {"price_cents": 9.99}, "price_cents"),
        ("/inventory/MUG-1/restock", {"quantity": True}, "quantity"),
        ("/inventory/MUG-1/restock", {"quantity": -1}, "quantity"),
        ("/inventory/MUG-1/restock", {"quantity": 0}, "quantity"),
        ("/inventory/MUG-1/restock", {"quantity": 1.5}, "quantity"),
        ("/inventory/bad%20sku/restock", {"quantity": 1}, "sku"),
        ("/carts", {"customer_id": "has space"}, "customer_id"),
        ("/carts", {"customer_id": "alice", "owner": "bob"}, "owner"),
        ("/carts/c1/items", {"sku": "MUG-1", "quantity": False}, "quantity"),
        ("/carts/c1/items", {"sku": "MUG-1", "quantity": -2}, "quantity"),
        ("/carts/c1/items", {"sku": "bad/sku", "quantity": 1}, "sku"),
        ("/orders", {"cart_id": "c1", "payment": card(expiry="13/30")}, "expiry"),
        ("/orders", {"cart_id": "c1", "payment": card(expiry="1/30")}, "expiry"),
        ("/orders", {"cart_id": "c1", "payment": card(expiry="12-30")}, "expiry"),
        ("/orders", {"cart_id": "c1", "payment": card(number="4242")}, "card_number"),
        ("/orders", {"cart_id": "c1", "payment": card(number="4242x")}, "card_number"),
        ("/orders", {"cart_id": "c1"}, "payment"),
        ("/orders", {"cart_id": "c1", "payment": {**card(), "pin": "1"}}, "pin"),
    ],
)
async def test_bad_fields_are_a_422_problem_naming_the_field(
    command: httpx.AsyncClient, path: str, body: Any, field: str
) -> None:
    problem = assert_problem(await command.post(path, json=body), 422)
    assert any(field in error["field"] for error in problem["errors"]), problem


@pytest.mark.parametrize("quantity", [-1, True, 1.5, 10_001])
async def test_a_bad_line_quantity_is_a_422_problem(
    command: httpx.AsyncClient, quantity: Any
) -> None:
    response = await command.put("/carts/c1/items/MUG-1", json={"quantity": quantity})
    assert_problem(response, 422)


async def test_a_body_that_is_not_json_at_all_is_refused_without_a_500(
    command: httpx.AsyncClient,
) -> None:
    for headers, content in [
        ({"Content-Type": "text/plain"}, b"sku=MUG-1"),
        ({"Content-Type": "application/json"}, b""),
        ({"Content-Type": "application/json"}, b"\xff\xfe"),
    ]:
        response = await command.post("/products", content=content, headers=headers)
        assert response.status_code in (400, 422), response.text
        assert_problem(response, response.status_code)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
PRODUCT_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "sku": st.text(max_size=70) | JSON,
        "name": st.text(max_size=10) | JSON,
        "price_cents": st.integers(-3, 10**11) | JSON,
        "description": JSON,
        "category": JSON,
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=PRODUCT_FIELDS | JSON)
async def test_whatever_json_arrives_the_answer_is_never_a_500(
    command: httpx.AsyncClient, body: Any
) -> None:
    response = await command.post("/products", json=body)
    if response.status_code == 201:
        return
    assert response.status_code in (409, 422), response.text
    assert_problem(response, response.status_code)


# --- bodies too large ----------------------------------------------------------


async def test_a_2_mib_body_with_content_length_is_a_413_problem(
    command: httpx.AsyncClient, shop: Shop
) -> None:
    body = b'{"sku": "MUG-1", "name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await command.post(
        "/products", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)
    assert await shop.log_size() == 0


async def test_a_chunked_2_mib_body_without_content_length_is_a_413_problem(
    command: httpx.AsyncClient, shop: Shop
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"sku": "MUG-1", "name": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    request = command.build_request(
        "POST",
        "/products",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    assert_problem(await command.send(request), 413)
    assert await shop.log_size() == 0


# --- correlation ids -----------------------------------------------------------


async def test_the_correlation_id_is_echoed_and_recorded_with_the_events(
    command: httpx.AsyncClient, shop: Shop
) -> None:
    headers = {"X-Correlation-Id": "checkout-42"}
    response = await command.post("/products", json=PRODUCT, headers=headers)
    assert response.status_code == 201
    assert response.headers["X-Correlation-Id"] == "checkout-42"
    (event,) = await shop.events("product-MUG-1")
    assert event["metadata"]["correlation_id"] == "checkout-42"

    again = await command.post("/products", json=PRODUCT, headers=headers)
    assert assert_problem(again, 409)["correlation_id"] == "checkout-42"


async def test_without_a_usable_correlation_id_one_is_made_up(
    command: httpx.AsyncClient,
) -> None:
    for headers in [{}, {"X-Correlation-Id": "has space\t<script>"}]:
        response = await command.post("/carts/none/items", json={}, headers=headers)
        made_up = response.headers["X-Correlation-Id"]
        assert made_up and made_up != headers.get("X-Correlation-Id")
        assert assert_problem(response, 422)["correlation_id"] == made_up


# --- 404 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/products/NOPE/price", {"price_cents": 5}),
        ("POST", "/products/NOPE/name", {"name": "x"}),
        ("POST", "/products/NOPE/discontinue", None),
        ("POST", "/inventory/NOPE/restock", {"quantity": 1}),
        ("POST", "/carts/nope/items", {"sku": "MUG-1", "quantity": 1}),
        ("POST", "/carts/CART/items", {"sku": "NOPE", "quantity": 1}),
        ("PUT", "/carts/nope/items/MUG-1", {"quantity": 2}),
        ("PUT", "/carts/CART/items/NOPE", {"quantity": 2}),
        ("DELETE", "/carts/nope/items/MUG-1", None),
        ("DELETE", "/carts/CART/items/NOPE", None),
        ("POST", "/orders", {"cart_id": "nope", "payment": card()}),
        ("POST", "/orders/nope/ship", None),
        ("POST", "/orders/nope/cancel", None),
        ("GET", "/streams/order-nope", None),
        ("GET", "/no/such/route", None),
    ],
)
async def test_unknown_things_are_a_404_problem(
    shop: Shop, method: str, path: str, body: Any
) -> None:
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 1})
    size = await shop.log_size()
    path = path.replace("CART", cart_id)
    response = await shop.command.request(method, path, json=body)
    assert_problem(response, 404)
    assert await shop.log_size() == size


# --- 409 ---------------------------------------------------------------------------


async def test_adding_a_product_twice_is_a_409_problem(shop: Shop) -> None:
    await shop.add_product("MUG-1")
    response = await shop.command.post("/products", json=PRODUCT)
    assert "already exists" in assert_problem(response, 409)["detail"]
    assert len(await shop.events("product-MUG-1")) == 1


async def test_a_discontinued_product_cannot_go_into_a_cart(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=3)
    cart_id = await shop.cart()
    await shop.do("POST", "/products/MUG-1/discontinue")
    body = {"sku": "MUG-1", "quantity": 1}
    response = await shop.command.post(f"/carts/{cart_id}/items", json=body)
    assert "discontinued" in assert_problem(response, 409)["detail"]
    assert (await shop.read(f"/carts/{cart_id}"))["items"] == []


async def test_an_empty_cart_cannot_be_ordered(shop: Shop) -> None:
    cart_id = await shop.cart()
    assert_problem(await shop.place(cart_id), 409)
    assert shop.gateway.holds == {}


async def test_short_stock_is_a_409_and_the_authorization_is_voided(shop: Shop) -> None:
    await shop.add_product("MUG-1", price=700, stock=2)
    cart_id = await shop.cart(**{"MUG-1": 3})

    response = await shop.place(cart_id, order_id="o-short")

    assert "not enough stock" in assert_problem(response, 409)["detail"]
    assert shop.gateway.holds == {}
    (voided,) = shop.gateway.voided
    assert "o-short" in voided
    assert await shop.events("order-o-short") == []
    assert [e["type"] for e in await shop.events("inventory-MUG-1")] == ["StockAdded"]
    assert (await shop.read(f"/carts/{cart_id}"))["status"] == "open"


async def test_two_customers_racing_for_the_last_unit_one_wins(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=1)
    carts = [await shop.cart(who, **{"MUG-1": 1}) for who in ("alice", "bob")]

    answers = await asyncio.gather(*(shop.place(cart_id) for cart_id in carts))

    assert sorted(r.status_code for r in answers) == [201, 409]
    loser = next(r for r in answers if r.status_code == 409)
    assert_problem(loser, 409)
    assert len(shop.gateway.holds) == 1
    assert len(shop.gateway.voided) == 1
    winner = next(r for r in answers if r.status_code == 201)
    shop.token = winner.json()["consistency_token"]  # covers the inventory stream
    assert (await shop.read("/products/MUG-1"))["available"] == 0


# --- 402 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expiry"), [(DECLINE_CARD, "12/2099"), (APPROVE_CARD, "01/20")]
)
async def test_a_declined_card_is_a_402_with_nothing_reserved_or_held(
    shop: Shop, number: str, expiry: str
) -> None:
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 2})
    body = {"cart_id": cart_id, "payment": card(number, expiry), "order_id": "o-1"}

    response = await shop.command.post("/orders", json=body)

    assert "declined" in assert_problem(response, 402)["detail"]
    assert shop.gateway.holds == {}
    assert [e["type"] for e in await shop.events("order-o-1")] == ["PaymentDeclined"]
    assert [e["type"] for e in await shop.events("inventory-MUG-1")] == ["StockAdded"]
    assert (await shop.read("/products/MUG-1"))["available"] == 5
    assert (await shop.read(f"/carts/{cart_id}"))["status"] == "open"
    # the customer can pay with another card
    assert (await shop.place(cart_id)).status_code == 201


async def test_a_luhn_invalid_card_is_a_422_and_holds_nothing(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 1})
    size = await shop.log_size()

    response = await shop.place(cart_id, "4242424242424241")

    assert "Luhn" in assert_problem(response, 422)["detail"]
    assert shop.gateway.holds == {}
    assert await shop.log_size() == size


# --- successful commands ----------------------------------------------------------


async def test_every_command_answers_with_where_its_events_landed(shop: Shop) -> None:
    await shop.add_product("MUG-1", price=500, stock=10)
    cart_id = await shop.cart(**{"MUG-1": 2})
    answer = await shop.do("PUT", f"/carts/{cart_id}/items/MUG-1", {"quantity": 3})
    assert answer["stream_id"] == f"cart-{cart_id}"
    assert answer["version"] == 3
    assert answer["position"] == await shop.log_size()
    assert answer["cart_id"] == cart_id

    placed = created(await shop.place(cart_id, order_id="o-1"))
    assert (placed["stream_id"], placed["version"], placed["order_id"]) == (
        "order-o-1",
        1,
        "o-1",
    )
    assert placed["position"] == await shop.log_size()
    assert [e["type"] for e in await shop.events(f"cart-{cart_id}")][-1] == (
        "CartCheckedOut"
    )


async def test_cancelling_releases_the_stock_and_voids_the_hold(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=5)
    await shop.add_product("TEA-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 2, "TEA-1": 1})
    order_id = await shop.order(cart_id)
    (placed,) = await shop.events(f"order-{order_id}")
    authorization = placed["data"]["payment"]["authorization_id"]
    assert authorization in shop.gateway.holds
    assert (await shop.read("/products/MUG-1"))["available"] == 3

    await shop.do("POST", f"/orders/{order_id}/cancel", {"reason": "too slow"})

    assert authorization not in shop.gateway.holds
    assert authorization in shop.gateway.voided
    assert (await shop.read("/products/MUG-1"))["available"] == 5
    assert (await shop.read("/products/TEA-1"))["available"] == 5
    assert (await shop.read(f"/orders/{order_id}"))["status"] == "cancelled"
    again = await shop.command.post(f"/orders/{order_id}/cancel")
    assert_problem(again, 409)
    assert (await shop.read("/products/MUG-1"))["available"] == 5


async def test_a_shipped_order_cannot_be_cancelled(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=5)
    order_id = await shop.order(await shop.cart(**{"MUG-1": 1}))
    await shop.do("POST", f"/orders/{order_id}/ship")
    assert_problem(await shop.command.post(f"/orders/{order_id}/cancel"), 409)
    assert (await shop.read(f"/orders/{order_id}"))["status"] == "shipped"


# --- idempotency -------------------------------------------------------------------


async def test_the_same_key_and_body_give_the_same_answer_and_append_nothing(
    shop: Shop,
) -> None:
    await shop.add_product("MUG-1")
    key = {"Idempotency-Key": "restock-1"}
    first = await shop.command.post(
        "/inventory/MUG-1/restock", json={"quantity": 4}, headers=key
    )
    size = await shop.log_size()

    again = await shop.command.post(
        "/inventory/MUG-1/restock", json={"quantity": 4}, headers=key
    )

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Consistency-Token"] == first.headers["Consistency-Token"]
    assert await shop.log_size() == size
    shop.token = again.json()["consistency_token"]
    assert (await shop.read("/products/MUG-1"))["available"] == 4


async def test_a_new_cart_replayed_by_key_is_the_same_cart(shop: Shop) -> None:
    key = {"Idempotency-Key": "cart-1"}
    first = await shop.command.post("/carts", json={"customer_id": "al"}, headers=key)
    again = await shop.command.post("/carts", json={"customer_id": "al"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    logged = await shop.system.event_store.read_all(0, 100)
    assert [e.type for e in logged] == ["CartCreated", "CommandAnswered"]


async def test_a_key_reused_with_a_different_body_is_a_422(shop: Shop) -> None:
    await shop.add_product("MUG-1")
    key = {"Idempotency-Key": "k-1"}
    path = "/inventory/MUG-1/restock"
    assert (await shop.command.post(path, json={"quantity": 4}, headers=key)).is_success
    size = await shop.log_size()

    other_body = await shop.command.post(path, json={"quantity": 5}, headers=key)

    assert "Idempotency-Key" in assert_problem(other_body, 422)["detail"]
    assert await shop.log_size() == size


async def test_a_key_is_scoped_to_the_caller_and_the_route(shop: Shop) -> None:
    """The same key on another route, or from another customer, is another
    key: it neither replays nor blocks the first one's request."""
    await shop.add_product("MUG-1")
    key = {"Idempotency-Key": "k-1"}
    path = "/inventory/MUG-1/restock"
    assert (await shop.command.post(path, json={"quantity": 4}, headers=key)).is_success
    other_route = await shop.command.post(
        "/products/MUG-1/price", json={"price_cents": 4}, headers=key
    )
    assert other_route.status_code == 202, other_route.text

    body = {"cart_id": "shared"}
    alice = await shop.command.post(
        "/carts", json=body, headers={**key, **customer("alice")}
    )
    again = await shop.command.post(
        "/carts", json=body, headers={**key, **customer("alice")}
    )
    bob = await shop.command.post(
        "/carts", json=body, headers={**key, **customer("bob")}
    )
    assert alice.status_code == again.status_code == 201
    assert again.json() == alice.json(), "alice's replay is alice's answer"
    assert_problem(bob, 409)  # bob's own attempt: the cart id is taken


async def test_a_placed_order_replayed_by_key_is_not_charged_twice(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 1})
    key = {"Idempotency-Key": "order-1"}
    body = {"cart_id": cart_id, "payment": card()}
    first = await shop.command.post("/orders", json=body, headers=key)
    size = await shop.log_size()

    again = await shop.command.post("/orders", json=body, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await shop.log_size() == size
    assert len(shop.gateway.holds) == 1
    assert shop.gateway.voided == set()


async def test_twin_orders_under_one_key_all_get_the_order(shop: Shop) -> None:
    """A client that retries while its first request is still being placed gets
    the order, not 409 "cart checked out" (the cart was checked out by itself)."""
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 1})
    key = {"Idempotency-Key": "order-twins"}
    body = {"cart_id": cart_id, "payment": card()}
    store = shop.system.event_store
    read_stream = store.read_stream
    lookups = 0

    async def first_answer_is_late(stream_id: str, *args: Any) -> Any:
        nonlocal lookups
        found = await read_stream(stream_id, *args)
        if stream_id.startswith("idempotency-"):
            lookups += 1
            if lookups == 1:  # "no answer yet", then overtaken by its twins
                await asyncio.sleep(0.2)
        return found

    store.read_stream = first_answer_is_late  # type: ignore[method-assign]
    answers = await asyncio.gather(
        *(shop.command.post("/orders", json=body, headers=key) for _ in range(6))
    )

    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert len({a.json()["order_id"] for a in answers}) == 1
    assert len(shop.gateway.holds) == 1, "one charge held, the others voided"


async def test_a_declined_order_replayed_by_key_is_declined_again_once(
    shop: Shop,
) -> None:
    await shop.add_product("MUG-1", stock=5)
    cart_id = await shop.cart(**{"MUG-1": 1})
    key = {"Idempotency-Key": "order-1"}
    body = {"cart_id": cart_id, "payment": card(DECLINE_CARD)}
    first = assert_problem(
        await shop.command.post("/orders", json=body, headers=key), 402
    )
    size = await shop.log_size()

    again = await shop.command.post("/orders", json=body, headers=key)

    assert assert_problem(again, 402)["detail"] == first["detail"]
    assert await shop.log_size() == size
    declined = [
        e
        for e in await shop.system.event_store.read_all(0, 1000)
        if e.type == "PaymentDeclined"
    ]
    assert len(declined) == 1


async def test_a_key_whose_first_answer_appended_nothing_still_replays(
    shop: Shop,
) -> None:
    await shop.add_product("MUG-1", price=500)
    key = {"Idempotency-Key": "price-1"}
    first = await shop.command.post(
        "/products/MUG-1/price", json={"price_cents": 500}, headers=key
    )
    assert first.status_code == 202
    await shop.do("POST", "/products/MUG-1/price", {"price_cents": 600})
    size = await shop.log_size()

    retry = await shop.command.post(
        "/products/MUG-1/price", json={"price_cents": 500}, headers=key
    )

    assert retry.json() == first.json()
    assert await shop.log_size() == size


async def test_a_line_can_not_grow_past_10000_units(shop: Shop) -> None:
    await shop.add_product("MUG-1")
    cart_id = await shop.cart(**{"MUG-1": 10_000})
    size = await shop.log_size()
    body = {"sku": "MUG-1", "quantity": 1}
    response = await shop.command.post(f"/carts/{cart_id}/items", json=body)
    assert_problem(response, 422)
    assert await shop.log_size() == size


async def test_a_wrong_method_is_a_405_problem(command: httpx.AsyncClient) -> None:
    response = await command.get("/orders")
    assert_problem(response, 405)
    assert response.headers["Allow"] == "POST"


# --- operations and docs ------------------------------------------------------------


async def test_health_readiness_and_metrics_answer(
    command: httpx.AsyncClient, shop: Shop
) -> None:
    await shop.add_product("MUG-1")
    for path in ("/healthz", "/readyz", "/metrics"):
        response = await command.get(path)
        assert response.status_code == 200, path
    metrics = (await command.get("/metrics")).text
    assert 'cqrskit_commands_total{command="AddProduct",outcome="ok"} 1.0' in metrics
    assert "cqrskit_command_conflict_retries_total 0.0" in metrics


COMMAND_ROUTES = {
    ("post", "/products"),
    ("post", "/products/{sku}/price"),
    ("post", "/products/{sku}/discontinue"),
    ("post", "/inventory/{sku}/restock"),
    ("post", "/carts"),
    ("post", "/carts/{cart_id}/items"),
    ("put", "/carts/{cart_id}/items/{sku}"),
    ("delete", "/carts/{cart_id}/items/{sku}"),
    ("post", "/orders"),
    ("post", "/orders/{order_id}/ship"),
    ("post", "/orders/{order_id}/cancel"),
    ("get", "/streams/{stream_id}"),
}


async def test_the_openapi_document_lists_the_contract_routes(
    command: httpx.AsyncClient,
) -> None:
    spec = (await command.get("/openapi.json")).json()
    documented = {(m, path) for path, ops in spec["paths"].items() for m in ops}
    assert documented >= COMMAND_ROUTES
    docs = await command.get("/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.text
