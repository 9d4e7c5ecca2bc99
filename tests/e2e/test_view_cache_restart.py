"""The cache of hot views on a Redis of its own: across a restart (while its
tracking connection is down it is empty and every read goes to Redis; once
tracking is back it caches again, and serves what Redis holds), and when the
database is emptied."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from private_services import PrivateRedis
from topology import free_port_run

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.testing.watch import Watching, eventually, put, reads

pytestmark = pytest.mark.e2e


@pytest.fixture
async def redis() -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(free_port_run(1))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def watching(redis: PrivateRedis) -> AsyncIterator[Watching]:
    store = await RedisReadStore.open(redis.url, namespace="viewcache")
    watching = Watching(store)
    await eventually(lambda: watching.recorder.live, "tracking")
    yield watching
    await watching.stop()
    await store.close()


async def test_a_restart_empties_the_cache_and_it_heals(
    redis: PrivateRedis, watching: Watching
) -> None:
    store, views = watching.store, watching.views
    await put(store, "product:A", b"v1")
    await eventually(reads(views, "product:A", b"v1"), "v1 served")

    async def kept() -> bool:
        return await views.get("product:A") == b"v1" and len(views.cache) == 1

    await eventually(kept, "v1 kept")

    redis.stop()
    await eventually(lambda: not views.cache.live, "the loss noticed")
    assert len(views.cache) == 0
    redis.start()  # empty: what it held is gone
    await put(store, "product:A", b"v2")  # perhaps before tracking is back
    assert await views.get("product:A") == b"v2"

    await eventually(lambda: views.cache.live, "tracking again", within=30)
    hits = views.cache.hits
    await put(store, "product:A", b"v3")
    await eventually(reads(views, "product:A", b"v3"), "v3 served")
    assert [await views.get("product:A") for _ in range(3)] == [b"v3"] * 3
    assert views.cache.hits > hits, "the cache never served again"


async def test_an_emptied_database_empties_the_cache(watching: Watching) -> None:
    """FLUSHDB is told without keys: every cached view goes."""
    store = watching.store
    assert isinstance(store, RedisReadStore)
    await put(store, "product:A", b"v1")
    await eventually(reads(watching.views, "product:A", b"v1"), "v1 served")
    await store._client.flushdb()
    await eventually(lambda: watching.recorder.flushed > 0, "the flush told")
    assert await watching.views.get("product:A") is None
