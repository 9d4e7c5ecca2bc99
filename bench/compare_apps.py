"""The bare anchors of bench/compare.sh: the least a route can do on our stack.

    .venv/bin/python bench/compare_apps.py NAME --port PORT [--workers 2]

Each factory NAME builds one app with one route, served the way `cqrskit
serve` serves ours (uvicorn, uvloop, httptools with TCP_NODELAY, the same
worker count): `fastapi_constant` and `starlette_constant`
answer GET / with constant JSON; `fastapi_redis_get` answers GET
/products/{sku} with the bytes of one `redis.asyncio` GET of ANCHOR_REDIS_KEY
(a stored product view); `fastapi_insert` answers POST /products by inserting
one ProductAdded event row into ANCHOR_TABLE (a copy of our events table) with
one asyncpg statement from one pool per worker, the size of the event store's.
Settings come from ANCHOR_* environment variables; clients are opened in the
lifespan, as ours are.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import orjson
import redis.asyncio as redis
import uvicorn
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

CONSTANT = {"status": "ok", "service": "anchor", "version": 1}
POOL_SIZE = 10
"""PostgresEventStore.open's default pool size."""


def fastapi_constant() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def constant() -> dict[str, object]:
        return CONSTANT

    return app


def starlette_constant() -> Starlette:
    async def constant(request: Request) -> JSONResponse:
        return JSONResponse(CONSTANT)

    return Starlette(routes=[Route("/", constant)])


def fastapi_redis_get() -> FastAPI:
    key = os.environ["ANCHOR_REDIS_KEY"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = redis.Redis.from_url(os.environ["ANCHOR_REDIS_URL"])
        yield
        await app.state.redis.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/products/{sku}")
    async def product(sku: str, request: Request) -> Response:
        body = await request.app.state.redis.get(key)
        return Response(body, media_type="application/json")

    return app


class NewProduct(BaseModel):
    sku: str
    name: str
    price_cents: int


def fastapi_insert() -> FastAPI:
    table = os.environ["ANCHOR_TABLE"]
    insert = (
        f"INSERT INTO {table} (stream_id, version, type, schema_version, data,"
        " metadata, recorded_at) VALUES ($1, 1, 'ProductAdded', 1, $2::jsonb,"
        " $3::jsonb, $4) RETURNING position"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["ANCHOR_DATABASE_URL"], min_size=1, max_size=POOL_SIZE
        )
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/products", status_code=201)
    async def add_product(body: NewProduct, request: Request) -> dict[str, object]:
        stream_id = f"product-{body.sku}"
        data = orjson.dumps(body.model_dump()).decode()
        position = await request.app.state.pool.fetchval(
            insert, stream_id, data, '{"actor": "anchor"}', datetime.now(UTC)
        )
        return {"stream_id": stream_id, "version": 1, "position": position}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=[
        "fastapi_constant", "starlette_constant", "fastapi_redis_get", "fastapi_insert",
    ])  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run(
        f"compare_apps:{args.name}",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="cqrskit.runtime.nodelay:NoDelayHttpToolsProtocol",
        log_level="warning",
        access_log=False,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
    )


if __name__ == "__main__":
    main()
