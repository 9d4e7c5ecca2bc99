"""Both OpenAPI documents describe every answer a generated client meets:
a schema for every success and every problem, each route's own list of
problem statuses (derived from its table entry), the shared headers, and
problem `type`s that the answers really carry and that resolve to a page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop_http import Shop, assert_problem, card

from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.payments import DECLINE_CARD
from credentials import SERVER_KEY, verifier

PROBLEM = "application/problem+json"
COMMAND = create_command_app(SHOP, None, verifier(), SERVER_KEY)  # type: ignore[arg-type]
QUERY = create_query_app(SHOP, None, verifier(), SERVER_KEY)  # type: ignore[arg-type]
ROUTES = {route.name: route for route in SHOP.command_routes}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, ops in app.openapi()["paths"].items()
        for method, operation in ops.items()
    ]


ALL = [(app, *op) for app in (COMMAND, QUERY) for op in operations(app)]


def problem_types(operation: dict[str, Any], status: str) -> list[str]:
    schema = operation["responses"][status]["content"][PROBLEM]["schema"]
    ref, narrowed = schema["allOf"]
    assert ref == {"$ref": "#/components/schemas/Problem"}
    types: list[str] = narrowed["properties"]["type"]["enum"]
    return types


@pytest.mark.parametrize(("app", "method", "path", "operation"), ALL)
def test_every_answer_has_a_schema_and_the_shared_headers(
    app: FastAPI, method: str, path: str, operation: dict[str, Any]
) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert "Problem" in schemas
    assert operation["operationId"] and operation["tags"] and operation["summary"]
    names = [p["name"] for p in operation["parameters"]]
    assert "X-Correlation-Id" in names
    if method == "get":
        assert path == "/streams/{stream_id}" or "Consistency-Token" in names
    else:
        assert "Idempotency-Key" in names
    for status, answer in operation["responses"].items():
        assert "X-Correlation-Id" in answer["headers"], (path, status)
        if status.startswith("2"):
            schema = answer["content"]["application/json"]["schema"]
            name = schema["$ref"].rsplit("/", 1)[-1]
            assert "examples" in schemas[name], name
            if method != "get":
                assert answer["headers"]["Consistency-Token"]["required"]
        else:
            assert problem_types(operation, status), (path, status)
            assert answer["content"][PROBLEM]["examples"]


@pytest.mark.parametrize(("app", "method", "path", "operation"), ALL)
def test_each_route_lists_only_the_statuses_it_can_answer(
    app: FastAPI, method: str, path: str, operation: dict[str, Any]
) -> None:
    statuses = {s for s in operation["responses"] if not s.startswith("2")}
    expected = {"422", "503"}
    if operation["x-access"] != "public":
        expected |= {"401", "403"}
    if method != "get":
        route = ROUTES[operation["operationId"]]
        expected |= {"409", "413", "429", *map(str, route.problems)}
        expected |= {"404"} if "{" in path else set()
        expected |= {"400"} if "requestBody" in operation else set()
    else:
        expected |= {"404"} if "{" in path else set()
    assert statuses == expected


def test_the_statuses_differ_by_route() -> None:
    """A rename cannot be declined nor a new product missing."""
    by_id = {op["operationId"]: op for _, _, _, op in ALL}
    assert "402" in by_id["place_order"]["responses"]
    assert "402" not in by_id["rename_product"]["responses"]
    assert "404" not in by_id["add_product"]["responses"]
    assert "400" not in by_id["ship_order"]["responses"]
    assert "401" not in by_id["get_product"]["responses"]
    assert "429" not in by_id["get_cart"]["responses"]
    assert problem_types(by_id["place_order"], "402") == ["/problems/payment-declined"]
    conflicts = problem_types(by_id["add_product"], "409")
    assert conflicts == ["/problems/conflict", "/problems/concurrent-change"]
    waits = problem_types(by_id["get_product"], "503")
    assert waits == ["/problems/unavailable", "/problems/not-caught-up"]


async def test_every_documented_type_resolves_on_both_services() -> None:
    documented = {
        kind
        for _, _, _, operation in ALL
        for status in operation["responses"]
        if not status.startswith("2")
        for kind in problem_types(operation, status)
    }
    for app in (COMMAND, QUERY):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as c:
            for kind in documented:
                page = await c.get(kind)
                assert page.status_code == 200, kind
                assert page.headers["content-type"].startswith("text/html")
            assert_problem(await c.get("/problems/nosuch"), 404)


async def test_answers_carry_the_type_of_their_kind(shop: Shop) -> None:
    body = {"sku": "MUG-1", "name": "Mug", "price_cents": 900}
    await shop.command.post("/products", json=body)
    again = await shop.command.post("/products", json=body)
    assert assert_problem(again, 409)["type"] == "/problems/conflict"
    missing = await shop.command.post("/products/NONE/price", json={"price_cents": 1})
    assert assert_problem(missing, 404)["type"] == "/problems/not-found"
    invalid = await shop.command.post("/products/MUG-1/price", json={"price_cents": 0})
    assert assert_problem(invalid, 422)["type"] == "/problems/invalid"
    json_type = {"Content-Type": "application/json"}
    broken = await shop.command.post(
        "/products/MUG-1/price", content=b"{", headers=json_type
    )
    assert assert_problem(broken, 400)["type"] == "/problems/bad-request"
    wrong = await shop.command.get("/products/MUG-1/price")
    assert assert_problem(wrong, 405)["type"] == "/problems/method-not-allowed"
    nobody = await shop.query.get("/carts/c1", headers={"Authorization": ""})
    assert assert_problem(nobody, 401)["type"] == "/problems/unauthorized"
    await shop.command.post("/inventory/MUG-1/restock", json={"quantity": 5})
    cart = (await shop.command.post("/carts", json={"customer_id": "ann"})).json()
    await shop.command.post(
        f"/carts/{cart['cart_id']}/items", json={"sku": "MUG-1", "quantity": 1}
    )
    order = {"cart_id": cart["cart_id"], "payment": card(DECLINE_CARD)}
    declined = await shop.command.post("/orders", json=order)
    assert assert_problem(declined, 402)["type"] == "/problems/payment-declined"
    assert assert_problem(declined, 402)["title"] == "Payment Declined"
