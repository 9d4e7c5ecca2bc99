"""A Redis restart costs the read store no failed read: every pooled
connection the restart cut is replaced on its first use, not reported."""

from __future__ import annotations

import asyncio

import pytest
from private_services import PrivateRedis
from topology import free_port_run

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.core.ports import IndexEntry, VersionMove, ViewChanges

pytestmark = pytest.mark.e2e


async def test_reads_and_commits_go_on_after_a_restart() -> None:
    redis = PrivateRedis(free_port_run(1))
    redis.start()
    try:
        store = await RedisReadStore.open(redis.url, namespace="restart")
        try:
            # several pooled connections, all of which the restart will cut
            await asyncio.gather(*(store.get("doc") for _ in range(5)))
            redis.stop()
            redis.start()  # empty: no data, no scripts loaded

            changes = ViewChanges.empty()
            changes.docs["doc"] = b"v1"
            changes.index_puts[("idx", "m")] = IndexEntry("m", "k")
            await store.commit("p", changes, {"s-1": VersionMove(0, 1)})
            for _ in range(5):
                assert await store.get("doc") == b"v1"
                assert await store.get_many(["doc", "none"]) == [b"v1", None]
            page = await store.index_page("idx", after=None, limit=5)
            assert [e.member for e in page] == ["m"]
        finally:
            await store.close()
    finally:
        redis.stop()
