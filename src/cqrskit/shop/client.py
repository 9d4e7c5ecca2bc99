"""A typed Python client of the shop's two services, over httpx.

Written by hand rather than generated from the OpenAPI documents: the
documents give the shapes (and these models are the very ones they are
built from), but not the behaviour a client of a CQRS system needs, which is
the point of this one: a command's Consistency-Token is carried to the next
query, so that a caller reads its own writes without thinking about it; a
problem answer becomes an exception of its kind; an Idempotency-Key rides on
any command. It imports the shop's HTTP models and nothing of the servers.

    async with ShopClient(COMMAND_URL, QUERY_URL, token=jwt) as shop:
        await shop.restock("MUG-01", 10)
        product = await shop.get_product("MUG-01")  # reflects the restock
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from cqrskit.entrypoints.http.models import AuditTrail
from cqrskit.shop.client_errors import (
    BadRequest,
    ConcurrentChange,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    Invalid,
    NotCaughtUp,
    NotFound,
    PaymentDeclined,
    Problem,
    ProblemError,
    RateLimited,
    Unauthorized,
    Unavailable,
    problem_of,
)
from cqrskit.shop.models import (
    Cart,
    CommandAnswer,
    Order,
    OrderPage,
    Product,
    ProductPage,
)

__all__ = [
    "AuditTrail",
    "BadRequest",
    "Cart",
    "CommandAnswer",
    "ConcurrentChange",
    "Conflict",
    "Forbidden",
    "IdempotencyKeyReused",
    "Invalid",
    "NotCaughtUp",
    "NotFound",
    "Order",
    "OrderPage",
    "PaymentDeclined",
    "Problem",
    "ProblemError",
    "Product",
    "ProductPage",
    "RateLimited",
    "ShopClient",
    "Unauthorized",
    "Unavailable",
]

TOKEN_HEADER = "Consistency-Token"
KEY_HEADER = "Idempotency-Key"
A = TypeVar("A", bound=BaseModel)


class ShopClient:
    """Both services of one shop, as one caller (`token`: its bearer JWT).

    After a command, the next query sends that command's Consistency-Token
    and so reflects it (the service waits, bounded, for its read side); a
    query that got its answer has seen every effect of the command, and the
    token is dropped. `read_your_writes=False` sends none (a poller, a
    load generator). `with_token` makes a client for another caller that
    shares the connections (close only the first)."""

    def __init__(
        self,
        command_url: str,
        query_url: str,
        *,
        token: str | None = None,
        read_your_writes: bool = True,
        timeout: float = 30.0,
        limits: httpx.Limits | None = None,
        transports: tuple[httpx.AsyncBaseTransport, httpx.AsyncBaseTransport]
        | None = None,
    ) -> None:
        """`transports`: the command and query services' own (a test's ASGI
        apps); by default, HTTP connections within `limits`."""
        limits = limits or httpx.Limits()
        command, query = transports or (None, None)
        self._command = httpx.AsyncClient(
            base_url=command_url, timeout=timeout, limits=limits, transport=command
        )
        self._query = httpx.AsyncClient(
            base_url=query_url, timeout=timeout, limits=limits, transport=query
        )
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}
        self.read_your_writes = read_your_writes
        self.consistency_token: str | None = None
        """The last command's token, until a query has presented it."""

    def with_token(self, token: str | None) -> ShopClient:
        """The same services and connections, as another caller (or none)."""
        other = object.__new__(ShopClient)
        other.__dict__.update(self.__dict__)
        other._auth = {"Authorization": f"Bearer {token}"} if token else {}
        other.consistency_token = None
        return other

    async def __aenter__(self) -> ShopClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._command.aclose()
        await self._query.aclose()

    # --- commands ------------------------------------------------------------

    async def add_product(
        self,
        sku: str,
        name: str,
        price_cents: int,
        *,
        description: str | None = None,
        category: str | None = None,
        key: str | None = None,
    ) -> CommandAnswer:
        body = {"sku": sku, "name": name, "price_cents": price_cents}
        extra = {"description": description, "category": category}
        body |= {k: v for k, v in extra.items() if v is not None}
        return await self.command("POST", "/products", body, key=key)

    async def change_price(
        self, sku: str, price_cents: int, *, key: str | None = None
    ) -> CommandAnswer:
        body = {"price_cents": price_cents}
        return await self.command("POST", f"/products/{sku}/price", body, key=key)

    async def rename_product(
        self, sku: str, name: str, *, key: str | None = None
    ) -> CommandAnswer:
        return await self.command(
            "POST", f"/products/{sku}/name", {"name": name}, key=key
        )

    async def discontinue_product(
        self, sku: str, *, key: str | None = None
    ) -> CommandAnswer:
        return await self.command("POST", f"/products/{sku}/discontinue", key=key)

    async def restock(
        self, sku: str, quantity: int, *, key: str | None = None
    ) -> CommandAnswer:
        body = {"quantity": quantity}
        return await self.command("POST", f"/inventory/{sku}/restock", body, key=key)

    async def create_cart(
        self,
        *,
        customer_id: str | None = None,
        cart_id: str | None = None,
        key: str | None = None,
    ) -> CommandAnswer:
        given = {"customer_id": customer_id, "cart_id": cart_id}
        body = {k: v for k, v in given.items() if v is not None}
        return await self.command("POST", "/carts", body, key=key)

    async def add_item(
        self, cart_id: str, sku: str, quantity: int, *, key: str | None = None
    ) -> CommandAnswer:
        body = {"sku": sku, "quantity": quantity}
        return await self.command("POST", f"/carts/{cart_id}/items", body, key=key)

    async def change_quantity(
        self, cart_id: str, sku: str, quantity: int, *, key: str | None = None
    ) -> CommandAnswer:
        path, body = f"/carts/{cart_id}/items/{sku}", {"quantity": quantity}
        return await self.command("PUT", path, body, key=key)

    async def remove_item(
        self, cart_id: str, sku: str, *, key: str | None = None
    ) -> CommandAnswer:
        return await self.command("DELETE", f"/carts/{cart_id}/items/{sku}", key=key)

    async def place_order(
        self,
        cart_id: str,
        card_number: str,
        expiry: str,
        cvc: str,
        *,
        order_id: str | None = None,
        key: str | None = None,
    ) -> CommandAnswer:
        payment = {"card_number": card_number, "expiry": expiry, "cvc": cvc}
        body: dict[str, Any] = {"cart_id": cart_id, "payment": payment}
        if order_id is not None:
            body["order_id"] = order_id
        return await self.command("POST", "/orders", body, key=key)

    async def ship_order(
        self, order_id: str, *, key: str | None = None
    ) -> CommandAnswer:
        return await self.command("POST", f"/orders/{order_id}/ship", key=key)

    async def cancel_order(
        self, order_id: str, *, reason: str | None = None, key: str | None = None
    ) -> CommandAnswer:
        body = {"reason": reason} if reason is not None else {}
        return await self.command("POST", f"/orders/{order_id}/cancel", body, key=key)

    # --- queries -------------------------------------------------------------

    async def list_products(
        self,
        *,
        q: str | None = None,
        category: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ProductPage:
        given = {"q": q, "category": category, "limit": limit, "cursor": cursor}
        params = {k: v for k, v in given.items() if v is not None}
        return await self.query(ProductPage, "/products", params)

    async def get_product(self, sku: str) -> Product:
        return await self.query(Product, f"/products/{sku}")

    async def get_cart(self, cart_id: str) -> Cart:
        return await self.query(Cart, f"/carts/{cart_id}")

    async def get_order(self, order_id: str) -> Order:
        return await self.query(Order, f"/orders/{order_id}")

    async def list_customer_orders(
        self, customer_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> OrderPage:
        given = {"limit": limit, "cursor": cursor}
        params = {k: v for k, v in given.items() if v is not None}
        path = f"/customers/{customer_id}/orders"
        return await self.query(OrderPage, path, params)

    async def read_stream(self, stream_id: str) -> AuditTrail:
        """A stream's audit trail (an operator's route, on the command side)."""
        answer = await self._command.get(f"/streams/{stream_id}", headers=self._auth)
        return _parsed(AuditTrail, answer)

    # --- any route -----------------------------------------------------------

    async def command(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> CommandAnswer:
        """Send a command; keep its consistency token for the next query."""
        headers = {**self._auth, **({KEY_HEADER: key} if key else {})}
        answer = await self._command.request(method, path, json=body, headers=headers)
        acknowledged = _parsed(CommandAnswer, answer)
        self.consistency_token = acknowledged.consistency_token
        return acknowledged

    async def query(
        self, model: type[A], path: str, params: Mapping[str, Any] | None = None
    ) -> A:
        """Read a document as `model`, after the last command if one is due."""
        token = self.consistency_token if self.read_your_writes else None
        headers = {**self._auth, **({TOKEN_HEADER: token} if token else {})}
        answer = await self._query.get(path, params=params, headers=headers)
        document = _parsed(model, answer)
        if token is not None and self.consistency_token == token:
            self.consistency_token = None
        return document


def _parsed(model: type[A], answer: httpx.Response) -> A:
    if not answer.is_success:
        raise problem_of(answer)
    return model.model_validate_json(answer.content)
