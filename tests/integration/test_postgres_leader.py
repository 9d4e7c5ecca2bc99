"""The PostgreSQL lease hands over however its holder ends: its session is
terminated (the Lease contract, tests/contract), its process freezes (it stops
renewing and the server's idle_session_timeout ends the session), or the server
is unreachable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresEventStore, PostgresLease
from cqrskit.adapters.postgres.leader import lease_holder
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.ports import LeaseLost
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A schema of this test's own with the positions table; dropped afterwards."""
    url = require(POSTGRES_URL)
    name = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    store = await PostgresEventStore.open(url, schema=name, pool_size=1)
    await store.close()
    yield name
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def leases(schema: str) -> AsyncIterator[list[PostgresLease]]:
    made = [
        PostgresLease(
            POSTGRES_URL, schema, schema=schema, validity=1.0, idle_timeout=1.5
        )
        for _ in range(3)
    ]
    yield made
    for lease in made:
        await lease.release()


async def _session_count(name: str, waiting: bool) -> int:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
            " AND (wait_event_type = 'Lock') = $2",
            f"cqrskit leader {name}",
            waiting,
        )
    finally:
        await conn.close()
    return count


async def test_a_frozen_holder_loses_the_lease_within_the_bound(
    schema: str, leases: list[PostgresLease]
) -> None:
    """A holder that stops renewing (as a frozen process does) stops being
    valid first, then the server ends its session and a standby takes over;
    the old holder's late save moves nothing."""
    first, second, _ = leases
    await first.acquire()
    await first.save_position("relay", 7)
    standby = asyncio.create_task(second.acquire())

    await asyncio.wait_for(standby, 10)
    assert not first.valid(), "the old holder must distrust its lease first"
    with pytest.raises(LeaseLost):
        await first.save_position("relay", 3)
    assert await second.load_position("relay") == 7


async def test_a_standby_waits_in_rounds_and_still_takes_over(schema: str) -> None:
    """Each round of waiting ends at the session's lock_timeout and begins
    again on the same session; the lock still passes on release."""
    holder = PostgresLease(POSTGRES_URL, schema, schema=schema)
    standby = PostgresLease(POSTGRES_URL, schema, schema=schema, lock_round=0.2)
    try:
        await holder.acquire()
        waiting = asyncio.create_task(standby.acquire())
        await asyncio.sleep(1.0)  # several rounds
        assert not waiting.done()
        await holder.release()
        await asyncio.wait_for(waiting, 5)
        assert standby.valid()
    finally:
        await holder.release()
        await standby.release()


async def test_a_cancelled_wait_leaves_no_session_behind(
    schema: str, leases: list[PostgresLease]
) -> None:
    first, second, _ = leases
    await first.acquire()
    gave_up = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.3)
    assert await _session_count(schema, waiting=True) == 1
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    for _ in range(100):
        if not await _session_count(schema, waiting=True):
            return
        await asyncio.sleep(0.05)
    pytest.fail("the abandoned session still waits for the lock")


async def test_an_unreachable_server_is_store_unavailable() -> None:
    lease = PostgresLease("postgresql://postgres@127.0.0.1:1/test", "relay")
    with pytest.raises(StoreUnavailable):
        await lease.acquire()
    assert not lease.valid()


async def test_an_onlooker_sees_who_holds_the_lease_and_since_when(
    schema: str, leases: list[PostgresLease]
) -> None:
    first, second, _ = leases
    assert await lease_holder(POSTGRES_URL, schema) is None
    await first.acquire()
    standby = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.2)

    held = await lease_holder(POSTGRES_URL, schema)

    assert held is not None and held.holder and held.since.endswith("Z")
    standby.cancel()
    await first.release()
    assert await lease_holder(POSTGRES_URL, schema) is None
