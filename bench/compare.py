"""The Python steps of bench/compare.sh (it owns the processes; this owns the
storage, the seeding, the in-process store figures and the result lines).

    .venv/bin/python bench/compare.py setup|teardown RUN_ID
    .venv/bin/python bench/compare.py wait URL
    .venv/bin/python bench/compare.py token SECRET
    .venv/bin/python bench/compare.py seed COMMAND_URL TOKEN PREFIX COUNT
    .venv/bin/python bench/compare.py anchor-key QUERY_URL SKU RUN_ID
    .venv/bin/python bench/compare.py store RUN_ID [--appends N] [--events N]
    .venv/bin/python bench/compare.py record KEY SETUP COMMAND < tool output

RUN_ID names everything a run owns: the PostgreSQL database, the Redis
namespace (and its anchor key RUN_ID:anchor) and the RabbitMQ prefix, so that
teardown removes exactly that. `record` parses wrk's RESULT line (bench/
compare.lua), pgbench's summary, `cqrskit bench`'s lag row or
bench/staleness.py's STALENESS line and appends one
JSON line to $COMPARE_RESULTS; bench/compare_report.py renders them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import redis.asyncio as redis

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.pyjwt import mint
from cqrskit.adapters.rabbitmq import drop_topology
from cqrskit.core.messages import Metadata, StreamAppend
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.domain.inventory import StockAdded, inventory_decider

PG = os.environ.get("CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
REDIS = os.environ.get("CQRSKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP = os.environ.get("CQRSKIT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ANCHOR_TABLE = "anchor_events"
LOAD_CHUNK = 500


def database_url(run_id: str) -> str:
    return urlunsplit(urlsplit(PG)._replace(path=f"/{run_id}"))


def hot_database(run_id: str) -> str:
    """The scratch database bench/hot_sku.py makes in a run."""
    return f"{run_id}_hot"


async def admin(statement: str) -> None:
    conn = await asyncpg.connect(PG)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def setup(run_id: str) -> None:
    """A database with our tables and a copy of the events table for the
    anchors (the INSERT route and pgbench write there, not into our log)."""
    await admin(f'CREATE DATABASE "{run_id}"')
    store = await PostgresEventStore.open(database_url(run_id))
    await store.close()
    conn = await asyncpg.connect(database_url(run_id))
    try:
        await conn.execute(f"CREATE TABLE {ANCHOR_TABLE} (LIKE events INCLUDING ALL)")
    finally:
        await conn.close()


async def teardown(run_id: str) -> None:
    """Remove what a run owns; each step goes on when another fails."""
    steps = {
        "database": admin(f'DROP DATABASE IF EXISTS "{run_id}" WITH (FORCE)'),
        "hot-SKU database": admin(
            f'DROP DATABASE IF EXISTS "{hot_database(run_id)}" WITH (FORCE)'
        ),
        "redis": _drop_keys(run_id),
        "rabbitmq": drop_topology(AMQP, prefix=run_id),
    }
    for name, step in steps.items():
        try:
            await step
        except Exception as e:  # report it and clean up the rest
            print(f"teardown: {name}: {e!r}", file=sys.stderr)


async def _drop_keys(run_id: str) -> None:
    client = redis.Redis.from_url(REDIS)
    try:
        batch = [key async for key in client.scan_iter(match=f"{run_id}:*")]
        for start in range(0, len(batch), 500):
            await client.unlink(*batch[start : start + 500])
    finally:
        await client.aclose()


def wait(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 in {timeout:g} s")


async def seed(command_url: str, token: str, prefix: str, count: int) -> None:
    """Products PREFIX-0..COUNT-1 with stock, over the public routes."""
    limit = asyncio.Semaphore(16)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=command_url, headers=headers, timeout=30
    ) as client:

        async def product(sku: str) -> None:
            async with limit:
                body = {"sku": sku, "name": f"Product {sku}", "price_cents": 1250}
                for path, json_body in (
                    ("/products", body),
                    (f"/inventory/{sku}/restock", {"quantity": 1000}),
                ):
                    answer = await client.post(path, json=json_body)
                    if answer.status_code >= 300:
                        raise SystemExit(f"seeding {path}: {answer.text}")

        await asyncio.gather(*(product(f"{prefix}-{n}") for n in range(count)))


def answer_of(url: str) -> bytes:
    """The body of GET `url`, once it answers 200."""
    wait(url)
    return httpx.get(url, timeout=5).content


async def anchor_key(body: bytes, run_id: str) -> None:
    """Our answer for a product under the key the Redis GET anchor reads:
    both serve the same bytes."""
    client = redis.Redis.from_url(REDIS)
    try:
        await client.set(f"{run_id}:anchor", body)
    finally:
        await client.aclose()


async def store_figures(run_id: str, appends: int, events: int) -> None:
    """Ours for the work bench/peer_eventsourcing.py does on the library:
    one-event appends on new streams from one writer, and loading (read,
    decode, fold) one inventory stream of `events` events."""
    store = await PostgresEventStore.open(database_url(run_id), pool_size=1)
    codec, meta = shop_codec(), Metadata(command_id="compare")
    try:
        started = time.perf_counter()
        for n in range(appends):
            event = codec.encode(StockAdded(f"SKU-{n}", 1))
            await store.append(
                [StreamAppend(f"inventory-cmp-{n}", 0, [event])], metadata=meta
            )
        rate = appends / (time.perf_counter() - started)
        emit({"key": "store_append", "per_s": rate, "count": appends})
        for start in range(0, events, LOAD_CHUNK):
            batch = [codec.encode(StockAdded("LONG", 1))] * LOAD_CHUNK
            await store.append(
                [StreamAppend("inventory-LONG", start, batch)], metadata=meta
            )
        started = time.perf_counter()
        recorded = await store.read_stream("inventory-LONG")
        stock = inventory_decider.fold(codec.decode(r) for r in recorded)
        took = (time.perf_counter() - started) * 1000
        if stock.available != events:
            raise SystemExit(f"loaded {stock.available} units, expected {events}")
        emit({"key": "store_load", "ms": took, "events": events})
    finally:
        await store.close()


def emit(line: dict[str, Any]) -> None:
    out = os.environ.get("COMPARE_RESULTS")
    text = json.dumps(line)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")
    print(text)


def shown(argv: list[str], hidden: tuple[str, ...] = ("--dsn", "--database")) -> str:
    """A script's command line as the docs show it: its path in the
    repository, without the options that name one run's storage."""
    words, skip = [f"bench/{os.path.basename(argv[0])}"], False
    for word in argv[1:]:
        if skip:
            skip = False
        elif word in hidden:
            skip = True
        elif not word.startswith(tuple(f"{h}=" for h in hidden)):
            words.append(word)
    return " ".join(words)


