"""The query service's framework overhead, in-process (no network, no server):
GET /products/{sku} through the app as served, against the same answer from
a bare Starlette route on the same read store. Usage:

    .venv/bin/python bench/query_routes.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.adapters.pyjwt import JwtVerifier
from cqrskit.core.ports import VersionMove, ViewChanges
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime import bootstrap
from cqrskit.runtime.embedded import borrowed
from cqrskit.shop.app import app as SHOP

DOC = (
    b'{"sku":"MUG-01","name":"Mug","description":"","category":"",'
    b'"price_cents":1250,"available":40,"discontinued":false}'
)


async def rate(app: object, requests: int) -> float:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://q") as client:
        started = time.perf_counter()
        for _ in range(requests):
            answer = await client.get("/products/MUG-01")
            assert answer.status_code == 200
        return requests / (time.perf_counter() - started)


async def main(requests: int) -> None:
    store = InMemoryReadStore()
    changes = ViewChanges.empty()
    changes.docs["product:MUG-01"] = DOC
    await store.commit("catalog", changes, {"product-MUG-01": VersionMove(0, 1)})
    side = bootstrap.query_side(SHOP, store)
    verifier = JwtVerifier(secret="bench-" * 8)  # the catalog is public
    app = create_query_app(SHOP, lambda: borrowed(side), verifier, b"bench-key-" * 4)

    async def bare(request: Request) -> Response:
        doc = await store.get(f"product:{request.path_params['sku']}")
        return Response(doc, media_type="application/json")

    baseline = Starlette(routes=[Route("/products/{sku}", bare)])
    async with app.router.lifespan_context(app):
        await rate(app, 200)  # warm up
        served = await rate(app, requests)
        floor = await rate(baseline, requests)
    print(f"{'route':<34} {'requests/s':>10}")
    print(f"{'query app GET /products/{sku}':<34} {served:>10,.0f}")
    print(f"{'bare Starlette route':<34} {floor:>10,.0f}")
    print(f"{'ratio':<34} {served / floor:>10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    asyncio.run(main(parser.parse_args().requests))
