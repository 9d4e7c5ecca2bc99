"""What the PostgreSQL event store does beyond the contract every store passes:
its schema, its errors, and how open transactions hold the global log back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.postgres._database import migrate, open_pool
from cqrskit.adapters.postgres._statements import APPEND, MIGRATIONS, plan_append
from cqrskit.core.errors import (
    ConcurrencyError,
    IdempotencyMismatch,
    Invalid,
    StoreUnavailable,
)
from cqrskit.core.idempotency import StoredAnswers
from cqrskit.core.messages import Ack, Metadata, NewEvent, StreamAppend
from cqrskit.shop.errors import PaymentDeclined
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration

META = Metadata(command_id="cmd-1")
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/test"


def batch(stream_id: str, expected: int = 0, count: int = 1) -> list[StreamAppend]:
    new = [NewEvent(f"E{expected + i + 1}", {"i": i}) for i in range(count)]
    return [StreamAppend(stream_id, expected, new)]


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A schema of this test's own, dropped afterwards (the store creates it)."""
    url = require(POSTGRES_URL)
    name = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def store(schema: str) -> AsyncIterator[PostgresEventStore]:
    store = await PostgresEventStore.open(POSTGRES_URL, schema=schema, pool_size=4)
    yield store
    await store.close()


@pytest.fixture
async def conn(
    schema: str, store: PostgresEventStore
) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own on the store's schema."""
    conn = await asyncpg.connect(
        POSTGRES_URL, server_settings={"search_path": f'"{schema}"'}
    )
    yield conn
    await conn.close()


async def test_an_append_without_events_only_checks_the_versions(
    store: PostgresEventStore,
) -> None:
    await store.append(batch("cart-1"), metadata=META)

    assert await store.append([StreamAppend("cart-1", 1, [])], metadata=META) == []
    assert await store.append([], metadata=META) == []
    with pytest.raises(ConcurrencyError, match="cart-1"):
        await store.append([StreamAppend("cart-1", 0, [])], metadata=META)
    assert len(await store.read_all(0, 10)) == 1


async def test_answers_stored_before_the_upgrade_still_replay(schema: str) -> None:
    """Migration 3 moves the idempotency table's answers into the log, and
    leaves the table for processes of the previous version still running."""
    pool = await open_pool(POSTGRES_URL, schema, 1)
    try:
        await migrate(pool, schema, "event_store", MIGRATIONS[:2])
        async with pool.acquire() as old:
            (placed,) = await old.fetch(
                APPEND, *plan_append(batch("order-1"), META, _now()).args
            )
            await old.executemany(
                "INSERT INTO idempotency VALUES ($1, 'fp', 'order-1', 1, $2,"
                """ '[["order-1", 1]]', $3, $4)""",
                [
                    ("k-placed", placed["position"], None, None),
                    ("k-declined", placed["position"], "PaymentDeclined", "no funds"),
                ],
            )
    finally:
        await pool.close()

    store = await PostgresEventStore.open(POSTGRES_URL, schema=schema)
    try:
        answers = StoredAnswers(store, {"PaymentDeclined": PaymentDeclined})
        assert await answers.replay("k-placed", "fp") == Ack(
            "order-1", 1, placed["position"], (("order-1", 1),)
        )
        with pytest.raises(PaymentDeclined, match="no funds"):
            await answers.replay("k-declined", "fp")
        with pytest.raises(IdempotencyMismatch):
            await answers.replay("k-placed", "another request")
        assert await answers.replay("k-other", "fp") is None
        assert await _admin(f'SELECT count(*) FROM "{schema}".idempotency') == 2
    finally:
        await store.close()


async def test_data_postgresql_refuses_is_invalid_and_writes_nothing(
    store: PostgresEventStore,
) -> None:
    refused = [StreamAppend("cart-1", 0, [NewEvent("A", {"text": "nul \x00"})])]

    with pytest.raises(Invalid):
        await store.append([*batch("cart-2"), *refused], metadata=META)

    assert await store.read_all(0, 10) == []


async def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await PostgresEventStore.open(CLOSED_PORT_URL)


