"""The monolith's one FastAPI app: command and query routes on one port.

Bearer tokens (`Authorization`) are accepted and ignored: the baseline
measures the data path, not authentication.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import FastAPI, Header, Path, Query, Request
from starlette.responses import Response

from baselines.crud import orders, reads, writes
from baselines.crud.audit import history
from baselines.crud.execute import execute
from baselines.crud.problems import EdgeMiddleware, NotFound, install, problem
from cqrskit.entrypoints.http.models import ID_PATTERN, LINE_PATTERN
from cqrskit.shop import models as m

SkuPath = Annotated[str, Path(pattern=m.SKU_PATTERN)]
IdPath = Annotated[str, Path(pattern=ID_PATTERN)]
StreamPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,31}-.+$")]
Key = Annotated[str | None, Header(alias="Idempotency-Key", pattern=r"^[!-~]{1,255}$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, pattern=r"^[^\x00-\x1f\x7f]*~[^\x00-\x1f\x7f~]+$"),
]
Line = Annotated[str | None, Query(max_length=200, pattern=LINE_PATTERN)]


def create_app() -> FastAPI:
    """Built by each uvicorn worker; the pool belongs to the app's lifespan."""
    database_url = os.environ["CRUD_DATABASE_URL"]
    pool_size = int(os.environ.get("CRUD_POOL_SIZE", "10"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # asyncpg prepares each statement once per connection and caches it
        async with asyncpg.create_pool(
            database_url, min_size=2, max_size=pool_size
        ) as pool:
            app.state.pool = pool
            yield

    app = FastAPI(title="shop (CRUD monolith baseline)", lifespan=lifespan)
    app.add_middleware(EdgeMiddleware)
    install(app)
    _unavailable(app)
    _catalog_routes(app)
    _cart_routes(app)
    _order_routes(app)
    _query_routes(app)
    return app


def _unavailable(app: FastAPI) -> None:
    async def on_lost(request: Request, exc: Exception) -> Response:
        detail = "the database is unavailable; retry"
        headers = {"Retry-After": "1"}
        return problem(request, 503, "Service Unavailable", detail, headers)

    for error in (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
        app.add_exception_handler(error, on_lost)


def _catalog_routes(app: FastAPI) -> None:
    @app.post("/products", status_code=201)
    async def add_product(r: Request, body: m.NewProduct, key: Key = None) -> Response:
        return await execute(
            r, body, key, 201, lambda c, cid: writes.add_product(c, cid, body)
        )

    @app.post("/products/{sku}/price", status_code=202)
    async def change_price(
        r: Request, sku: SkuPath, body: m.NewPrice, key: Key = None
    ) -> Response:
        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            price = body.price_cents
            return writes.change_product(
                c, cid, sku, "price_cents", price, "PriceChanged"
            )

        return await execute(r, body, key, 202, work)

    @app.post("/products/{sku}/name", status_code=202)
    async def rename(
        r: Request, sku: SkuPath, body: m.NewName, key: Key = None
    ) -> Response:
        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            return writes.change_product(
                c, cid, sku, "name", body.name, "ProductRenamed"
            )

        return await execute(r, body, key, 202, work)

    @app.post("/products/{sku}/discontinue", status_code=202)
    async def discontinue(r: Request, sku: SkuPath, key: Key = None) -> Response:
        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            event = "ProductDiscontinued"
            return writes.change_product(c, cid, sku, "discontinued", True, event)

        return await execute(r, None, key, 202, work)

    @app.post("/inventory/{sku}/restock", status_code=202)
    async def restock(
        r: Request, sku: SkuPath, body: m.RestockBody, key: Key = None
    ) -> Response:
        return await execute(
            r, body, key, 202, lambda c, cid: writes.restock(c, cid, sku, body.quantity)
        )


def _cart_routes(app: FastAPI) -> None:
    @app.post("/carts", status_code=201)
    async def create_cart(r: Request, body: m.NewCart, key: Key = None) -> Response:
        return await execute(
            r, body, key, 201, lambda c, cid: writes.create_cart(c, cid, body)
        )

    @app.post("/carts/{cart_id}/items", status_code=202)
    async def add_item(
        r: Request, cart_id: IdPath, body: m.NewItem, key: Key = None
    ) -> Response:
        return await execute(
            r, body, key, 202, lambda c, cid: writes.add_item(c, cid, cart_id, body)
        )

    @app.put("/carts/{cart_id}/items/{sku}", status_code=202)
    async def change_quantity(
        r: Request, cart_id: IdPath, sku: SkuPath, body: m.LineQuantity, key: Key = None
    ) -> Response:
        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            return writes.set_quantity(c, cid, cart_id, sku, body.quantity)

        return await execute(r, body, key, 202, work)

    @app.delete("/carts/{cart_id}/items/{sku}", status_code=202)
    async def remove_item(
        r: Request, cart_id: IdPath, sku: SkuPath, key: Key = None
    ) -> Response:
        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            return writes.set_quantity(c, cid, cart_id, sku, None)

        return await execute(r, None, key, 202, work)


def _order_routes(app: FastAPI) -> None:
    @app.post("/orders", status_code=201)
    async def place_order(r: Request, body: m.NewOrder, key: Key = None) -> Response:
        return await execute(
            r, body, key, 201, lambda c, cid: orders.place_order(c, cid, body)
        )

    @app.post("/orders/{order_id}/ship", status_code=202)
    async def ship(r: Request, order_id: IdPath, key: Key = None) -> Response:
        return await execute(
            r, None, key, 202, lambda c, cid: orders.ship_order(c, cid, order_id)
        )

    @app.post("/orders/{order_id}/cancel", status_code=202)
    async def cancel(
        r: Request, order_id: IdPath, body: m.CancelBody | None = None, key: Key = None
    ) -> Response:
        reason = body.reason if body and body.reason else ""

        def work(c: asyncpg.pool.PoolConnectionProxy, cid: str) -> Any:
            return orders.cancel_order(c, cid, order_id, reason)

        return await execute(r, body, key, 202, work)


def _query_routes(app: FastAPI) -> None:
    def pool() -> asyncpg.Pool:
        found: asyncpg.Pool = app.state.pool
        return found

    @app.get("/streams/{stream_id}")
    async def audit_trail(stream_id: StreamPath) -> Response:
        async with pool().acquire() as conn:
            events = await history(conn, stream_id)
        if not events:
            raise NotFound(f"stream {stream_id} has no events")
        body = {"stream_id": stream_id, "version": events[-1]["version"]}
        return _json(body | {"events": events})

    @app.get("/products")
    async def catalog(
        q: Line = None, category: Line = None, limit: Limit = 20, cursor: Cursor = None
    ) -> Response:
        after = cursor.rsplit("~", 1)[1] if cursor else ""
        async with pool().acquire() as conn:
            items, next_cursor = await reads.products(conn, q, category, limit, after)
        return _json({"items": items, "next_cursor": next_cursor})

    @app.get("/products/{sku}")
    async def product(sku: SkuPath) -> Response:
        async with pool().acquire() as conn:
            return _found(await reads.product(conn, sku), f"product {sku}")

    @app.get("/carts/{cart_id}")
    async def cart(cart_id: IdPath) -> Response:
        async with pool().acquire() as conn:
            return _found(await reads.cart(conn, cart_id), f"cart {cart_id}")

    @app.get("/orders/{order_id}")
    async def order(order_id: IdPath) -> Response:
        async with pool().acquire() as conn:
            return _found(await reads.order(conn, order_id), f"order {order_id}")

    @app.get("/customers/{customer_id}/orders")
    async def history_of(
        customer_id: IdPath, limit: Limit = 20, cursor: Cursor = None
    ) -> Response:
        sort_key = cursor.split("~", 1)[0] if cursor else ""
        before = int(sort_key) if sort_key.isdigit() else (0 if cursor else 2**62)
        async with pool().acquire() as conn:
            page = await reads.customer_orders(conn, customer_id, limit, before)
        return _json({"items": page[0], "next_cursor": page[1]})

    @app.get("/healthz")
    async def healthz() -> Response:
        return _json({"status": "ok"})

    @app.get("/readyz")
    async def readyz() -> Response:
        async with pool().acquire() as conn:
            await conn.fetchval("SELECT 1")
        return _json({"status": "ready"})


def _found(body: dict[str, Any] | None, what: str) -> Response:
    if body is None:
        raise NotFound(f"{what} does not exist")
    return _json(body)


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")
