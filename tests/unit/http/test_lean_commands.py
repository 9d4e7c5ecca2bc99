"""The lean command routes answer exactly as the FastAPI routes they stand in
for: the same request, sent to the shop as it is (its hot commands lean) and
to the same shop with no lean route, gets the same status, headers and body,
whether it is good or bad. Each app runs on a system of its own, fed the same
requests in the same order, so even versions and positions must agree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from shop_http import SETTINGS
from starlette.routing import Route

from cqrskit.core.application import Application
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.lean import LeanCommand
from cqrskit.runtime.bootstrap import CommandSide
from cqrskit.runtime.embedded import borrowed, running_system
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.payments import APPROVE_CARD, DECLINE_CARD
from credentials import ADMIN_HEADERS, SERVER_KEY, customer, verifier

JSON = {"Content-Type": "application/json"}
ALICE = customer("alice")
PRODUCT = {"sku": "LEAN-1", "name": "Lean", "price_cents": 1250}


def _no_lean(application: Application[Any, Any]) -> Application[Any, Any]:
    routes = tuple(replace(r, lean=False) for r in application.command_routes)
    return replace(application, command_routes=routes)


@dataclass(frozen=True)
class Call:
    """One request: `body` as given (bytes are sent as they are)."""

    method: str
    path: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = tuple(JSON.items())

    def sent(self) -> dict[str, Any]:
        content = self.body
        if not isinstance(content, bytes) and content is not None:
            content = httpx.Request("POST", "/", json=content).content
        return {"content": content, "headers": dict(self.headers)}


def _post(path: str, body: Any, **headers: str) -> Call:
    return Call("POST", path, body, tuple({**JSON, **headers}.items()))


def _raw(path: str, body: bytes, **headers: str) -> Call:
    return Call("POST", path, body, tuple(headers.items()))


SETUP = [
    _post("/products", PRODUCT),
    _post("/products", {**PRODUCT, "sku": "LEAN-2"}),
    _post("/inventory/LEAN-1/restock", {"quantity": 10}),
    _post("/carts", {"customer_id": "alice", "cart_id": "cart-a"}, **ALICE),
]
CASES = {
    "a new product": _post("/products", {**PRODUCT, "sku": "NEW"}),
    "an integral float": _post(
        "/products", {**PRODUCT, "sku": "F", "price_cents": 9.0}
    ),
    "a product twice": _post("/products", PRODUCT),
    "a missing field": _post("/products", {"sku": "X", "name": "X"}),
    "an unknown field": _post("/products", {**PRODUCT, "sku": "Y", "colour": "red"}),
    "every field wrong": _post("/products", {"sku": "no spaces", "price_cents": -1}),
    "a blank name": _post("/products", {**PRODUCT, "sku": "Z", "name": "  "}),
    "not JSON": _raw("/products", b"{sku: 1", **JSON),
    "JSON as text": _raw(
        "/products", b'{"sku": "T"}', **{"Content-Type": "text/plain"}
    ),
    "no content type": _raw("/products", b'{"sku": "T", "name": "T"}'),
    "JSON with a charset": _raw(
        "/products",
        b'{"sku": "C", "name": "C", "price_cents": 1}',
        **{"Content-Type": "application/json; charset=utf-8"},
    ),
    "an empty body": _raw("/products", b"", **JSON),
    "null": _raw("/products", b"null", **JSON),
    "a list": _raw("/products", b"[1, 2]", **JSON),
    "a string": _raw("/products", b'"LEAN"', **JSON),
    "NaN": _raw("/inventory/LEAN-1/restock", b'{"quantity": NaN}', **JSON),
    "a restock": _post("/inventory/LEAN-1/restock", {"quantity": 5}),
    "a restock of a string": _post("/inventory/LEAN-1/restock", {"quantity": "5"}),
    "a restock of nothing": _post("/inventory/LEAN-1/restock", {"quantity": 0}),
    "a restock of an unknown SKU": _post("/inventory/NOPE/restock", {"quantity": 1}),
    "a bad SKU in the path": _post("/inventory/-bad/restock", {"quantity": 1}),
    "a bad SKU and body": _post("/inventory/-bad/restock", {"quantity": -1}),
    "a key": _post(
        "/inventory/LEAN-1/restock", {"quantity": 2}, **{"Idempotency-Key": "k-1"}
    ),
    "the key again": _post(
        "/inventory/LEAN-1/restock", {"quantity": 2}, **{"Idempotency-Key": "k-1"}
    ),
    "the key, another body": _post(
        "/inventory/LEAN-1/restock", {"quantity": 3}, **{"Idempotency-Key": "k-1"}
    ),
    "a key with a space": _post(
        "/products", {**PRODUCT, "sku": "K"}, **{"Idempotency-Key": "a b"}
    ),
    "no token": _post("/products", {**PRODUCT, "sku": "N"}, Authorization=""),
    "no token, bad body": _post("/products", {"sku": 1}, Authorization=""),
    "no token, not JSON": _raw("/products", b"{", Authorization="", **JSON),
    "a customer adding a product": _post("/products", {**PRODUCT, "sku": "C"}, **ALICE),
    "an item": _post("/carts/cart-a/items", {"sku": "LEAN-1", "quantity": 2}, **ALICE),
    "an item of an unknown SKU": _post(
        "/carts/cart-a/items", {"sku": "NOPE", "quantity": 1}, **ALICE
    ),
    "an item in someone else's cart": _post(
        "/carts/cart-a/items", {"sku": "LEAN-1", "quantity": 1}, **customer("bob")
    ),
    "an item in a bad cart id": _post(
        "/carts/%20x/items", {"sku": "LEAN-1", "quantity": 1}, **ALICE
    ),
    "a declined order": _post(
        "/orders",
        {
            "cart_id": "cart-a",
            "order_id": "o-1",
            "payment": {"card_number": DECLINE_CARD, "expiry": "12/2099", "cvc": "123"},
        },
        **ALICE,
    ),
    "a Luhn-invalid card": _post(
        "/orders",
        {
            "cart_id": "cart-a",
            "order_id": "o-2",
            "payment": {
                "card_number": "4242424242424241",
                "expiry": "12/2099",
                "cvc": "123",
            },
        },
        **ALICE,
    ),
    "an order": _post(
        "/orders",
        {
            "cart_id": "cart-a",
            "order_id": "o-3",
            "payment": {"card_number": APPROVE_CARD, "expiry": "12/2099", "cvc": "123"},
        },
        **ALICE,
    ),
    "a wrong method": Call("GET", "/inventory/LEAN-1/restock"),
}


@pytest.fixture
async def both() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with _client(SHOP) as lean, _client(_no_lean(SHOP)) as plain:
        yield lean, plain


@asynccontextmanager
async def _client(
    application: Application[Any, Any],
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_system(SHOP, SETTINGS) as system:
        app = create_command_app(
            application, lambda: borrowed(system.command), verifier(), SERVER_KEY
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://command", headers=ADMIN_HEADERS
            ) as client:
                yield client


def _never_opened() -> AbstractAsyncContextManager[CommandSide[Any]]:
    raise AssertionError("the lifespan is not entered")


def _seen(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k != "x-correlation-id"}
    body: Any = response.content
    if response.headers.get("content-type", "").endswith("json"):
        body = response.json()
        if isinstance(body, dict):
            body.pop("correlation_id", None)
    return response.status_code, headers, body


async def test_the_hot_commands_are_lean_and_still_documented() -> None:
    app = create_command_app(SHOP, _never_opened, verifier(), SERVER_KEY)
    routes = app.router.routes
    lean = {
        r.name: i
        for i, r in enumerate(routes)
        if isinstance(r, Route) and isinstance(r.endpoint, LeanCommand)
    }
    fastapi = {r.name: i for i, r in enumerate(routes) if isinstance(r, APIRoute)}
    assert {"add_product", "restock", "add_item", "place_order"} <= set(lean)
    assert all(lean[name] < fastapi[name] for name in lean)  # lean answers first
    operations = {
        op["operationId"]
        for path in app.openapi()["paths"].values()
        for op in path.values()
    }
    assert set(lean) <= operations


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
async def test_lean_and_fastapi_routes_answer_alike(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], case: str
) -> None:
    lean, plain = both
    for call in [*SETUP, CASES[case]]:
        answers = [
            _seen(await client.request(call.method, call.path, **call.sent()))
            for client in (lean, plain)
        ]
        assert answers[0] == answers[1], call
    assert answers[0][0] < 500


async def test_a_good_command_skips_the_fastapi_route_and_a_bad_one_reaches_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[str] = []
    original = APIRoute.handle

    async def handle(self: APIRoute, scope: Any, receive: Any, send: Any) -> None:
        handed.append(self.name)
        await original(self, scope, receive, send)

    monkeypatch.setattr(APIRoute, "handle", handle)
    async with _client(SHOP) as client:
        for call in SETUP:
            await client.request(call.method, call.path, **call.sent())
        handed.clear()  # creating the cart is not a lean command
        for case in ("a new product", "a restock", "an item", "an order"):
            call = CASES[case]
            answer = await client.request(call.method, call.path, **call.sent())
            assert answer.status_code in (201, 202), answer.text
        assert handed == []
        for case in ("a restock of nothing", "JSON as text", "a bad SKU in the path"):
            call = CASES[case]
            answer = await client.request(call.method, call.path, **call.sent())
            assert answer.status_code == 422, answer.text
        assert handed == ["restock", "add_product", "restock"]
