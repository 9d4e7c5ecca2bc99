"""A command's latency on a stream with 0, 10,000 and 100,000 earlier events.

    .venv/bin/python bench/long_streams.py [--dsn DSN] [--lengths 0,10000,100000]
        [--warm N] [--cold N] [--snapshot-every N]

Runs the command service's code path without HTTP: ShopCommands on the
Dispatcher with the real PostgresEventStore, in a schema of its own (dropped
at the end). For each length L it seeds a SKU whose inventory stream holds L
reservations (multi-row appends of 5,000 events through the store's own
append), then times two commands on it: an order of one unit (PlaceOrder:
quote, authorize, reserve, check out, record the order; its cart is made
beforehand, untimed) and a restock. Three ways to meet the stream:

- first: the first order, in a new process, on a stream that has no snapshot
  yet (it folds the whole stream and keeps a snapshot, in the background);
- cold: a new process (empty cache) once the snapshot exists;
- warm: the same process again (state cached; reads the events since).

Each cell is the median (and p90) over the repetitions, in milliseconds; the
ratio compares it with the same cell on the new stream (L = 0). With
$COMPARE_RESULTS set, the table also goes there as one JSON line (bench/
compare.sh runs it; bench/compare_report.py renders the line).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
import compare

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.messages import Metadata, StreamAppend
from cqrskit.core.snapshots import SnapshotPolicy
from cqrskit.runtime.bootstrap import CommandSide, FoldMemory, command_side
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.domain import inventory as i
from cqrskit.shop.domain.catalog import AddProduct
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import Card

DEFAULT_DSN = os.environ.get(
    "CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CARD = Card("4242424242424242", "12/2099", "123")
SEED_BATCH = 5_000
_ids = count()
Cell = dict[str, Any]
"""One row of the table: events, command, load, p50_ms, p90_ms, ratio."""


def ctx() -> CommandContext:
    return CommandContext(command_id=f"bench-{next(_ids)}", correlation_id="bench")


async def seed(store: PostgresEventStore, sku: str, length: int) -> None:
    """A product and an inventory stream of `length` reservations (plus the
    restock that made them possible), appended in big multi-row batches."""
    side = command_side(SHOP, store)
    await side.commands.catalog(ctx(), AddProduct(sku, "Mug", 500), sku=sku)
    codec = shop_codec()
    stream = i.inventory_stream(sku)
    events = [codec.encode(i.StockAdded(sku, length + 1_000_000))]
    events += [
        codec.encode(i.StockReserved(sku, 1, f"seed-{n:07}")) for n in range(length)
    ]
    for start in range(0, len(events), SEED_BATCH):
        chunk = events[start : start + SEED_BATCH]
        await store.append([StreamAppend(stream, start, chunk)], metadata=Metadata())


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


class Bench:
    def __init__(self, store: PostgresEventStore, memory: FoldMemory) -> None:
        self.store = store
        self.memory = memory

    def side(self) -> CommandSide:
        """A new command process: an empty cache."""
        return command_side(SHOP, self.store, memory=self.memory)

    async def order(self, carts: CommandSide, side: CommandSide, sku: str) -> float:
        """Time an order placed through `side` (its cart made through `carts`)."""
        cart = f"cart-{uuid.uuid4().hex}"
        await carts.commands.create_cart(ctx(), "customer-1", cart)
        await carts.commands.add_item(ctx(), cart, sku, 1)
        return await timed(lambda: side.commands.place_order(ctx(), cart, CARD, None))

    async def restock(self, side: CommandSide, sku: str) -> float:
        return await timed(lambda: side.commands.restock(ctx(), i.Restock(sku, 1)))

    async def cold(self, sku: str, what: str, reps: int) -> list[float]:
        """Each repetition in a new process."""
        times = []
        for _ in range(reps):
            fresh = self.side()
            if what == "order":
                times.append(await self.order(self.side(), fresh, sku))
            else:
                times.append(await self.restock(fresh, sku))
            await fresh.drain()
        return times

    async def warm(self, sku: str, what: str, reps: int) -> list[float]:
        side = self.side()
        await self.restock(side, sku)  # load once
        if what == "order":
            return [await self.order(side, side, sku) for _ in range(reps)]
        return [await self.restock(side, sku) for _ in range(reps)]


def cell(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


async def run(args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    store = await PostgresEventStore.open(args.dsn, schema=schema, pool_size=8)
    policy = SnapshotPolicy(every=args.snapshot_every, slow_load=0.05)
    bench = Bench(store, FoldMemory(cache_size=10_000, snapshots=policy))
    rows: list[tuple[int, str, str, float, float]] = []
    try:
        for length in args.lengths:
            sku = f"SKU-{length}"
            started = time.perf_counter()
            await seed(store, sku, length)
            seeded = time.perf_counter() - started
            print(f"seeded {length} events in {seeded:.1f} s", file=sys.stderr)
            first = await bench.cold(sku, "order", 1)
            rows.append((length, "order", "first", *cell(first)))
            for what in ("order", "restock"):
                for mode, reps in (("cold", args.cold), ("warm", args.warm)):
                    times = await getattr(bench, mode)(sku, what, reps)
                    rows.append((length, what, mode, *cell(times)))
    finally:
        await store.close()
        conn = await asyncpg.connect(args.dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    report(rows)


def with_ratios(rows: list[tuple[int, str, str, float, float]]) -> list[Cell]:
    """Each cell with its p50 over the same cell's on the new stream."""
    base = {(what, mode): p50 for length, what, mode, p50, _ in rows if length == 0}
    return [
        {
            "events": length, "command": what, "load": mode,
            "p50_ms": p50, "p90_ms": p90,
            "ratio": p50 / base[what, mode] if base.get((what, mode)) else None,
        }
        for length, what, mode, p50, p90 in rows
    ]  # fmt: skip


def report(rows: list[tuple[int, str, str, float, float]]) -> None:
    cells = with_ratios(rows)
    print("| earlier events | command | load | p50 ms | p90 ms | p50 / new stream |")
    print("|---:|---|---|---:|---:|---:|")
    for c in cells:
        ratio = "-" if c["ratio"] is None else f"{c['ratio']:.2f}"
        print(
            f"| {c['events']:,} | {c['command']} | {c['load']} | {c['p50_ms']:.2f}"
            f" | {c['p90_ms']:.2f} | {ratio} |"
        )
    print(f"\ncommand: {' '.join(sys.argv)}")
    if os.environ.get("COMPARE_RESULTS"):
        compare.emit({
            "key": "long_streams",
            "setup": "ShopCommands on the Dispatcher, PostgresEventStore, no HTTP",
            "command": compare.shown(sys.argv),
            "rows": cells,
        })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument(
        "--lengths",
        default=[0, 10_000, 100_000],
        type=lambda s: [int(x) for x in s.split(",")],
        help="earlier events per stream, comma-separated (start with 0)",
    )
    parser.add_argument("--warm", type=int, default=50, help="repetitions, warm")
    parser.add_argument("--cold", type=int, default=10, help="repetitions, cold")
    parser.add_argument("--snapshot-every", type=int, default=1000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
