"""The Redis adapters under the kit's contract suites (cqrskit.testing), and
what their rebuild adds: a scratch store is a namespace that closing purges.
Each test's keys live under a namespace of their own, deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.redis.membership import RedisMembership
from cqrskit.core.ports import Membership, ReadStore, VersionMove, ViewChanges
from cqrskit.testing import (
    InspectableContract,
    MembershipContract,
    Opener,
    ReadStoreContract,
    RebuildContract,
    TextSearchContract,
    WatchableContract,
)
from services import REDIS_URL, require

pytestmark = pytest.mark.integration


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    url = require(REDIS_URL)
    name = f"contract-{uuid.uuid4().hex[:12]}"
    yield name
    cleaner = await RedisReadStore.open(url, namespace=name)
    await cleaner.purge()
    await cleaner.close()


@pytest.fixture
def read_store_opener(namespace: str) -> Opener[ReadStore]:
    async def opener() -> ReadStore:
        return await RedisReadStore.open(REDIS_URL, namespace=namespace)

    return opener


class TestRedisReadStore(ReadStoreContract):
    pass


class TestRedisSearch(TextSearchContract):
    pass


class TestRedisRebuild(RebuildContract):
    pass


class TestRedisInspection(InspectableContract):
    pass


class TestRedisMembership(MembershipContract):
    @pytest.fixture
    def membership_opener(self, namespace: str) -> Opener[Membership]:
        async def opener() -> Membership:
            return await RedisMembership.open(REDIS_URL, namespace=namespace)

        return opener


def one(key: str, value: bytes) -> ViewChanges:
    return ViewChanges({key: value}, {}, set())


async def test_a_redis_scratch_is_a_namespace_that_closing_purges(
    namespace: str,
) -> None:
    live = await RedisReadStore.open(REDIS_URL, namespace=namespace)
    try:
        scratch = await live.scratch()
        assert scratch.namespace.startswith(f"{namespace}.rebuild-")
        await scratch.commit("carts", one("cart:1", b"x"), {"c-1": VersionMove(0, 1)})
        await scratch.commit("orders", one("order:1", b"y"), {"o-1": VersionMove(0, 1)})
        await live.adopt(scratch, "carts", ("cart:",), VersionMove(0, 7))
        await scratch.close()  # a rebuild that stopped halfway: orders not adopted

        assert await scratch.purge() == 0, "closing the scratch purged it"
        assert await live.get_many(["cart:1", "order:1"]) == [b"x", None]
    finally:
        await live.close()


class TestRedisWatch(WatchableContract):
    pass
