"""The Broker contract: every broker adapter runs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import pytest_asyncio

from cqrskit.core.messages import Metadata, RecordedEvent
from cqrskit.core.ports import BatchHandler, Broker
from cqrskit.testing._handles import Handles, Opener

Delivery = tuple[int, list[RecordedEvent]]


def event(position: int, stream_id: str = "cart-1") -> RecordedEvent:
    return RecordedEvent(
        stream_id=stream_id,
        version=position,
        position=position,
        type="ItemAdded",
        data={"position": position},
        recorded_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )


async def consume_until(
    broker: Broker, handler: BatchHandler, done: Callable[[], bool]
) -> None:
    """Run the broker's consumer until `done()` holds after a delivery."""
    finished = asyncio.Event()

    async def watched(partition: int, events: Sequence[RecordedEvent]) -> None:
        try:
            await handler(partition, events)
        finally:
            if done():
                finished.set()

    consumer = asyncio.create_task(broker.consume(watched))
    try:
        async with asyncio.timeout(5):
            await finished.wait()
    finally:
        consumer.cancel()
        with suppress(asyncio.CancelledError):
            await consumer


def recorder(deliveries: list[Delivery]) -> BatchHandler:
    async def handle(partition: int, events: Sequence[RecordedEvent]) -> None:
        deliveries.append((partition, list(events)))

    return handle


class BrokerContract:
    """What every Broker promises.

    A subclass defines the fixture `broker_opener`: an `Opener` of the broker
    under test on fresh, empty queues (closed after the test)."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def broker(self, broker_opener: Opener[Broker]) -> AsyncIterator[Broker]:
        handles = Handles(broker_opener, shares_storage=True)
        try:
            yield await handles.open()
        finally:
            await handles.close_all()

    async def test_batches_arrive_in_publish_order_per_partition(
        self, broker: Broker
    ) -> None:
        published: dict[int, list[list[int]]] = {
            p: [] for p in range(broker.partitions)
        }
        for n in range(24):
            partition = (n * 7) % broker.partitions
            batch = [event(n * 10 + i, f"cart-{partition}") for i in range(n % 3 + 1)]
            await broker.publish(partition, batch)
            published[partition].append([e.position for e in batch])
        deliveries: list[Delivery] = []

        await consume_until(broker, recorder(deliveries), lambda: len(deliveries) == 24)

        received: dict[int, list[list[int]]] = {p: [] for p in range(broker.partitions)}
        for partition, events in deliveries:
            received[partition].append([e.position for e in events])
        assert received == published
        assert broker.partitions > 1

    async def test_a_batch_comes_again_when_the_handler_raises(
        self, broker: Broker
    ) -> None:
        await broker.publish(0, [event(1), event(2)])
        await broker.publish(0, [event(3)])
        attempts: list[list[int]] = []

        async def flaky(partition: int, events: Sequence[RecordedEvent]) -> None:
            positions = [e.position for e in events]
            attempts.append(positions)
            if len(attempts) <= 2:
                raise RuntimeError("projector down")

        await consume_until(broker, flaky, lambda: len(attempts) >= 4)

        assert attempts[:4] == [[1, 2], [1, 2], [1, 2], [3]]

    async def test_events_cross_the_wire_unchanged(self, broker: Broker) -> None:
        full = replace(
            event(7, "order-Ä1"),
            data={"lines": [{"sku": "x", "q": 2}], "note": "½ price", "none": None},
            schema_version=2,
            metadata=Metadata(command_id="c", correlation_id="r", causation_id="e"),
        )
        plus_two = timezone(timedelta(hours=2))
        bare = replace(
            event(8), recorded_at=datetime(2024, 5, 1, 14, 0, 1, 5, plus_two)
        )
        await broker.publish(1, [full, bare])
        deliveries: list[Delivery] = []

        await consume_until(broker, recorder(deliveries), lambda: bool(deliveries))

        assert deliveries == [(1, [full, bare])]
        (received_full, received_bare) = deliveries[0][1]
        assert received_full.metadata == full.metadata
        assert received_full.recorded_at == full.recorded_at
        assert received_full.recorded_at.utcoffset() == timedelta(0)
        assert received_bare.recorded_at == bare.recorded_at
        assert received_bare.metadata == Metadata()

    async def test_subscribed_waits_for_a_consumer_on_every_partition(
        self, broker: Broker
    ) -> None:
        """What a projector's readiness probe waits for."""
        waiting = asyncio.create_task(broker.subscribed())
        await asyncio.sleep(0.2)
        assert not waiting.done(), "subscribed before anything consumed"

        consumer = asyncio.create_task(broker.consume(recorder([])))
        try:
            await asyncio.wait_for(waiting, 5)
        finally:
            consumer.cancel()
            with suppress(asyncio.CancelledError):
                await consumer
