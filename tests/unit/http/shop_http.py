"""A client's-eye helper for the HTTP tests: set up the shop over HTTP, read
it back with consistency tokens, and check problem answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from cqrskit.runtime.embedded import System
from cqrskit.runtime.settings import Settings
from cqrskit.shop.payments import APPROVE_CARD, DeterministicGateway

SETTINGS = Settings(
    event_store_url="memory://",
    broker_url="memory://",
    read_store_url="memory://",
    partitions=4,
    consistency_timeout=5.0,
)
"""The whole system in memory, as the HTTP tests run it."""
PROBLEM = "application/problem+json"
GOOD_EXPIRY = "12/2099"


def card(number: str = APPROVE_CARD, expiry: str = GOOD_EXPIRY) -> dict[str, str]:
    return {"card_number": number, "expiry": expiry, "cvc": "123"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 answer with the fields a client relies on; never a 500."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/"), body  # names its kind
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["correlation_id"] == response.headers["X-Correlation-Id"]
    return body


def created(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class Shop:
    system: System
    command: httpx.AsyncClient
    query: httpx.AsyncClient
    token: str | None = None
    """The consistency token of the last command that succeeded."""

    @property
    def gateway(self) -> DeterministicGateway:
        gateway = self.system.command.commands.gateway
        assert isinstance(gateway, DeterministicGateway)
        return gateway

    async def do(
        self, method: str, path: str, body: Any = None, status: int = 202, **kw: Any
    ) -> dict[str, Any]:
        answer = created(
            await self.command.request(method, path, json=body, **kw), status
        )
        self.token = answer["consistency_token"]
        return answer

    async def add_product(
        self,
        sku: str,
        *,
        name: str | None = None,
        price: int = 1000,
        category: str | None = None,
        stock: int = 0,
    ) -> None:
        body: dict[str, Any] = {"sku": sku, "name": name or f"Product {sku}"}
        body["price_cents"] = price
        if category is not None:
            body["category"] = category
        await self.do("POST", "/products", body, 201)
        if stock:
            await self.do("POST", f"/inventory/{sku}/restock", {"quantity": stock})

    async def cart(self, customer: str = "alice", **items: int) -> str:
        """A new cart holding `items` (sku=quantity)."""
        answer = await self.do("POST", "/carts", {"customer_id": customer}, 201)
        cart_id: str = answer["cart_id"]
        for sku, quantity in items.items():
            body = {"sku": sku, "quantity": quantity}
            await self.do("POST", f"/carts/{cart_id}/items", body)
        return cart_id

    async def place(
        self, cart_id: str, number: str = APPROVE_CARD, **extra: Any
    ) -> httpx.Response:
        body = {"cart_id": cart_id, "payment": card(number), **extra}
        return await self.command.post("/orders", json=body)

    async def order(self, cart_id: str) -> str:
        response = await self.place(cart_id)
        answer = created(response)
        self.token = answer["consistency_token"]
        order_id: str = answer["order_id"]
        return order_id

    async def read(self, path: str, **params: Any) -> Any:
        """GET on the query service, caught up with the last command."""
        headers = {"Consistency-Token": self.token} if self.token else {}
        response = await self.query.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, stream_id: str) -> list[dict[str, Any]]:
        """The audit trail of a stream ([] if it has none)."""
        response = await self.command.get(f"/streams/{stream_id}")
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    async def log_size(self) -> int:
        return len(await self.system.event_store.read_all(0, 1_000_000))
