"""Every lease (PostgreSQL, file, in-process) follows the same rules: one
holder per name, a released lease passes to a waiting standby, and a lease
that is not held refuses to move the position (fencing)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.adapters.memory.lease import InProcessLease
from cqrskit.adapters.postgres import PostgresEventStore, PostgresLease
from cqrskit.adapters.sqlite import SqliteEventStore
from cqrskit.adapters.sqlite.lease import FileLease
from cqrskit.core.ports import Lease, LeaseLost
from services import POSTGRES_URL, require

MakeLease = Callable[[str], Lease]
WAIT = 5.0


async def _memory(stack: AsyncExitStack, _: Path) -> MakeLease:
    positions = InMemoryEventStore()
    return lambda name: InProcessLease(name, positions)


async def _file(stack: AsyncExitStack, tmp_path: Path) -> MakeLease:
    positions = await SqliteEventStore.open(tmp_path / "events.sqlite")
    stack.push_async_callback(positions.close)
    return lambda name: FileLease(tmp_path / f"{name}.lock", positions)


async def _postgres(stack: AsyncExitStack, _: Path) -> MakeLease:
    url = require(POSTGRES_URL)
    schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    store = await PostgresEventStore.open(url, schema=schema, pool_size=2)

    async def drop() -> None:
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    stack.push_async_callback(drop)
    return lambda name: PostgresLease(url, f"{schema}-{name}", schema=schema)


@pytest.fixture(
    params=[
        pytest.param(_memory, id="memory"),
        pytest.param(_file, id="file"),
        pytest.param(_postgres, id="postgres", marks=pytest.mark.integration),
    ]
)
async def make(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MakeLease]:
    """Leases on one adapter's storage; every one made is released afterwards."""
    made: list[Lease] = []
    async with AsyncExitStack() as stack:
        factory = await request.param(stack, tmp_path)

        def tracked(name: str) -> Lease:
            lease = factory(name)
            made.append(lease)
            return lease

        try:
            yield tracked
        finally:
            for lease in made:
                await lease.release()


async def _still_waiting(task: asyncio.Task[None], seconds: float = 0.3) -> bool:
    await asyncio.sleep(seconds)
    return not task.done()


async def test_the_holder_is_valid_and_keeps_the_position(make: MakeLease) -> None:
    lease = make("relay")
    assert not lease.valid()
    await lease.acquire()
    assert lease.valid() and await lease.renew()
    assert await lease.load_position("relay") == 0
    await lease.save_position("relay", 42)
    assert await lease.load_position("relay") == 42
    await lease.acquire()  # holding already: returns at once
    assert lease.valid()


async def test_a_standby_waits_and_takes_over_on_release(make: MakeLease) -> None:
    first, second = make("relay"), make("relay")
    await first.acquire()
    standby = asyncio.create_task(second.acquire())
    assert await _still_waiting(standby)
    assert not second.valid()

    await first.release()
    await first.release()  # safe to repeat

    await asyncio.wait_for(standby, WAIT)
    assert second.valid() and await second.renew()
    assert not first.valid() and not await first.renew()


async def test_a_lease_not_held_cannot_move_the_position(make: MakeLease) -> None:
    first, second = make("relay"), make("relay")
    await first.acquire()
    await first.save_position("relay", 10)
    await first.release()
    await second.acquire()

    with pytest.raises(LeaseLost):
        await first.save_position("relay", 5)
    await second.save_position("relay", 11)
    assert await second.load_position("relay") == 11


async def test_a_cancelled_wait_leaves_no_claim_behind(make: MakeLease) -> None:
    first, gave_up, third = make("relay"), make("relay"), make("relay")
    await first.acquire()
    waiting = asyncio.create_task(gave_up.acquire())
    assert await _still_waiting(waiting)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    standby = asyncio.create_task(third.acquire())
    await first.release()
    await asyncio.wait_for(standby, WAIT)
    assert third.valid() and not gave_up.valid()


async def test_leases_of_different_names_do_not_wait_for_each_other(
    make: MakeLease,
) -> None:
    relay, other = make("relay"), make("other")
    await asyncio.wait_for(relay.acquire(), WAIT)
    await asyncio.wait_for(other.acquire(), WAIT)
    assert relay.valid() and other.valid()
