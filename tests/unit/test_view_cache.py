"""The cache of hot views over an in-memory store: what it keeps, what it
forgets, and when it reads through; and the consistency wait it wakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.core.consistency import ConsistencyWaiter
from cqrskit.core.ports import VersionMove, ViewChanges
from cqrskit.core.viewcache import CachedViews, Listeners, ViewCache


class CountingStore(InMemoryReadStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    async def get(self, key: str) -> bytes | None:
        self.reads.append(key)
        return await super().get(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self.reads.extend(keys)
        return await super().get_many(keys)


async def put(store: InMemoryReadStore, **docs: bytes) -> None:
    await store.commit("catalog", ViewChanges(dict(docs), {}, set()), {})


@contextlib.asynccontextmanager
async def watched(store: InMemoryReadStore, *listeners: object) -> AsyncIterator[None]:
    task = asyncio.create_task(store.watch(Listeners(*listeners)))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_hot_view_is_read_from_the_store_once() -> None:
    store = CountingStore()
    views = CachedViews(store, ViewCache(10))
    await put(store, a=b"1")
    async with watched(store, views.listener):
        assert [await views.get("a") for _ in range(3)] == [b"1"] * 3
        assert await views.get_many(["a", "b", "a"]) == [b"1", None, b"1"]
        assert await views.get("b") is None
    assert store.reads == ["a", "b"]


async def test_the_cache_holds_no_more_than_its_size() -> None:
    store = CountingStore()
    views = CachedViews(store, ViewCache(2))
    async with watched(store, views.listener):
        for key in ["a", "b", "c", "a"]:
            await views.get(key)
        assert len(views.cache) == 2
    assert store.reads == ["a", "b", "c", "a"]  # a was the least recent


async def test_without_tracking_every_read_goes_to_the_store() -> None:
    store = CountingStore()
    views = CachedViews(store, ViewCache(10))
    await put(store, a=b"1")
    await views.get("a")
    await views.get("a")
    assert store.reads == ["a", "a"]


async def test_a_read_begun_before_tracking_came_back_is_not_kept() -> None:
    """Changes made while tracking was down were never told: what a read
    begun then brings back may be older than the store."""
    store = InMemoryReadStore()
    views = CachedViews(store, ViewCache(10))
    listener = views.listener
    listener.tracking()
    await put(store, a=b"old")
    gate = asyncio.Event()

    class Slow(InMemoryReadStore):
        async def get(self, key: str) -> bytes | None:
            value = await store.get(key)
            await gate.wait()
            return value

    slow_views = CachedViews(Slow(), views.cache)
    reading = asyncio.create_task(slow_views.get("a"))
    await asyncio.sleep(0)
    listener.lost()
    store._docs["a"] = b"new"  # a change nobody was told of
    listener.tracking()
    gate.set()
    assert await reading == b"old"
    assert await views.get("a") == b"new"


@pytest.mark.parametrize("told", [True, False])
async def test_a_token_wait_ends_when_the_checkpoint_moves(told: bool) -> None:
    """Told of changes, the wait wakes on the checkpoint's change (its
    fallback look comes only after a minute here); untold, it polls."""
    store = InMemoryReadStore()
    poll = 60.0 if told else 0.001
    waiter = ConsistencyWaiter(
        store,
        [("catalog", frozenset({"product"}))],
        poll_interval=poll,
        idle_interval=60.0,
    )

    async def apply_later() -> None:
        await asyncio.sleep(0.01)
        moved = {"product-A": VersionMove(0, 1)}
        await store.commit("catalog", ViewChanges.empty(), moved)

    listeners = [waiter] if told else []
    async with watched(store, *listeners):
        applying = asyncio.create_task(apply_later())
        assert await waiter.wait([("product-A", 1)], within=5.0)
        await applying
