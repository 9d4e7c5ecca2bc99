"""The Watchable contract: a read store that tells of its changes, and the
cache of hot views kept by it (core/viewcache.py). Every adapter that offers
`watch` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import pytest
import pytest_asyncio

from cqrskit.core.ports import (
    ChangeListener,
    ReadStore,
    SearchableStore,
    VersionMove,
    ViewChanges,
    Watchable,
)
from cqrskit.core.viewcache import CachedViews, Listeners, ViewCache
from cqrskit.testing.read_store import ReadStoreFixtures

BOUND = 5.0
"""How long a change may take to be told (a notice crosses the network)."""


class Recorder(ChangeListener):
    def __init__(self) -> None:
        self.live = False
        self.docs: set[str] = set()
        self.projections: set[str] = set()
        self.flushed = 0

    def tracking(self) -> None:
        self.live = True

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        if docs is None:
            self.flushed += 1
        else:
            self.docs.update(docs)
        self.projections.update(projections)

    def lost(self) -> None:
        self.live = False


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], what: str, within: float = BOUND
) -> None:
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found if isinstance(found, bool) else await found:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.005)


async def put(store: ReadStore, key: str, value: bytes | None) -> None:
    await store.commit("catalog", ViewChanges({key: value}, {}, set()), {})


class Watching:
    """A store watched by a recorder and a cache over it."""

    def __init__(self, store: ReadStore) -> None:
        assert isinstance(store, Watchable), f"{type(store).__name__} has no watch"
        self.store = store
        self.recorder = Recorder()
        self.views = CachedViews(cast(SearchableStore, store), ViewCache(100))
        listener = Listeners(self.views.listener, self.recorder)
        self.task = asyncio.create_task(store.watch(listener))

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class _LateReply:
    """A store whose reads come back only after `meanwhile` ran: the GET left
    before a change, its reply arrives after the change's notice."""

    def __init__(self, store: ReadStore, meanwhile: Callable[[], Awaitable[None]]):
        self._store = store
        self._meanwhile = meanwhile

    async def get(self, key: str) -> bytes | None:
        value = await self._store.get(key)
        await self._meanwhile()
        return value


class WatchableContract(ReadStoreFixtures):
    """What a read store that tells of its changes promises, and what a
    `CachedViews` over it therefore serves."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def watching(self, read_store: ReadStore) -> AsyncIterator[Watching]:
        watching = Watching(read_store)
        await eventually(lambda: watching.recorder.live, "tracking")
        yield watching
        await watching.stop()

    async def test_a_commit_is_told_with_its_documents_and_checkpoints(
        self, watching: Watching
    ) -> None:
        changes = ViewChanges({"product:A": b"a", "product:B": b"b"}, {}, set())
        await watching.store.commit("catalog", changes, {})
        await eventually(
            lambda: {"product:A", "product:B"} <= watching.recorder.docs,
            "both documents told",
        )
        watching.recorder.docs.clear()
        await put(watching.store, "product:B", None)
        await eventually(lambda: "product:B" in watching.recorder.docs, "a deletion")
        moved = {"o-1": VersionMove(0, 1)}
        await watching.store.commit("orders", ViewChanges.empty(), moved)
        await eventually(
            lambda: "orders" in watching.recorder.projections, "the checkpoint told"
        )

    async def test_the_cache_serves_each_change_and_never_an_older_one(
        self, watching: Watching
    ) -> None:
        views = watching.views
        assert await views.get("product:A") is None
        for n in range(1, 6):
            value = f"v{n}".encode()
            await put(watching.store, "product:A", value)
            await eventually(reads(views, "product:A", value), f"v{n} served")
            assert [await views.get("product:A") for _ in range(3)] == [value] * 3
        assert views.cache.hits > 0, "the cache served nothing"

    async def test_a_read_racing_a_change_is_not_kept(self, watching: Watching) -> None:
        await put(watching.store, "product:A", b"old")
        await eventually(lambda: "product:A" in watching.recorder.docs, "told")
        watching.recorder.docs.clear()

        async def change_lands_and_is_told() -> None:
            await put(watching.store, "product:A", b"new")
            await eventually(lambda: "product:A" in watching.recorder.docs, "told")

        late = _LateReply(watching.store, change_lands_and_is_told)
        racing = CachedViews(cast(SearchableStore, late), watching.views.cache)
        assert await racing.get("product:A") == b"old"  # the reply that raced
        assert await watching.views.get("product:A") == b"new"

    async def test_once_the_watch_stops_the_cache_reads_through(
        self, watching: Watching
    ) -> None:
        await put(watching.store, "product:A", b"old")
        await eventually(reads(watching.views, "product:A", b"old"), "old")
        await watching.stop()
        assert not watching.recorder.live
        await put(watching.store, "product:A", b"new")
        assert await watching.views.get("product:A") == b"new"


def reads(views: CachedViews, key: str, value: bytes) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        found: Any = await views.get(key)
        return bool(found == value)

    return check
