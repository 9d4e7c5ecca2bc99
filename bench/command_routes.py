"""The command service's own overhead, in-process (no network, no server):
`POST /inventory/{sku}/restock` through the app as served (bearer token,
access rule, idempotency, dispatcher, fold cache, consistency token) against a
bare Starlette route that appends the same event to the same in-memory event
store (read the stream's version, append one event). Usage:

    .venv/bin/python bench/command_routes.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.adapters.pyjwt import JwtVerifier, mint
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.runtime import bootstrap
from cqrskit.runtime.embedded import borrowed
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.demo import load_demo_data

SECRET = "bench-" * 8
BODY = {"quantity": 1}


async def rate(app: Any, path: str, requests: int, headers: dict[str, str]) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
        started = time.perf_counter()
        for _ in range(requests):
            answer = await client.post(path, json=BODY, headers=headers)
            assert answer.status_code == 202, answer.text
        return requests / (time.perf_counter() - started)


async def main(requests: int) -> None:
    store = InMemoryEventStore()
    side = bootstrap.command_side(SHOP, store)
    await load_demo_data(side.commands)
    app = create_command_app(
        SHOP, lambda: borrowed(side), JwtVerifier(secret=SECRET), b"bench-key-" * 4
    )
    admin = {"Authorization": f"Bearer {mint(SECRET, 'ops', ['admin'], 3600)}"}

    async def bare(request: Request) -> Response:
        body = orjson.loads(await request.body())
        stream = f"inventory-{request.path_params['sku']}"
        version = len(await store.read_stream(stream, from_version=1))
        event = NewEvent("StockAdded", {"sku": "TEA-01", "quantity": body["quantity"]})
        [recorded] = await store.append(
            [StreamAppend(stream, version, [event])], metadata=Metadata()
        )
        ack = {"stream_id": stream, "version": recorded.version}
        return Response(orjson.dumps(ack), 202, media_type="application/json")

    baseline = Starlette(
        routes=[Route("/inventory/{sku}/restock", bare, methods=["POST"])]
    )
    async with app.router.lifespan_context(app):
        await rate(app, "/inventory/MUG-01/restock", 200, admin)  # warm up
        served = await rate(app, "/inventory/MUG-01/restock", requests, admin)
        floor = await rate(baseline, "/inventory/TEA-01/restock", requests, {})
    print(f"{'route':<40} {'requests/s':>10}")
    print(f"{'command app POST /inventory/{sku}/restock':<40} {served:>10,.0f}")
    print(f"{'bare Starlette route, same append':<40} {floor:>10,.0f}")
    print(f"{'ratio':<40} {served / floor:>10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    asyncio.run(main(parser.parse_args().requests))
