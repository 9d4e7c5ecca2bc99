"""One relay at a time: the PostgreSQL leader lock hands over when its holder's
connection ends, however it ends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresLeaderLock
from cqrskit.core.errors import StoreUnavailable
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration


@pytest.fixture
async def name() -> AsyncIterator[str]:
    """A lock name of this test's own; every lock on it is released afterwards."""
    require(POSTGRES_URL)
    yield f"relay-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def locks(name: str) -> AsyncIterator[list[PostgresLeaderLock]]:
    made = [PostgresLeaderLock(POSTGRES_URL, name) for _ in range(3)]
    yield made
    for lock in made:
        await lock.release()


async def _still_waiting(task: asyncio.Task[None], seconds: float = 0.5) -> bool:
    await asyncio.sleep(seconds)
    return not task.done()


async def _waiting_sessions(name: str) -> int:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = $1 AND wait_event_type = 'Lock'",
            f"cqrskit leader {name}",
        )
    finally:
        await conn.close()
    return count


async def _terminate_holder(name: str) -> None:
    """End the session that holds `name`'s lock, as an operator or a crash would."""
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        terminated = await conn.fetchval(
            "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l"
            " JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1",
            f"cqrskit leader {name}",
        )
    finally:
        await conn.close()
    assert terminated == 1


async def test_a_standby_takes_over_when_the_holders_connection_dies(
    name: str, locks: list[PostgresLeaderLock]
) -> None:
    first, second, _ = locks
    await first.acquire()
    standby = asyncio.create_task(second.acquire())
    assert await _still_waiting(standby)
    assert first.held and await first.check()

    await _terminate_holder(name)

    await asyncio.wait_for(standby, 5)
    assert second.held and await second.check()
    assert not await first.check()
    assert not first.held


async def test_release_hands_the_lock_over(locks: list[PostgresLeaderLock]) -> None:
    first, second, _ = locks
    await first.acquire()
    await first.acquire()  # holding already: returns at once
    standby = asyncio.create_task(second.acquire())
    assert await _still_waiting(standby)

    await first.release()
    await first.release()

    await asyncio.wait_for(standby, 5)
    assert second.held and not first.held
    assert not await first.check()


async def test_a_cancelled_wait_leaves_no_claim_behind(
    name: str, locks: list[PostgresLeaderLock]
) -> None:
    first, second, third = locks
    await first.acquire()
    gave_up = asyncio.create_task(second.acquire())
    assert await _still_waiting(gave_up, 0.3)
    assert await _waiting_sessions(name) == 1
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up

    # Its server session stops waiting too, rather than take the lock later.
    for _ in range(100):
        if not await _waiting_sessions(name):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the abandoned session still waits for the lock")

    standby = asyncio.create_task(third.acquire())
    await first.release()

    await asyncio.wait_for(standby, 5)
    assert third.held and not second.held


async def test_locks_of_different_names_do_not_wait_for_each_other(
    locks: list[PostgresLeaderLock],
) -> None:
    other = PostgresLeaderLock(POSTGRES_URL, f"other-{uuid.uuid4().hex[:12]}")
    async with locks[0], other:
        assert locks[0].held and other.held
    assert not locks[0].held and not other.held


async def test_an_unreachable_server_is_store_unavailable() -> None:
    lock = PostgresLeaderLock("postgresql://postgres@127.0.0.1:1/test", "relay")
    with pytest.raises(StoreUnavailable):
        await lock.acquire()
    assert not lock.held
