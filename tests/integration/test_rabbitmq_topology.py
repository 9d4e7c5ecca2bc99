"""RabbitMqBus's exchange and queues: what it declares, keeps and refuses."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import aio_pika
import pytest

from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from services import AMQP_URL, require

pytestmark = pytest.mark.integration


def event(position: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id="cart-1",
        version=position,
        position=position,
        type="ItemAdded",
        data={},
        recorded_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A prefix of the test's own; its exchange and queues are deleted after."""
    url = require(AMQP_URL)
    prefix = f"it-{uuid.uuid4().hex[:12]}"
    yield prefix
    await drop_topology(url, prefix=prefix, partitions=2)


async def declare_classic(prefix: str, partition: int) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(
            f"{prefix}.events.p{partition}",
            durable=True,
            arguments={"x-single-active-consumer": True},
        )


async def delete_queue(prefix: str, partition: int) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{prefix}.events.p{partition}")


async def first_delivery(bus: RabbitMqBus) -> tuple[int, list[int]]:
    arrived: asyncio.Queue[tuple[int, list[int]]] = asyncio.Queue()

    async def handle(partition: int, events: Sequence[RecordedEvent]) -> None:
        arrived.put_nowait((partition, [e.position for e in events]))

    consumer = asyncio.create_task(bus.consume(handle))
    try:
        return await asyncio.wait_for(arrived.get(), 10)
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)


async def test_queues_are_quorum_queues_where_the_server_allows(prefix: str) -> None:
    bus = await RabbitMqBus.open(AMQP_URL, partitions=2, prefix=prefix)
    try:
        assert bus.queue_types == ("quorum", "quorum")
    finally:
        await bus.close()


async def test_an_existing_classic_queue_is_kept_and_used(prefix: str) -> None:
    await declare_classic(prefix, 0)

    bus = await RabbitMqBus.open(AMQP_URL, partitions=2, prefix=prefix)
    try:
        await bus.publish(0, [event(1)])
        delivery = await first_delivery(bus)
    finally:
        await bus.close()

    assert bus.queue_types == ("classic", "quorum")
    assert delivery == (0, [1])


async def test_a_batch_no_queue_takes_is_refused_not_lost(prefix: str) -> None:
    bus = await RabbitMqBus.open(AMQP_URL, partitions=2, prefix=prefix)
    try:
        await delete_queue(prefix, 1)

        with pytest.raises(StoreUnavailable, match=f"{prefix}:p1:7-8"):
            await bus.publish(1, [event(7), event(8)])
        await bus.publish(0, [event(9)])
        delivery = await first_delivery(bus)
    finally:
        await bus.close()

    assert delivery == (0, [9])


async def test_a_partition_out_of_range_is_a_caller_error(prefix: str) -> None:
    bus = await RabbitMqBus.open(AMQP_URL, partitions=2, prefix=prefix)
    try:
        with pytest.raises(ValueError, match="partition 2"):
            await bus.publish(2, [event(1)])
    finally:
        await bus.close()


async def test_opening_an_unreachable_broker_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="RabbitMQ at") as raised:
        await RabbitMqBus.open("amqp://guest:secret@127.0.0.1:1/", connect_timeout=2)

    assert "secret" not in str(raised.value)
