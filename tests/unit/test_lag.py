"""The arithmetic of lag (core/progress.py), and the applied position a
projection runner records per partition with its checkpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from cqrskit.core.progress import Lag, age, applied_mark, lags, relay_lag
from cqrskit.core.projection import ProjectionRunner, View
from cqrskit.core.relay import Relay
from cqrskit.core.wire import partition_for
from cqrskit.runtime.lag import LagMetrics

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def event(stream_id: str, version: int, position: int, age_s: float) -> RecordedEvent:
    return RecordedEvent(
        stream_id=stream_id,
        version=version,
        position=position,
        type="Happened",
        data={},
        recorded_at=NOW - timedelta(seconds=age_s),
    )


def stream_in(partition: int, partitions: int, category: str = "cart") -> str:
    return next(
        f"{category}-{i}"
        for i in range(1000)
        if partition_for(f"{category}-{i}", partitions) == partition
    )


def test_the_relay_lag_is_what_the_head_is_past_its_position() -> None:
    assert relay_lag(head=120, position=100) == 20
    assert relay_lag(head=100, position=100) == 0
    assert relay_lag(head=99, position=100) == 0  # a late commit, for a moment


def test_an_age_is_zero_for_nothing_or_a_clock_behind() -> None:
    assert age(NOW - timedelta(seconds=7), NOW) == 7.0
    assert age(None, NOW) == 0.0
    assert age(NOW + timedelta(seconds=3), NOW) == 0.0


def test_lag_counts_the_pending_events_of_each_partition_and_the_oldest_age() -> None:
    a, b = stream_in(0, 2), stream_in(1, 2)
    log = [
        event(a, 1, 1, 50),
        event(b, 1, 2, 40),
        event(a, 2, 3, 30),
        event(b, 2, 4, 20),
        event(a, 3, 5, 10),
    ]
    applied = {0: 1, 1: 4}

    found = lags(applied, 2, frozenset({"cart"}), log, NOW)

    assert found == {0: Lag(1, 2, 30.0), 1: Lag(4, 0, 0.0)}


def test_events_of_other_categories_are_no_lag() -> None:
    cart, order = stream_in(0, 1), stream_in(0, 1, "order")
    log = [event(cart, 1, 1, 9), event(order, 1, 2, 8)]

    assert lags({0: 1}, 1, frozenset({"cart"}), log, NOW) == {0: Lag(1, 0, 0.0)}
    assert lags({0: 1}, 1, frozenset({"order"}), log, NOW) == {0: Lag(1, 1, 8.0)}


def test_a_partition_without_a_checkpoint_counts_from_the_lowest_applied() -> None:
    a, b = stream_in(0, 2), stream_in(1, 2)
    log = [event(b, 1, 3, 9), event(a, 1, 4, 5)]

    found = lags({0: 2}, 2, frozenset({"cart"}), log, NOW, capped=True)

    assert found[1] == Lag(0, 1, 9.0, capped=True)
    assert found[0] == Lag(2, 1, 5.0, capped=True)


class Counting:
    name = "carts"
    categories = frozenset({"cart"})
    prefixes = ("c:",)

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        return []

    async def apply(self, event: RecordedEvent, view: View) -> None:
        view.put(f"c:{event.stream_id}", str(event.version).encode())


async def test_the_runner_records_the_partitions_applied_position_with_its_commit() -> (
    None
):
    store = InMemoryReadStore()
    runner = ProjectionRunner([Counting()], store)
    first = [event("cart-1", 1, 1, 3), event("cart-1", 2, 2, 2)]

    await runner.handle(3, first)
    await runner.handle(3, first[:1])  # a redelivery moves nothing back

    marks = await store.stream_versions("carts", [applied_mark(3), applied_mark(0)])
    assert marks == {applied_mark(3): 2, applied_mark(0): 0}
    assert runner.progress["carts", 3].position == 2
    await runner.handle(3, [event("cart-1", 3, 7, 1)])
    assert (await store.stream_versions("carts", [applied_mark(3)]))[
        applied_mark(3)
    ] == 7
    assert runner.progress["carts", 3].position == 7


async def test_the_lag_metrics_read_the_relay_and_each_projection_from_the_stores() -> (
    None
):
    events, views = InMemoryEventStore(), InMemoryReadStore()
    for n in range(1, 4):
        await events.append(
            [StreamAppend("cart-1", n - 1, [NewEvent("Happened", {})])],
            metadata=Metadata(),
        )
    relay = Relay(events, events, InMemoryBroker(1))
    runner = ProjectionRunner([Counting()], views)
    await runner.handle(0, await events.read_all(0, 1))
    lags = LagMetrics(
        lambda: events,
        relay=lambda: relay,
        views=lambda: views,
        projections=[Counting()],
        partitions=1,
    )
    registry = CollectorRegistry()
    registry.register(lags)

    await lags.refresh()
    text = generate_latest(registry).decode()

    assert "cqrskit_event_store_head_position 3.0" in text
    assert "cqrskit_relay_lag_events 3.0" in text
    assert 'cqrskit_projector_lag_events{partition="0",projection="carts"} 2.0' in text
    assert 'applied_position{partition="0",projection="carts"} 1.0' in text
    await relay.pump()
    await lags.refresh()
    assert "cqrskit_relay_lag_events 0.0" in generate_latest(registry).decode()


class CountedHeads(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.heads = 0

    async def head(self) -> int:
        self.heads += 1
        return await super().head()


async def turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_lag_metrics_stop_reading_the_stores_while_nobody_scrapes_them() -> None:
    events, now = CountedHeads(), [0.0]
    await events.append(
        [StreamAppend("cart-1", 0, [NewEvent("Happened", {})])], metadata=Metadata()
    )
    lags = LagMetrics(lambda: events, every=0, idle=60, clock=lambda: now[0])
    registry = CollectorRegistry()
    registry.register(lags)
    watching = asyncio.create_task(lags.watch())
    try:
        await turns()
        assert events.heads > 0  # refreshing from the start
        now[0] = 100.0  # a minute and more without a scrape
        await turns()
        idle_since = events.heads
        await turns()
        assert events.heads == idle_since

        woken = generate_latest(registry).decode()
        await turns()
        fresh = generate_latest(registry).decode()
    finally:
        watching.cancel()

    assert "cqrskit_event_store_head_position" not in woken  # too old to show
    assert events.heads > idle_since
    assert "cqrskit_event_store_head_position 1.0" in fresh
