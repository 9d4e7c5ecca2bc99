"""The relay: publishes the committed log (the outbox) to the broker.

It stores its position only after the broker has confirmed every batch up to
it, so a crash re-publishes (duplicates, which projections ignore) and never
loses an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import Broker, EventStore, PositionStore
from cqrskit.core.wire import partition_for

log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self,
        store: EventStore,
        positions: PositionStore,
        broker: Broker,
        *,
        name: str = "relay",
        batch_size: int = 1000,
        poll_interval: float = 0.01,
    ) -> None:
        self._store = store
        self._positions = positions
        self._broker = broker
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wakeup = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        """Called after a local append, so the relay need not wait for its poll."""
        self._wakeup.set()

    async def pump(self) -> int:
        """Publish one page of the log; return how many events went out."""
        position = await self._positions.load_position(self._name)
        events = await self._store.read_all(position, self._batch_size)
        if not events:
            return 0
        batches: dict[int, list[RecordedEvent]] = defaultdict(list)
        for event in events:
            batches[partition_for(event.stream_id, self._broker.partitions)].append(
                event
            )
        await asyncio.gather(
            *(self._broker.publish(p, batch) for p, batch in batches.items())
        )
        await self._positions.save_position(self._name, events[-1].position)
        self.published += len(events)
        return len(events)

    async def run(self) -> None:
        """Publish until cancelled; a failing broker or store is retried."""
        backoff = self._poll_interval
        while True:
            self._wakeup.clear()
            try:
                moved = await self.pump()
                backoff = self._poll_interval
            except Exception:
                log.exception("relay failed; retrying in %.2fs", backoff)
                moved = 0
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            if moved < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)
