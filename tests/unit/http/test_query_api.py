"""The query service as a client sees it: read models caught up by consistency
tokens, listings and pages, and problems for bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from shop_http import Shop, assert_problem

from cqrskit.core.consistency import token_for
from cqrskit.core.messages import Ack
from credentials import SERVER_KEY


def signed(*written: tuple[str, int], key: bytes = SERVER_KEY) -> str:
    """A token as the command service would sign it."""
    return token_for(Ack(written[0][0], written[0][1], 0, written), key)


async def all_pages(shop: Shop, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page = await shop.read(path, **params, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


# --- read your writes --------------------------------------------------------------


async def test_a_query_with_a_commands_token_sees_its_effect(shop: Shop) -> None:
    await shop.add_product("MUG-1", name="Mug", price=500, category="kitchen")
    assert await shop.read("/products/MUG-1") == {
        "sku": "MUG-1",
        "name": "Mug",
        "description": "",
        "category": "kitchen",
        "price_cents": 500,
        "available": 0,
        "discontinued": False,
    }
    for quantity, available in [(3, 3), (4, 7)]:
        await shop.do("POST", "/inventory/MUG-1/restock", {"quantity": quantity})
        assert (await shop.read("/products/MUG-1"))["available"] == available
    await shop.do("POST", "/products/MUG-1/price", {"price_cents": 650})
    assert (await shop.read("/products/MUG-1"))["price_cents"] == 650
    await shop.do("POST", "/products/MUG-1/discontinue")
    assert (await shop.read("/products/MUG-1"))["discontinued"] is True


async def test_an_orders_token_covers_every_stream_it_wrote(shop: Shop) -> None:
    await shop.add_product("MUG-1", price=500, stock=10)
    await shop.add_product("TEA-1", price=250, stock=10)
    cart_id = await shop.cart("alice", **{"MUG-1": 2, "TEA-1": 4})

    order_id = await shop.order(cart_id)  # the token is now the order's

    assert (await shop.read("/products/MUG-1"))["available"] == 8
    assert (await shop.read("/products/TEA-1"))["available"] == 6
    assert (await shop.read(f"/carts/{cart_id}"))["status"] == "checked_out"
    order = await shop.read(f"/orders/{order_id}")
    assert order["status"] == "placed"
    assert order["total_cents"] == 2 * 500 + 4 * 250
    assert order["customer_id"] == "alice"
    history = await shop.read("/customers/alice/orders")
    assert [o["order_id"] for o in history["items"]] == [order_id]


async def test_a_cart_shows_line_totals_and_its_total(shop: Shop) -> None:
    await shop.add_product("MUG-1", name="Mug", price=500)
    await shop.add_product("TEA-1", name="Tea", price=250)
    await shop.add_product("LAMP-1", name="Lamp", price=3000)
    cart_id = await shop.cart("bob", **{"MUG-1": 2, "TEA-1": 1, "LAMP-1": 1})
    await shop.do("POST", f"/carts/{cart_id}/items", {"sku": "TEA-1", "quantity": 2})
    await shop.do("PUT", f"/carts/{cart_id}/items/MUG-1", {"quantity": 5})
    await shop.do("PUT", f"/carts/{cart_id}/items/LAMP-1", {"quantity": 0})

    assert await shop.read(f"/carts/{cart_id}") == {
        "cart_id": cart_id,
        "customer_id": "bob",
        "items": [
            {
                "sku": "MUG-1",
                "name": "Mug",
                "quantity": 5,
                "unit_price_cents": 500,
                "line_total_cents": 2500,
            },
            {
                "sku": "TEA-1",
                "name": "Tea",
                "quantity": 3,
                "unit_price_cents": 250,
                "line_total_cents": 750,
            },
        ],
        "total_cents": 3250,
        "status": "open",
    }
    await shop.do("DELETE", f"/carts/{cart_id}/items/TEA-1")
    assert (await shop.read(f"/carts/{cart_id}"))["total_cents"] == 2500


async def test_a_token_the_read_side_has_not_reached_is_a_503_to_retry(
    shop: Shop,
) -> None:
    await shop.add_product("MUG-1")
    shop.system.query.consistency_timeout = 0.05
    ahead = signed(("product-MUG-1", 99), ("inventory-MUG-1", 999999999999999999))
    response = await shop.query.get(
        "/products/MUG-1", headers={"Consistency-Token": ahead}
    )
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "!!!",
        "product-MUG-1",
        "product-MUG-1@one",
        "product-MUG-1@1@2",
        "Product-MUG-1@1",
        "product-MUG-1@1,",
        "product-MUG\x00@1",
        "product-MUG-1@1\n",
        ",".join(["product-MUG-1@1"] * 300),
        "product-MUG-1@1",
        "product-MUG-1@1~AAAAAAAAAAAAAAAAAAAAAA",
        signed(("product-MUG-1", 1), key=b"another-key-of-another-system-0123"),
        signed(("product-MUG-1", 1))[:-1] + "A",
    ],
)
async def test_a_garbage_or_forged_token_is_a_422_problem_at_once(
    query: httpx.AsyncClient, token: str
) -> None:
    """Unsigned, signed with another key, or altered: refused before any wait
    (the service's wait is 5 s; the in-process call would show it)."""
    for path in ("/products", "/products/MUG-1"):
        headers = [(b"consistency-token", token.encode())]
        assert_problem(await query.get(path, headers=headers), 422)


# --- listings ---------------------------------------------------------------------


async def test_catalog_search_is_case_insensitive_on_name_and_sku(shop: Shop) -> None:
    await shop.add_product("MUG-1", name="Stoneware Mug", category="kitchen")
    await shop.add_product("mug-2", name="Travel cup", category="outdoor")
    await shop.add_product("TEA-1", name="Green tea", category="pantry")
    await shop.add_product("KETTLE-1", name="Kettle", category="kitchen")

    async def skus(**params: Any) -> list[str]:
        return [p["sku"] for p in await all_pages(shop, "/products", **params)]

    assert await skus(q="MUG") == ["MUG-1", "mug-2"]
    assert await skus(q="mug") == ["MUG-1", "mug-2"]
    assert await skus(q="gReEn") == ["TEA-1"]
    assert await skus(q="nothing like it") == []
    assert await skus(category="kitchen") == ["KETTLE-1", "MUG-1"]
    assert await skus(category="kitchen", q="mug") == ["MUG-1"]
    assert await skus(category="garden") == []
    await shop.do("POST", "/products/TEA-1/name", {"name": "Sencha"})
    assert await skus(q="green") == []
    assert await skus(q="SENCHA") == ["TEA-1"]


async def test_paging_the_catalog_returns_every_product_exactly_once(
    shop: Shop,
) -> None:
    skus = [f"P-{n:02d}" for n in range(23)]
    for sku in reversed(skus):
        await shop.add_product(sku)
    first = await shop.read("/products", limit=5)
    assert len(first["items"]) == 5
    assert first["next_cursor"]

    listed = [p["sku"] for p in await all_pages(shop, "/products", limit=5)]

    assert listed == skus
    whole = await shop.read("/products", limit=100)
    assert [p["sku"] for p in whole["items"]] == skus
    assert whole["next_cursor"] is None


async def test_a_customers_orders_come_newest_first_in_pages(shop: Shop) -> None:
    await shop.add_product("MUG-1", stock=100)
    placed = []
    for _ in range(5):
        placed.append(await shop.order(await shop.cart("carol", **{"MUG-1": 1})))
    await shop.order(await shop.cart("dave", **{"MUG-1": 1}))

    pages = await all_pages(shop, "/customers/carol/orders", limit=2)

    assert [o["order_id"] for o in pages] == placed[::-1]
    assert all(o["customer_id"] == "carol" for o in pages)
    assert (await shop.read("/customers/nobody/orders"))["items"] == []


@pytest.mark.parametrize("path", ["/products", "/customers/alice/orders"])
@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
async def test_a_limit_outside_1_to_100_is_a_422_problem(
    query: httpx.AsyncClient, path: str, limit: str
) -> None:
    assert_problem(await query.get(path, params={"limit": limit}), 422)


@pytest.mark.parametrize("path", ["/products", "/customers/alice/orders"])
@pytest.mark.parametrize(
    "cursor", ["garbage", "!!!", "a~", "a~b~", "a\x00~b", "a~b\x01"]
)
async def test_a_cursor_the_service_did_not_issue_is_a_422_problem(
    query: httpx.AsyncClient, path: str, cursor: str
) -> None:
    response = await query.get(path, params={"cursor": cursor})
    assert "cursor" in assert_problem(response, 422)["detail"]


# --- not found and bad ids --------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/products/NOPE", "/carts/nope", "/orders/nope", "/nothing/here"]
)
async def test_unknown_things_are_a_404_problem(
    query: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await query.get(path), 404)