async def test_a_connection_lost_mid_append_is_store_unavailable_and_the_store_recovers(
    store: PostgresEventStore, conn: asyncpg.Connection
) -> None:
    # A transaction that wrote cart-1's first version and stays open makes the
    # store's append of the same version wait on it; then its backend dies.
    blocker = conn.transaction()
    await blocker.start()
    try:
        await conn.fetch(APPEND, *plan_append(batch("cart-1"), META, _now()).args)
        append = asyncio.create_task(store.append(batch("cart-1"), metadata=META))
        waiting = await _blocked_by(conn.get_server_pid())
        await _admin("SELECT pg_terminate_backend($1)", waiting)
        with pytest.raises(StoreUnavailable):
            await append
    finally:
        await blocker.rollback()

    (added,) = await store.append(batch("cart-1"), metadata=META)
    assert added.version == 1


async def test_younger_transactions_wait_in_the_log_until_older_ones_end(
    schema: str, conn: asyncpg.Connection
) -> None:
    store = await PostgresEventStore.open(
        POSTGRES_URL, schema=schema, settle_timeout=0.05
    )
    (first,) = await store.append(batch("cart-0"), metadata=META)
    older = conn.transaction()
    await older.start()
    await conn.fetchval("SELECT pg_current_xact_id()")  # takes its id now

    (younger,) = await store.append(batch("cart-1"), metadata=META)
    held_back = await store.read_all(first.position, 10)
    await conn.fetch(APPEND, *plan_append(batch("cart-2"), META, _now()).args)
    await older.commit()
    log = await store.read_all(first.position, 10)

    assert held_back == []
    assert [(r.stream_id, r.position > younger.position) for r in log] == [
        ("cart-2", True),  # the older transaction, though its position is higher
        ("cart-1", False),
    ]
    assert await store.read_all(log[0].position, 10) == [younger]
    assert await store.read_all(younger.position, 10) == []
    await store.close()


async def test_a_cursor_between_positions_continues_after_it(
    store: PostgresEventStore,
) -> None:
    await store.append(batch("cart-1", count=2), metadata=META)
    with pytest.raises(Invalid):  # consumes positions 3 and 4, then rolls back
        await store.append(
            [
                *batch("cart-2", count=2),
                StreamAppend("x", 0, [NewEvent("A", {"": "\x00"})]),
            ],
            metadata=META,
        )
    later = await store.append(batch("cart-3"), metadata=META)

    assert [r.position for r in await store.read_all(0, 10)] == [
        1,
        2,
        later[0].position,
    ]
    gap = range(3, later[0].position)
    assert len(gap) >= 2
    for position in gap:
        assert await store.read_all(position, 10) == later
    assert await store.read_all(later[0].position + 10, 10) == []


async def test_each_schema_is_a_store_of_its_own(
    store: PostgresEventStore, schema: str
) -> None:
    other_schema = f"{schema}_other"
    other = await PostgresEventStore.open(POSTGRES_URL, schema=other_schema)
    try:
        await store.append(batch("cart-1"), metadata=META)
        await store.save_position("relay", 1)

        assert await other.read_stream("cart-1") == []
        assert await other.read_all(0, 10) == []
        assert await other.load_position("relay") == 0
    finally:
        await other.close()
        await _admin(f'DROP SCHEMA "{other_schema}" CASCADE')


async def test_a_schema_newer_than_the_code_refuses_to_open(
    store: PostgresEventStore, conn: asyncpg.Connection, schema: str
) -> None:
    newer = len(MIGRATIONS) + 1
    await conn.execute(
        "INSERT INTO schema_migrations (component, version) VALUES ('event_store', $1)",
        newer,
    )

    with pytest.raises(StoreUnavailable, match=f"version {newer}"):
        await PostgresEventStore.open(POSTGRES_URL, schema=schema)


async def _admin(query: str, *args: object) -> object:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def _blocked_by(pid: int) -> int:
    """The backend that waits for `pid`'s locks (polled until there is one)."""
    async with asyncio.timeout(10):
        while True:
            waiting = await _admin(
                "SELECT pid FROM pg_stat_activity"
                " WHERE $1 = ANY(pg_blocking_pids(pid))",
                pid,
            )
            if isinstance(waiting, int):
                return waiting
            await asyncio.sleep(0.01)


def _now() -> datetime:
    return datetime.now(UTC)
