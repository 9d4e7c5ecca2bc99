"""An in-process broker: one queue per partition, redelivery on failure.

Messages travel in their wire form, as they would through RabbitMQ.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import BatchHandler, Ownership
from cqrskit.core.wire import decode_batch, encode_batch

log = logging.getLogger(__name__)


class InMemoryBroker:
    def __init__(self, partitions: int = 8, *, redelivery_delay: float = 0.1) -> None:
        self._queues: list[asyncio.Queue[tuple[bytes, float]]] = [
            asyncio.Queue() for _ in range(partitions)
        ]
        self._redelivery_delay = redelivery_delay
        self._subscribed = asyncio.Event()

    @property
    def partitions(self) -> int:
        return len(self._queues)

    async def publish(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        self._queues[partition].put_nowait((encode_batch(events), time.time()))

    async def consume(
        self, handler: BatchHandler, *, ownership: Ownership | None = None
    ) -> None:
        """This process's queues have one consumer, so it is active for every
        partition, owned or not: there is nobody to hand one on to."""
        async with asyncio.TaskGroup() as group:
            for partition in range(self.partitions):
                if ownership is not None:
                    ownership.activity(partition, True)
                group.create_task(self._consume_partition(partition, handler))
            self._subscribed.set()

    async def subscribed(self) -> None:
        await self._subscribed.wait()

    async def _consume_partition(self, partition: int, handler: BatchHandler) -> None:
        queue = self._queues[partition]
        while True:
            body, published_at = await queue.get()
            while True:
                try:
                    await handler(partition, decode_batch(body, published_at))
                    break
                except Exception:
                    log.exception(
                        "partition %d: handler failed; redelivering", partition
                    )
                    await asyncio.sleep(self._redelivery_delay)
            queue.task_done()

    async def close(self) -> None:
        return None
