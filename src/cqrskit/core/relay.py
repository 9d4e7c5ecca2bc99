"""The relay: publishes the committed log (the outbox) to the broker.

It stores its position only after the broker has confirmed every batch up to
it, so a crash re-publishes (duplicates, which projections ignore) and never
loses an event. A relay that leads by a lease is given the lease's `valid` as
its fence: it checks it before every publish, and stops (LeaseLost) the
moment it fails; `core.leadership` then steps it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable

from cqrskit.core.backoff import Backoff
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import Broker, EventStore, LeaseLost, PositionStore
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
        batch_size: int = 5000,
        poll_interval: float = 0.01,
        fence: Callable[[], bool] = lambda: True,
    ) -> None:
        self._store = store
        self._positions = positions
        self._broker = broker
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._fence = fence
        self._wakeup = asyncio.Event()
        self.published = 0
        self.position = 0
        """Of the last event published (0 until this relay publishes one)."""
        self.failing = False
        """Whether the last attempt to publish failed (store or broker)."""

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
        if not self._fence():
            raise LeaseLost(f"{self._name} may no longer publish")
        await asyncio.gather(
            *(self._broker.publish(p, batch) for p, batch in batches.items())
        )
        await self._positions.save_position(self._name, events[-1].position)
        self.published += len(events)
        self.position = events[-1].position
        return len(events)

    async def run(self) -> None:
        """Publish until cancelled; a failing broker or store is retried with
        backoff. Only a lost lease ends it (LeaseLost)."""
        backoff = Backoff()
        while True:
            self._wakeup.clear()
            try:
                moved = await self.pump()
                backoff.reset()
                self.failing = False
            except LeaseLost:
                raise
            except Exception:
                self.failing = True
                delay = backoff.next_delay()
                log.exception("relay failed; retrying in %.2fs", delay)
                await asyncio.sleep(delay)
                continue
            if moved < self._batch_size:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can
                # swallow a cancellation that arrives as the wake-up does, and
                # the relay then never stops.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wakeup.wait()
