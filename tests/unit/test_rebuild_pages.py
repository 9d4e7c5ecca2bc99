"""A rebuild applies a partition's share of the next page while other
partitions still apply the page before; when a share fails, the rebuild
raises that error and nothing goes on writing behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson
import pytest

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import VersionMove, ViewChanges
from cqrskit.core.rebuild import rebuild
from cqrskit.shop.domain.cart import CartCreated, ItemAdded
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.views import CartView

PARTITIONS = 4


class Log:
    def __init__(self, carts: int) -> None:
        codec, at = shop_codec(), datetime(2026, 1, 1, tzinfo=UTC)
        self.events: list[RecordedEvent] = []
        for n in range(carts):
            cart = f"c{n}"
            for version, event in enumerate(
                [CartCreated(cart, "someone"), ItemAdded(cart, "SKU-1", 1, "One", 5)],
                start=1,
            ):
                new = codec.encode(event)
                position = len(self.events) + 1
                self.events.append(
                    RecordedEvent(
                        f"cart-{cart}", version, position, new.type, new.data, at
                    )
                )

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        return [e for e in self.events if e.position > after][:limit]

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        return [
            e
            for e in self.events
            if e.stream_id == stream_id and e.version >= from_version
        ]


class Slow(InMemoryReadStore):
    """A scratch store whose commits take a few turns of the loop, but the
    `fail_at`th, which fails at once as if Redis went away; it counts what
    lands after it was closed (on Redis: keys left behind in a namespace
    already dropped)."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.commits = 0
        self.closed = False
        self.late = 0
        self.scratches: list[Slow] = []

    async def scratch(self) -> InMemoryReadStore:
        self.scratches.append(Slow(self.fail_at))
        return self.scratches[-1]

    async def commit(
        self, projection: str, changes: ViewChanges, versions: Mapping[str, VersionMove]
    ) -> None:
        self.commits += 1
        if self.commits == self.fail_at:
            raise StoreUnavailable("redis went away")
        for _ in range(self.commits % 7 * 10):
            await asyncio.sleep(0)
        await super().commit(projection, changes, versions)
        self.late += self.closed

    async def close(self) -> None:
        self.closed = True
        await super().close()


async def test_every_cart_is_rebuilt_across_pages_and_partitions() -> None:
    log, target = Log(60), Slow()
    projections = [CartView(shop_codec())]
    done = await rebuild(log, target, projections, page=7, partitions=PARTITIONS)  # type: ignore[arg-type]
    assert done == len(log.events)
    for n in range(60):
        doc = orjson.loads(await target.get(f"cart:c{n}") or b"null")
        assert doc["items"] == [
            {
                "sku": "SKU-1",
                "name": "One",
                "quantity": 1,
                "unit_price_cents": 5,
                "line_total_cents": 5,
            }
        ]
        assert doc["total_cents"] == 5


async def test_a_failing_share_stops_the_rebuild_and_every_other_share() -> None:
    log, target = Log(60), Slow(fail_at=6)
    with pytest.raises(StoreUnavailable, match="redis went away"):
        projections = [CartView(shop_codec())]
        await rebuild(log, target, projections, page=7, partitions=PARTITIONS)  # type: ignore[arg-type]
    scratch = target.scratches[0]
    for _ in range(100):
        await asyncio.sleep(0)
    assert scratch.closed
    assert scratch.late == 0, "a share went on writing after the failure"
    assert await target.get("cart:c0") is None, "nothing was swapped in"
