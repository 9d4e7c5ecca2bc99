"""The exchange and the partition queues: their names and their declaration.

Each partition is one durable queue with single-active-consumer, so a
partition has one projector at a time and a standby takes over when it dies.
Quorum queues are preferred (replicated, and they keep the order of messages
returned by a dead consumer); a server that refuses one gets a classic queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection
from pamqp.common import FieldTable

log = logging.getLogger(__name__)

QueueType = Literal["quorum", "classic"]

_SINGLE_ACTIVE_CONSUMER: Mapping[str, bool] = {"x-single-active-consumer": True}


@dataclass(frozen=True, slots=True)
class Topology:
    prefix: str
    partitions: int

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    def queue(self, partition: int) -> str:
        return f"{self.prefix}.events.p{partition}"

    @staticmethod
    def routing_key(partition: int) -> str:
        return f"p{partition}"


def queue_arguments(queue_type: QueueType) -> FieldTable:
    arguments: FieldTable = dict(_SINGLE_ACTIVE_CONSUMER)
    if queue_type == "quorum":
        arguments["x-queue-type"] = "quorum"
    return arguments


async def declare(
    url: str, topology: Topology, preferred: QueueType, *, connect_timeout: float
) -> tuple[QueueType, ...]:
    """Declare the exchange and the bound queues (idempotent); return each
    queue's type.

    A one-off plain connection does it: a refused declaration closes its
    channel, and a robust channel would try to restore itself meanwhile.
    """
    connection = await aio_pika.connect(url, timeout=connect_timeout)
    try:
        channel = await connection.channel(publisher_confirms=False)
        await channel.declare_exchange(
            topology.exchange, aio_pika.ExchangeType.DIRECT, durable=True
        )
        types: list[QueueType] = []
        for partition in range(topology.partitions):
            channel, queue_type = await _declare_queue(
                connection, channel, topology, partition, preferred
            )
            types.append(queue_type)
        return tuple(types)
    finally:
        await connection.close()


async def _declare_queue(
    connection: AbstractConnection,
    channel: AbstractChannel,
    topology: Topology,
    partition: int,
    preferred: QueueType,
) -> tuple[AbstractChannel, QueueType]:
    name = topology.queue(partition)
    queue_type: QueueType = preferred
    try:
        queue = await channel.declare_queue(
            name, durable=True, arguments=queue_arguments(queue_type)
        )
    except aiormq.exceptions.ChannelClosed as refusal:
        if queue_type == "classic":
            raise
        # The server closed the channel: quorum queues are unavailable here, or
        # the queue already exists as a classic one. Keep what the server has.
        log.warning("%s: quorum queue refused (%s); using classic", name, refusal)
        queue_type = "classic"
        channel = await connection.channel(publisher_confirms=False)
        queue = await channel.declare_queue(
            name, durable=True, arguments=queue_arguments(queue_type)
        )
    await queue.bind(topology.exchange, topology.routing_key(partition))
    return channel, queue_type


async def drop(url: str, topology: Topology, *, connect_timeout: float = 10.0) -> None:
    """Delete the exchange and the partition queues, messages included."""
    connection = await aio_pika.connect(url, timeout=connect_timeout)
    try:
        channel = await connection.channel(publisher_confirms=False)
        for partition in range(topology.partitions):
            await channel.queue_delete(topology.queue(partition))
        await channel.exchange_delete(topology.exchange)
    finally:
        await connection.close()