@pytest.mark.parametrize(
    "path", ["/products/bad%20sku", "/carts/-x", "/orders/x!y", "/customers/%20/orders"]
)
async def test_an_id_of_the_wrong_shape_is_a_422_problem(
    query: httpx.AsyncClient, path: str
) -> None:
    assert_problem(await query.get(path), 422)


async def test_the_correlation_id_is_echoed(query: httpx.AsyncClient) -> None:
    headers = {"X-Correlation-Id": "q-7"}
    found = await query.get("/products", headers=headers)
    missing = await query.get("/products/NOPE", headers=headers)
    assert found.headers["X-Correlation-Id"] == "q-7"
    assert assert_problem(missing, 404)["correlation_id"] == "q-7"


# --- operations and docs ------------------------------------------------------------


async def test_health_readiness_and_metrics_answer(query: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await query.get(path)).status_code == 200, path


QUERY_ROUTES = {
    "/products",
    "/products/{sku}",
    "/carts/{cart_id}",
    "/orders/{order_id}",
    "/customers/{customer_id}/orders",
}


async def test_the_openapi_document_lists_the_contract_routes(
    query: httpx.AsyncClient,
) -> None:
    spec = (await query.get("/openapi.json")).json()
    assert {p for p, ops in spec["paths"].items() if "get" in ops} >= QUERY_ROUTES
    listing = spec["paths"]["/products"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "q",
        "category",
        "limit",
        "cursor",
    }
    docs = await query.get("/docs")
    assert docs.status_code == 200
    assert "openapi.json" in docs.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/products", {"q": "mug\x00"}),
        ("/products", {"category": "kit\x00chen"}),
        ("/products", {"q": "two\nlines"}),
        ("/products/MUG-1%0A", {}),
        ("/carts/c1%00", {}),
        ("/orders/o1%0A", {}),
        ("/customers/a%00/orders", {}),
    ],
)
async def test_control_characters_never_reach_the_read_store(
    query: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    assert_problem(await query.get(path, params=params), 422)
