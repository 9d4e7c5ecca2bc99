"""The worst staleness of the query service's hot views: how long after a
view changes in Redis the query service still serves the old one.

    .venv/bin/python bench/staleness.py QUERY_URL READ_STORE_URL [--samples N]
        [--connections C] [--sku SKU]

READ_STORE_URL is the service's own (`redis://…?namespace=…`). Each sample
writes a new version of the product view of SKU through the projector's path
(RedisReadStore.commit, the same Lua script), then C keep-alive connections
(spread over the service's workers, each with its own cache) read
`GET /products/SKU` in a loop until each has been served the new version. A
sample's staleness is the time from the commit's return (Redis holds the new
view) until the last connection saw it: an upper bound, since it includes a
request's round trip. Prints the figures and a line for bench/compare.py:

    STALENESS samples=N p50_ms=… p99_ms=… max_ms=…
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
import orjson

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.core.ports import ViewChanges
from cqrskit.runtime.adapters import open_read_store


async def _seen(client: httpx.AsyncClient, path: str, price: int) -> float:
    while True:
        response = await client.get(path)
        if response.status_code == 200 and response.json()["price_cents"] == price:
            return time.perf_counter()


async def _sample(
    store: RedisReadStore,
    clients: list[httpx.AsyncClient],
    sku: str,
    price: int,
) -> float:
    view = {
        "sku": sku,
        "name": f"Staleness {sku}",
        "description": "",
        "category": "",
        "price_cents": price,
        "available": 0,
        "discontinued": False,
    }
    changes = ViewChanges({f"product:{sku}": orjson.dumps(view)}, {}, set())
    await store.commit("staleness", changes, {})
    written = time.perf_counter()
    path = f"/products/{sku}"
    seen = await asyncio.gather(*(_seen(c, path, price) for c in clients))
    return max(0.0, max(seen) - written)


async def measure(
    query_url: str, read_store_url: str, samples: int, connections: int, sku: str
) -> list[float]:
    store = await open_read_store(read_store_url)
    assert isinstance(store, RedisReadStore), "staleness is measured on Redis"
    limits = httpx.Limits(max_connections=1)
    clients = [
        httpx.AsyncClient(base_url=query_url, limits=limits) for _ in range(connections)
    ]
    try:
        await _sample(store, clients, sku, 1)  # the view exists, every cache has it
        found = []
        for n in range(samples):
            found.append(await _sample(store, clients, sku, 2 + n))
            await asyncio.sleep(0.01)
        return found
    finally:
        for client in clients:
            await client.aclose()
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("query_url")
    parser.add_argument("read_store_url")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sku", default="STALENESS-0")
    args = parser.parse_args()
    found = asyncio.run(
        measure(
            args.query_url,
            args.read_store_url,
            args.samples,
            args.connections,
            args.sku,
        )
    )
    ms = sorted(x * 1000 for x in found)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"{len(ms)} samples, {args.connections} connections: p50 {p50:.2f} ms, "
          f"p99 {p99:.2f} ms, max {ms[-1]:.2f} ms")  # fmt: skip
    print(
        f"STALENESS samples={len(ms)} p50_ms={p50:.3f} p99_ms={p99:.3f} "
        f"max_ms={ms[-1]:.3f}"
    )


if __name__ == "__main__":
    main()
