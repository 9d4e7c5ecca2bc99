"""RabbitMqBus on a real RabbitMQ: durability, order, and failover between
consumers (single-active-consumer)."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.adapters.rabbitmq._consumer import _batch_of
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.wire import decode_batch
from services import AMQP_URL, require

pytestmark = pytest.mark.integration

Positions = dict[int, list[list[int]]]


def event(position: int, stream_id: str = "cart-1") -> RecordedEvent:
    return RecordedEvent(
        stream_id=stream_id,
        version=position,
        position=position,
        type="ItemAdded",
        data={"position": position},
        recorded_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


class Buses:
    """Buses on one fresh prefix; closed, and their queues deleted, at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"it-{uuid.uuid4().hex[:12]}"
        self.partitions = 1
        self._opened: list[RabbitMqBus] = []

    async def open(self, partitions: int = 8, **options: Any) -> RabbitMqBus:
        self.partitions = max(self.partitions, partitions)
        bus = await RabbitMqBus.open(
            self.url, partitions=partitions, prefix=self.prefix, **options
        )
        self._opened.append(bus)
        return bus

    async def close_all(self) -> None:
        for bus in reversed(self._opened):
            await bus.close()
        await drop_topology(self.url, prefix=self.prefix, partitions=self.partitions)


@pytest.fixture
async def buses() -> AsyncIterator[Buses]:
    buses = Buses(require(AMQP_URL))
    try:
        yield buses
    finally:
        await buses.close_all()


