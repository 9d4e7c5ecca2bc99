"""Appends per second on PostgreSQL through asyncpg and psycopg 3, side by side.

    .venv/bin/python bench/append_drivers.py [--dsn DSN] [--seconds S] [--rounds R]

Both drivers run the event store's own append statement (one statement per
append: version check, multi-row INSERT, in its own transaction) with the same
arguments, on one dedicated connection per writer, in autocommit. Every writer
appends to a stream of its own, so nobody conflicts. For 1 and 10 events per
append and 1 and 16 concurrent writers, the drivers take turns for R rounds of
S seconds each (after a short warm-up, so both have prepared the statement);
the table shows the mean. The row `store` is PostgresEventStore.append itself
(asyncpg, with its pool) for comparison, and `silent` the same store without
the commit notices that wake the relay (a NOTIFY after the appends commit).
Tables live in a schema of their own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import psycopg

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.postgres._database import open_pool
from cqrskit.adapters.postgres._statements import APPEND, plan_append
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend

DEFAULT_DSN = os.environ.get(
    "CQRSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
EVENTS_PER_APPEND = (1, 10)
WRITERS = (1, 16)
WARM_UP = 0.3
META = Metadata(command_id=uuid.uuid4().hex, correlation_id=uuid.uuid4().hex)

Append = Callable[[list[StreamAppend]], Awaitable[object]]
"""Appends a batch through one writer's connection."""
Driver = Callable[[str, str, int], Awaitable[tuple[list[Append], Callable[[], Any]]]]
"""Opens `writers` appenders on a schema; returns them and how to close them."""


def batch(stream_id: str, expected: int, events: int) -> list[StreamAppend]:
    new = [
        NewEvent("ItemAdded", {"sku": f"SKU-{expected + i:05}", "quantity": 2})
        for i in range(events)
    ]
    return [StreamAppend(stream_id, expected, new)]


def args_of(appends: list[StreamAppend]) -> tuple[Any, ...]:
    return plan_append(appends, META, datetime.now(UTC)).args


async def asyncpg_driver(
    dsn: str, schema: str, writers: int
) -> tuple[list[Append], Callable[[], Any]]:
    settings = {"search_path": f'"{schema}"'}
    conns = [
        await asyncpg.connect(dsn, server_settings=settings) for _ in range(writers)
    ]

    def appender(conn: asyncpg.Connection) -> Append:
        return lambda appends: conn.fetch(APPEND, *args_of(appends))

    async def close() -> None:
        for conn in conns:
            await conn.close()

    return [appender(c) for c in conns], close


async def psycopg_driver(
    dsn: str, schema: str, writers: int
) -> tuple[list[Append], Callable[[], Any]]:
    conns = [
        await psycopg.AsyncConnection.connect(
            dsn,
            autocommit=True,
            options=f'-c search_path="{schema}"',
            cursor_factory=psycopg.AsyncRawCursor,  # $1 placeholders, as asyncpg
        )
        for _ in range(writers)
    ]

    def appender(conn: psycopg.AsyncConnection[Any]) -> Append:
        async def append(appends: list[StreamAppend]) -> object:
            cursor = await conn.execute(APPEND, args_of(appends))
            return await cursor.fetchall()

        return append

    async def close() -> None:
        for conn in conns:
            await conn.close()

    return [appender(c) for c in conns], close


async def store_driver(
    dsn: str, schema: str, writers: int
) -> tuple[list[Append], Callable[[], Any]]:
    store = await PostgresEventStore.open(dsn, schema=schema, pool_size=writers)

    def appender() -> Append:
        return lambda appends: store.append(appends, metadata=META)

    return [appender() for _ in range(writers)], store.close


async def silent_store_driver(
    dsn: str, schema: str, writers: int
) -> tuple[list[Append], Callable[[], Any]]:
    """The store without its commit notices (the NOTIFY each process sends
    after its appends commit, adapters/postgres/_notify.py): their cost."""
    pool = await open_pool(dsn, schema, writers)
    store = PostgresEventStore(pool, lambda: datetime.now(UTC), 1.0)

    def appender() -> Append:
        return lambda appends: store.append(appends, metadata=META)

    return [appender() for _ in range(writers)], store.close


DRIVERS: dict[str, Driver] = {
    "asyncpg": asyncpg_driver,
    "psycopg": psycopg_driver,
    "store": store_driver,
    "silent": silent_store_driver,
}


async def measure(
    driver: Driver, dsn: str, schema: str, writers: int, events: int, seconds: float
) -> float:
    """Appends per second of `writers` writers appending `events` at a time."""
    appenders, close = await driver(dsn, schema, writers)
    run = uuid.uuid4().hex[:8]
    counts = [0] * writers

    async def write(i: int, until: float) -> None:
        stream = f"bench-{run}-{i}"
        while time.perf_counter() < until:
            await appenders[i](batch(stream, counts[i] * events, events))
            counts[i] += 1

    try:
        await asyncio.gather(
            *(write(i, time.perf_counter() + WARM_UP) for i in range(writers))
        )
        done_before = sum(counts)
        started = time.perf_counter()
        await asyncio.gather(*(write(i, started + seconds) for i in range(writers)))
        elapsed = time.perf_counter() - started
    finally:
        await close()
    return (sum(counts) - done_before) / elapsed


async def main(dsn: str, seconds: float, rounds: int) -> None:
    schema = f"cqrskit_bench_{uuid.uuid4().hex[:8]}"
    await (await PostgresEventStore.open(dsn, schema=schema, pool_size=1)).close()
    results: dict[tuple[str, int, int], list[float]] = {}
    try:
        for events in EVENTS_PER_APPEND:
            for writers in WRITERS:
                for _ in range(rounds):
                    for name, driver in DRIVERS.items():
                        rate = await measure(
                            driver, dsn, schema, writers, events, seconds
                        )
                        results.setdefault((name, events, writers), []).append(rate)
    finally:
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
    print_table(results)


def print_table(results: dict[tuple[str, int, int], list[float]]) -> None:
    print(f"{'driver':<8} {'events/append':>13} {'writers':>7}"
          f" {'appends/s':>10} {'events/s':>10}  rounds")  # fmt: skip
    for (name, events, writers), rates in sorted(
        results.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])
    ):
        mean = statistics.mean(rates)
        each = " ".join(f"{r:.0f}" for r in rates)
        print(f"{name:<8} {events:>13} {writers:>7} {mean:>10.0f}"
              f" {mean * events:>10.0f}  {each}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    asyncio.run(main(options.dsn, options.seconds, options.rounds))
