"""The last sync stage, applied → visible: a projector's commit to Redis is
timed until the query service hears of it, by the server's clock, and shows
on the query service's /metrics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
import redis.asyncio as redis

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.core.ports import VersionMove, ViewChanges
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime import bootstrap
from cqrskit.runtime.bootstrap import QuerySide
from cqrskit.runtime.lag import SyncStageMetrics
from cqrskit.shop.app import app as SHOP
from credentials import SERVER_KEY, verifier
from services import REDIS_URL, require

pytestmark = pytest.mark.integration
VISIBLE = 'cqrskit_sync_stage_seconds_count{stage="applied_to_visible"}'


@pytest.fixture
async def store() -> AsyncIterator[RedisReadStore]:
    namespace = f"test-{uuid.uuid4().hex[:12]}-visible"
    opened = await RedisReadStore.open(require(REDIS_URL), namespace=namespace)
    yield opened
    await opened.purge()
    await opened.close()


def _visible_count(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(VISIBLE):
            return float(line.split()[-1])
    return 0.0


async def test_a_projector_commit_shows_as_applied_to_visible_on_the_query_metrics(
    store: RedisReadStore,
) -> None:
    stages = SyncStageMetrics()
    sides: list[QuerySide[object]] = []

    @asynccontextmanager
    async def provide() -> AsyncIterator[QuerySide[object]]:
        async with AsyncExitStack() as stack:
            side = bootstrap.query_side(SHOP, store)
            await bootstrap.watch_changes(side, stack, stages)
            sides.append(side)
            yield side

    app = create_query_app(SHOP, provide, verifier(), SERVER_KEY, collectors=[stages])
    writer = await RedisReadStore.open(require(REDIS_URL), namespace=store.namespace)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://query") as client,
    ):
        for _ in range(500):  # opened, and told of changes
            if sides and sides[0].views is not None and sides[0].views.cache.live:
                break
            await asyncio.sleep(0.01)
        assert _visible_count((await client.get("/metrics")).text) == 0
        changes = ViewChanges({"product:MUG-1": b"{}"}, {}, set())
        await writer.commit("catalog", changes, {"product-MUG-1": VersionMove(0, 1)})
        count = 0.0
        for _ in range(500):
            count = _visible_count((await client.get("/metrics")).text)
            if count:
                break
            await asyncio.sleep(0.01)
    await writer.close()

    assert count == 1


async def test_a_commit_records_its_time_beside_the_checkpoints(
    store: RedisReadStore,
) -> None:
    changes = ViewChanges({"product:MUG-1": b"{}"}, {}, set())
    await store.commit("catalog", changes, {"product-MUG-1": VersionMove(0, 1)})

    ages = await store.applied_ages(["catalog", "orders"])

    assert list(ages) == ["catalog"]  # orders never committed
    assert 0 <= ages["catalog"] < 5
    assert await store.checkpoints("catalog") == {"product-MUG-1": 1}


async def test_checkpoints_without_a_commit_time_read_as_before(
    store: RedisReadStore,
) -> None:
    client = redis.Redis.from_url(require(REDIS_URL))
    await client.hset(f"{store.namespace}:c:catalog", "product-MUG-1", "4")
    await client.aclose()

    assert await store.applied_ages(["catalog"]) == {}
    assert await store.stream_versions("catalog", ["product-MUG-1"]) == {
        "product-MUG-1": 4
    }
    assert await store.checkpoints("catalog") == {"product-MUG-1": 4}