class Recorder:
    """A handler that records each delivery, optionally taking its time."""

    def __init__(self, delay: float = 0.0) -> None:
        self.deliveries: list[tuple[int, list[int]]] = []
        self._delay = delay
        self._delivered = asyncio.Event()

    async def __call__(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        self.deliveries.append((partition, [e.position for e in events]))
        self._delivered.set()
        if self._delay:
            await asyncio.sleep(self._delay)

    async def until(self, condition: Callable[[], bool], seconds: float = 10) -> None:
        async with asyncio.timeout(seconds):
            while not condition():
                self._delivered.clear()
                await self._delivered.wait()

    def by_partition(self) -> Positions:
        received: Positions = {}
        for partition, positions in self.deliveries:
            received.setdefault(partition, []).append(positions)
        return received


@asynccontextmanager
async def consuming(bus: RabbitMqBus, handler: Recorder) -> AsyncIterator[None]:
    """Consume in the background, once subscribed to every partition queue."""
    task = asyncio.create_task(bus.consume(handler))
    try:
        await asyncio.wait_for(bus.subscribed(), 10)
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def publish_rounds(bus: RabbitMqBus, rounds: range, published: Positions) -> None:
    """Like the relay: per round, one batch per partition, published at once."""
    for n in rounds:
        batches = {
            p: [event(n * 100 + p * 10 + i, f"cart-{p}") for i in range(n % 3 + 1)]
            for p in range(bus.partitions)
        }
        await asyncio.gather(*(bus.publish(p, b) for p, b in batches.items()))
        for p, batch in batches.items():
            published.setdefault(p, []).append([e.position for e in batch])


async def test_batches_survive_the_publishers_connection(buses: Buses) -> None:
    publisher = await buses.open()
    published: Positions = {}
    await publish_rounds(publisher, range(5), published)
    await publisher.close()
    received = Recorder()

    async with consuming(await buses.open(), received):
        await received.until(lambda: len(received.deliveries) == 40)

    assert received.by_partition() == published


async def test_a_batch_is_one_persistent_json_message(buses: Buses) -> None:
    bus = await buses.open(partitions=2)
    batch = [event(5), event(6), event(7)]
    sent_us = time.time_ns() // 1000
    await bus.publish(1, batch)
    arrived: asyncio.Future[aio_pika.abc.AbstractIncomingMessage] = (
        asyncio.get_running_loop().create_future()
    )

    async def take(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        if not arrived.done():
            arrived.set_result(message)

    connection = await aio_pika.connect(buses.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"{buses.prefix}.events.p1")
        await queue.consume(take)
        message = await asyncio.wait_for(arrived, 5)

    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    headers = dict(message.headers)
    published_us = headers.pop("published_us")
    assert headers == {"first_position": 5, "last_position": 7, "count": 3}
    assert isinstance(published_us, int) and published_us >= sent_us
    assert message.message_id
    assert decode_batch(message.body) == batch
    assert _batch_of(message).published_at == published_us / 1e6
    assert bus.queue_types == ("quorum", "quorum")


async def test_1000_batches_keep_their_order_in_each_of_8_partitions(
    buses: Buses,
) -> None:
    bus = await buses.open(partitions=8)
    published: Positions = {}
    received = Recorder()

    async with consuming(bus, received):
        await publish_rounds(bus, range(125), published)
        await received.until(lambda: len(received.deliveries) == 1000, seconds=30)

    assert received.by_partition() == published
    assert sum(len(batches) for batches in published.values()) == 1000


def assert_taken_over(
    published: Positions, first: Positions, second: Positions
) -> None:
    """The first consumer got a prefix of each partition; the second got the
    rest, in order, repeating at most the batch that was in flight."""
    for p, batches in published.items():
        before, after = first.get(p, []), second.get(p, [])
        assert before == batches[: len(before)]
        resumed_at = len(batches) - len(after)
        assert after == batches[resumed_at:]
        assert len(before) - 1 <= resumed_at <= len(before), p


async def test_the_standby_consumer_takes_over_when_the_active_one_closes(
    buses: Buses,
) -> None:
    publisher = await buses.open()
    active, standby = await buses.open(), await buses.open()
    first, second = Recorder(delay=0.01), Recorder()
    published: Positions = {}
    active_run = asyncio.create_task(active.consume(first))
    await asyncio.wait_for(active.subscribed(), 10)

    async with consuming(standby, second):
        await publish_rounds(publisher, range(25), published)
        await first.until(lambda: len(first.deliveries) == 200)
        await asyncio.sleep(0.2)
        assert second.deliveries == []

        await publish_rounds(publisher, range(25, 75), published)
        await first.until(lambda: len(first.deliveries) >= 300)
        await active.close()  # mid-stream: a batch per partition may be in flight
        await active_run
        await publish_rounds(publisher, range(75, 100), published)
        await second.until(
            lambda: len(second.deliveries) >= 800 - len(first.deliveries)
        )
        await asyncio.sleep(0.2)

    assert_taken_over(published, first.by_partition(), second.by_partition())


STUCK_CONSUMER = """
import asyncio, sys
from cqrskit.adapters.rabbitmq import RabbitMqBus

async def main(url, prefix):
    bus = await RabbitMqBus.open(url, prefix=prefix, partitions=2)

    async def stuck(partition, events):
        print(partition, *[e.position for e in events], flush=True)
        await asyncio.Event().wait()

    consumer = asyncio.create_task(bus.consume(stuck))
    await bus.subscribed()
    print("subscribed", flush=True)
    await consumer

asyncio.run(main(*sys.argv[1:]))
"""


async def test_an_unacked_batch_goes_to_the_standby_when_its_consumer_dies(
    buses: Buses,
) -> None:
    publisher = await buses.open(partitions=2)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        STUCK_CONSUMER,
        buses.url,
        buses.prefix,
        stdout=asyncio.subprocess.PIPE,
    )
    received = Recorder()
    assert process.stdout is not None
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 10)
        assert ready == b"subscribed\n"
        async with consuming(await buses.open(partitions=2), received):
            await publisher.publish(0, [event(1), event(2)])
            await publisher.publish(0, [event(3)])
            line = await asyncio.wait_for(process.stdout.readline(), 10)
            assert line.split() == [b"0", b"1", b"2"]
            await asyncio.sleep(0.3)
            assert received.deliveries == []

            process.kill()
            await received.until(lambda: len(received.deliveries) == 2)
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()

    assert received.deliveries == [(0, [1, 2]), (0, [3])]
