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
view) until the last answer with the old view came back to the client (0 if
none did): an upper bound, since the service answered it somewhat earlier.
Then, in this process and without HTTP, the notice alone: from a commit's
call until the change notice naming the view arrives over the same kind of
tracking connection as each query worker's (its cache drops the view then).
Prints the figures and a line for bench/compare.py:

    STALENESS samples=N p50_ms=… p99_ms=… max_ms=… notice_p50_ms=… …
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence

import httpx
import orjson

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.core.ports import ChangeListener, ViewChanges
from cqrskit.runtime.adapters import open_read_store


async def _last_old(client: httpx.AsyncClient, path: str, price: int) -> float:
    """Read until served `price`; when the last answer without it came back
    (0 if the first already had it)."""
    last = 0.0
    while True:
        response = await client.get(path)
        if response.status_code == 200 and response.json()["price_cents"] == price:
            return last
        last = time.perf_counter()


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
    old = await asyncio.gather(*(_last_old(c, path, price) for c in clients))
    return max(0.0, max(old) - written)


class _Told(ChangeListener):
    """The documents told, and an event set on each notice and on tracking."""

    def __init__(self) -> None:
        self.docs: set[str] = set()
        self.told = asyncio.Event()

    def tracking(self) -> None:
        self.told.set()

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        self.docs.update(docs or ())
        self.told.set()

    def lost(self) -> None:
        pass


async def _notice_delays(store: RedisReadStore, samples: int, sku: str) -> list[float]:
    """In this process, no HTTP: from a commit's call until the notice that
    names the view arrives (a query worker's cache drops the old view then)."""
    told = _Told()
    watching = asyncio.create_task(store.watch(told))
    key = f"product:{sku}-notice"
    try:
        await told.told.wait()
        delays = []
        for n in range(samples):
            told.docs.clear()
            told.told.clear()
            written = time.perf_counter()
            await store.commit(
                "staleness", ViewChanges({key: b"%d" % n}, {}, set()), {}
            )
            while key not in told.docs:
                await told.told.wait()
                told.told.clear()
            delays.append(time.perf_counter() - written)
        return delays
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await store.commit("staleness", ViewChanges({key: None}, {}, set()), {})


async def measure(
    query_url: str, read_store_url: str, samples: int, connections: int, sku: str
) -> tuple[list[float], list[float]]:
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
        return found, await _notice_delays(store, samples, sku)
    finally:
        for client in clients:
            await client.aclose()
        await store.close()


def _figures(found: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max, in ms."""
    ms = sorted(x * 1000 for x in found)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return statistics.median(ms), p99, ms[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("query_url")
    parser.add_argument("read_store_url")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sku", default="STALENESS-0")
    args = parser.parse_args()
    found, notices = asyncio.run(
        measure(
            args.query_url,
            args.read_store_url,
            args.samples,
            args.connections,
            args.sku,
        )
    )
    p50, p99, worst = _figures(found)
    n50, n99, nworst = _figures(notices)
    print(f"{len(found)} samples, {args.connections} connections: p50 {p50:.2f} ms, "
          f"p99 {p99:.2f} ms, max {worst:.2f} ms; the notice alone (in process): "
          f"p50 {n50:.2f} ms, p99 {n99:.2f} ms, max {nworst:.2f} ms")  # fmt: skip
    print(
        f"STALENESS samples={len(found)} p50_ms={p50:.3f} p99_ms={p99:.3f} "
        f"max_ms={worst:.3f} notice_p50_ms={n50:.3f} notice_p99_ms={n99:.3f} "
        f"notice_max_ms={nworst:.3f}"
    )


if __name__ == "__main__":
    main()
