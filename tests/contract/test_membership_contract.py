"""The Membership contract, run against every adapter: in memory, SQLite and
Redis (each on storage of its own)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from cqrskit.adapters.memory.membership import InMemoryMembership
from cqrskit.adapters.redis.membership import RedisMembership
from cqrskit.adapters.sqlite.membership import SqliteMembership
from cqrskit.core.ports import Membership
from services import REDIS_URL, require

Opener = Callable[[], Awaitable[Membership]]


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
async def open_membership(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Opener]:
    """Opens handles that share one storage (one for the in-memory adapter)."""
    opened: list[Membership] = []
    shared = InMemoryMembership()
    namespace = f"it-{uuid.uuid4().hex[:12]}"

    async def opener() -> Membership:
        handle: Membership
        if request.param == "memory":
            return shared
        if request.param == "sqlite":
            handle = await SqliteMembership.open(tmp_path / "read.db")
        else:
            handle = await RedisMembership.open(require(REDIS_URL), namespace=namespace)
        opened.append(handle)
        return handle

    yield opener
    for handle in opened:
        await handle.close()


async def test_a_heartbeat_answers_the_live_members_sorted(
    open_membership: Opener,
) -> None:
    first, second = await open_membership(), await open_membership()

    assert await first.heartbeat("b", 30) == ["b"]
    assert await second.heartbeat("a", 30) == ["a", "b"]
    assert await first.heartbeat("b", 30) == ["a", "b"]


async def test_a_member_that_stops_beating_is_forgotten(
    open_membership: Opener,
) -> None:
    membership = await open_membership()
    await membership.heartbeat("gone", 0.05)
    await membership.heartbeat("stays", 30)
    await asyncio.sleep(0.3)

    assert await membership.heartbeat("stays", 30) == ["stays"]


async def test_a_member_that_leaves_is_gone_at_once(open_membership: Opener) -> None:
    first, second = await open_membership(), await open_membership()
    await first.heartbeat("a", 30)
    await second.heartbeat("b", 30)

    await second.leave("b")

    assert await first.heartbeat("a", 30) == ["a"]
