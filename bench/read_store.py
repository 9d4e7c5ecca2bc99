"""Read store throughput, Redis against SQLite, side by side in one run.

    .venv/bin/python bench/read_store.py [--redis URL] [--seconds S]

Measures GET by key (one client awaiting each answer, and 32 at once) and
commits of 1 and of 100 documents, each commit moving one stream checkpoint
per document as a projector's batch does. Redis keys go under a namespace of
their own, deleted at the end; SQLite uses a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.sqlite import SqliteReadStore
from cqrskit.core.ports import ReadStore, VersionMove, ViewChanges

DOCS = 10_000
CONCURRENCY = 32


def product(n: int) -> bytes:
    return orjson.dumps(
        {
            "sku": f"SKU-{n:05}",
            "name": f"Product number {n}",
            "description": "A thing of the kind people put in carts. " * 3,
            "category": f"category-{n % 20}",
            "price_cents": 1000 + n,
            "available": n % 50,
            "discontinued": False,
        }
    )


async def rate(
    seconds: float, workers: int, op: Callable[[int], Awaitable[int]]
) -> float:
    """Units per second done by `workers` loops calling `op` for `seconds`."""
    counter = itertools.count()
    done = 0

    async def loop(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            units = await op(next(counter))  # not `done += await`: it loses updates
            done += units

    start = time.perf_counter()
    await asyncio.gather(*(loop(start + seconds) for _ in range(workers)))
    return done / (time.perf_counter() - start)


async def measure(store: ReadStore, seconds: float) -> dict[str, float]:
    for first in range(0, DOCS, 1000):
        docs = {f"product:{n}": product(n) for n in range(first, first + 1000)}
        await store.commit("seed", ViewChanges(dict(docs), {}, set()), {})

    async def get(i: int) -> int:
        await store.get(f"product:{i * 7919 % DOCS}")
        return 1

    def committer(size: int) -> Callable[[int], Awaitable[int]]:
        versions: dict[str, int] = {}

        async def commit(i: int) -> int:
            docs: dict[str, bytes | None] = {}
            moves: dict[str, VersionMove] = {}
            for n in range(i * size, (i + 1) * size):
                sid = f"product-{n % DOCS}"
                docs[f"product:{n % DOCS}"] = product(n)
                seen = versions.get(sid, 0)
                moves[sid] = VersionMove(seen, seen + 1)
                versions[sid] = seen + 1
            await store.commit(f"bench-{size}", ViewChanges(docs, {}, set()), moves)
            return 1

        return commit

    return {
        "get": await rate(seconds, 1, get),
        "get32": await rate(seconds, CONCURRENCY, get),
        "commit1": await rate(seconds, 1, committer(1)),
        "commit100": await rate(seconds, 1, committer(100)),
    }


async def main(redis_url: str, seconds: float) -> None:
    redis_store = await RedisReadStore.open(
        redis_url, namespace=f"bench-{uuid.uuid4().hex[:12]}"
    )
    try:
        on_redis = await measure(redis_store, seconds)
    finally:
        await redis_store.purge()
        await redis_store.close()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_store = await SqliteReadStore.open(Path(tmp) / "views.sqlite")
        try:
            on_sqlite = await measure(sqlite_store, seconds)
        finally:
            await sqlite_store.close()

    rows = [
        ("GET by key, 1 client", "get", "GETs/s", 1),
        (f"GET by key, {CONCURRENCY} concurrent", "get32", "GETs/s", 1),
        ("commit of 1 doc + 1 checkpoint", "commit1", "commits/s", 1),
        ("commit of 100 docs + 100 checkpoints", "commit100", "commits/s", 1),
        ("  the same, in documents", "commit100", "docs/s", 100),
    ]
    print(f"{'measurement':<40}{'unit':>11}{'Redis':>11}{'SQLite':>11}")
    for label, key, unit, factor in rows:
        redis_rate, sqlite_rate = on_redis[key] * factor, on_sqlite[key] * factor
        print(f"{label:<40}{unit:>11}{redis_rate:>11,.0f}{sqlite_rate:>11,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    asyncio.run(main(options.redis, options.seconds))