def parse(text: str) -> dict[str, float]:
    """The figures of one tool's output: wrk (RESULT line), pgbench, the
    lag row of `cqrskit bench` or bench/staleness.py."""
    if found := re.search(r"^RESULT (.*)$", text, re.M):
        fields = (pair.split("=") for pair in found.group(1).split())
        r = {k: float(v) for k, v in fields}
        ok = r["requests"] - r["non2xx"] - r["socket_errors"]
        return r | {"per_s": ok / r["seconds"], "errors": r["requests"] - ok}
    if found := re.search(r"^tps = ([0-9.]+)", text, re.M):
        latency = re.search(r"^latency average = ([0-9.]+) ms", text, re.M)
        failed = re.search(r"^number of failed transactions: (\d+)", text, re.M)
        return {
            "per_s": float(found.group(1)),
            "mean_ms": float(latency.group(1)) if latency else float("nan"),
            "errors": float(failed.group(1)) if failed else 0.0,
        }
    if found := re.search(r"^STALENESS (.*)$", text, re.M):
        return {k: float(v) for k, v in (p.split("=") for p in found.group(1).split())}
    if found := re.search(
        r"^command -> visible on read +(\S+) +(\S+) +(\S+)", text, re.M
    ):
        return {"p50_ms": float(found.group(2)), "p99_ms": float(found.group(3))}
    raise SystemExit(f"no figures in this output:\n{text}")


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "setup":
        asyncio.run(setup(rest[0]))
    elif command == "teardown":
        asyncio.run(teardown(rest[0]))
    elif command == "wait":
        wait(rest[0])
    elif command == "token":
        print(mint(rest[0], "compare", ["admin"], 6 * 3600))
    elif command == "seed":
        asyncio.run(seed(rest[0], rest[1], rest[2], int(rest[3])))
    elif command == "anchor-key":
        query_url, sku, run_id = rest
        asyncio.run(anchor_key(answer_of(f"{query_url}/products/{sku}"), run_id))
    elif command == "store":
        appends, events = (int(x) for x in rest[1:3])
        asyncio.run(store_figures(rest[0], appends, events))
    elif command == "record":
        key, setup_text, tool_command = rest
        figures = parse(sys.stdin.read())
        emit({"key": key, "setup": setup_text, "command": tool_command} | figures)
    else:
        raise SystemExit(f"unknown step {command!r}; see {__file__}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["help"])
