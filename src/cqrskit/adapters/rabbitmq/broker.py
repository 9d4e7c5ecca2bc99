"""RabbitMqBus: the Broker port on RabbitMQ.

A durable direct exchange `{prefix}.events` routes each batch by its partition
(`p{n}`) to a durable queue `{prefix}.events.p{n}` with single-active-consumer:
several projector processes may consume, one is active per queue and a standby
takes over, with the unacked batches in order, when it dies. A consumer hands a
partition it does not own on to the next one in line (`_consumer`,
`cqrskit.core.sharing`). One batch is one persistent message, published on a
channel with publisher confirms.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustConnection
from aiormq.exceptions import ProbableAuthenticationError
from yarl import URL

from cqrskit.adapters.rabbitmq import _topology
from cqrskit.adapters.rabbitmq._consumer import (
    AMQP_ERRORS,
    EVERYTHING,
    Backoff,
    PartitionConsumer,
)
from cqrskit.adapters.rabbitmq._topology import QueueType, Topology
from cqrskit.core.errors import Misconfigured, StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import BatchHandler, Ownership
from cqrskit.core.wire import encode_batch


class RabbitMqBus:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        exchange: AbstractExchange,
        topology: Topology,
        queue_types: tuple[QueueType, ...],
        *,
        prefetch: int,
        backoff: Backoff,
        publish_timeout: float,
    ) -> None:
        self._connection = connection
        self._exchange = exchange
        self._topology = topology
        self._prefetch = prefetch
        self._backoff = backoff
        self._publish_timeout = publish_timeout
        self._consumers: set[asyncio.Task[None]] = set()
        self._subscribed: set[int] = set()
        self._all_subscribed = asyncio.Event()
        self._closed = False
        self.queue_types = queue_types
        """The type of each partition queue ("quorum" or "classic")."""

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        partitions: int = 8,
        prefix: str = "cqrskit",
        prefetch: int = 64,
        queue_type: QueueType = "quorum",
        retry_delay: float = 0.1,
        max_retry_delay: float = 5.0,
        connect_timeout: float = 10.0,
        publish_timeout: float = 30.0,
    ) -> RabbitMqBus:
        """Connect, declare the exchange and queues, and open the publisher.

        `queue_type="quorum"` falls back to a classic queue where the server
        refuses a quorum one. A handler that fails is retried after
        `retry_delay`, doubling up to `max_retry_delay`.
        """
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        topology = Topology(prefix, partitions)
        try:
            queue_types = await _topology.declare(
                url, topology, queue_type, connect_timeout=connect_timeout
            )
            connection = await aio_pika.connect_robust(url, timeout=connect_timeout)
        except ProbableAuthenticationError as error:
            raise Misconfigured(f"RabbitMQ refused the credentials: {error}") from error
        except AMQP_ERRORS as error:
            raise _unavailable(url, error) from error
        try:
            channel = await connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            exchange = await channel.declare_exchange(
                topology.exchange, aio_pika.ExchangeType.DIRECT, durable=True
            )
        except AMQP_ERRORS as error:
            await connection.close()
            raise _unavailable(url, error) from error
        return cls(
            connection,
            exchange,
            topology,
            queue_types,
            prefetch=prefetch,
            backoff=Backoff(retry_delay, max_retry_delay),
            publish_timeout=publish_timeout,
        )

    @property
    def partitions(self) -> int:
        return self._topology.partitions

    async def publish(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        """Return once the broker has confirmed the batch (an empty one is not
        sent). Raise StoreUnavailable if it did not; the batch may still have
        arrived, so a retry can duplicate it (projections ignore duplicates)."""
        if not 0 <= partition < self.partitions:
            raise ValueError(f"partition {partition} not in 0..{self.partitions - 1}")
        if not events:
            return
        first, last = events[0].position, events[-1].position
        message = aio_pika.Message(
            encode_batch(events),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=f"{self._topology.prefix}:p{partition}:{first}-{last}",
            headers={
                "first_position": first,
                "last_position": last,
                "count": len(events),
                # whole microseconds: the client sends a float header as a
                # 32-bit float, minutes off at today's epoch seconds
                "published_us": time.time_ns() // 1000,
            },
        )
        try:
            await self._exchange.publish(
                message,
                routing_key=self._topology.routing_key(partition),
                mandatory=True,
                timeout=self._publish_timeout,
            )
        except AMQP_ERRORS as error:
            raise StoreUnavailable(
                f"batch {message.message_id} not confirmed: {error!r}"
            ) from error

    async def consume(
        self, handler: BatchHandler, *, ownership: Ownership | None = None
    ) -> None:
        """Deliver every partition's batches to `handler` until cancelled or
        until the bus is closed.

        This process subscribes to every partition queue; the first consumer on
        a queue is its active one, the others stand by. With `ownership`, a
        consumer active on a partition it does not own hands it on to the next
        consumer in line.
        """
        if self._closed:
            raise RuntimeError("the bus is closed")
        async with asyncio.TaskGroup() as group:
            for partition in range(self.partitions):
                consumer = PartitionConsumer(
                    self._connection,
                    self._topology.queue(partition),
                    partition,
                    handler,
                    prefetch=self._prefetch,
                    backoff=self._backoff,
                    on_subscribed=self._track_subscription,
                    ownership=ownership or EVERYTHING,
                )
                task = group.create_task(consumer.run())
                self._consumers.add(task)
                task.add_done_callback(self._consumers.discard)

    async def subscribed(self) -> None:
        """Wait until `consume` has a consumer on every partition queue, active
        or standing by (a readiness probe; the first to subscribe is active)."""
        await self._all_subscribed.wait()

    def _track_subscription(self, partition: int, subscribed: bool) -> None:
        if subscribed:
            self._subscribed.add(partition)
        else:
            self._subscribed.discard(partition)
        if len(self._subscribed) == self.partitions:
            self._all_subscribed.set()
        else:
            self._all_subscribed.clear()

    async def close(self) -> None:
        """Stop the consumers (their unacked batches go back to the queues)
        and close the connection."""
        if self._closed:
            return
        self._closed = True
        consumers = list(self._consumers)
        for task in consumers:
            task.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)
        await self._connection.close()


async def drop_topology(
    url: str, *, prefix: str = "cqrskit", partitions: int = 8
) -> None:
    """Delete the exchange and partition queues of `prefix`, messages included."""
    try:
        await _topology.drop(url, Topology(prefix, partitions))
    except AMQP_ERRORS as error:
        raise _unavailable(url, error) from error


def _unavailable(url: str, error: BaseException) -> StoreUnavailable:
    parsed = URL(url)
    where = str(parsed.with_password("***")) if parsed.password else url
    return StoreUnavailable(f"RabbitMQ at {where}: {error!r}")
