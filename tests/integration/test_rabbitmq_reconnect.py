"""RabbitMqBus over a connection that drops: the robust connection comes back,
consuming resumes, and nothing is lost or reordered (repeats are allowed)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime

import pytest
from yarl import URL

from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from services import AMQP_URL, require

pytestmark = pytest.mark.integration


class CuttableProxy:
    """A TCP proxy to the broker whose connections a test cuts, as a network
    failure would."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self.accepted = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port: int = self._server.sockets[0].getsockname()[1]

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.accepted += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(
            *self._upstream
        )
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self._server.close()
        self.cut()
        await self._server.wait_closed()
        await asyncio.gather(*self._pumps, return_exceptions=True)


def event(position: int, partition: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id=f"cart-{partition}",
        version=position,
        position=position,
        type="ItemAdded",
        data={},
        recorded_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


@pytest.fixture
async def proxy() -> AsyncIterator[CuttableProxy]:
    url = URL(require(AMQP_URL))
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5672)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def publish_until_confirmed(
    bus: RabbitMqBus, partition: int, events: Sequence[RecordedEvent]
) -> None:
    """What the relay does: retry a publish that was not confirmed."""
    async with asyncio.timeout(20):
        while True:
            try:
                return await bus.publish(partition, events)
            except StoreUnavailable:
                await asyncio.sleep(0.1)


async def test_consuming_and_publishing_resume_after_the_connection_drops(
    proxy: CuttableProxy,
) -> None:
    prefix = f"it-{uuid.uuid4().hex[:12]}"
    through = URL(AMQP_URL).with_port(proxy.port).with_query(reconnect_interval=0.2)
    bus = await RabbitMqBus.open(str(through), partitions=2, prefix=prefix)
    received: dict[int, list[int]] = {0: [], 1: []}
    delivered = asyncio.Event()

    async def record(partition: int, events: Sequence[RecordedEvent]) -> None:
        received[partition].extend(e.position for e in events)
        delivered.set()

    async def until_received(count: int) -> None:
        async with asyncio.timeout(20):
            while sum(len(set(r)) for r in received.values()) < count:
                delivered.clear()
                await delivered.wait()

    consumer = asyncio.create_task(bus.consume(record))
    try:
        for n in range(20):
            await bus.publish(n % 2, [event(n, n % 2)])
        await until_received(20)
        connections = proxy.accepted

        proxy.cut()
        for n in range(20, 60):
            await publish_until_confirmed(bus, n % 2, [event(n, n % 2)])
        await until_received(60)
    finally:
        consumer.cancel()
        with suppress(asyncio.CancelledError):
            await consumer
        await bus.close()
        await drop_topology(AMQP_URL, prefix=prefix, partitions=2)

    assert proxy.accepted > connections
    for partition, positions in received.items():
        first_seen = list(dict.fromkeys(positions))
        assert first_seen == list(range(partition, 60, 2))
