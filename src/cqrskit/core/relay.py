"""The relay: publishes the committed log (the outbox) to the broker.

It stores its position only after the broker has confirmed every batch up to
it, so a crash re-publishes (duplicates, which projections ignore) and never
loses an event. A relay that leads by a lease is given the lease's `valid` as
its fence: it checks it before every publish, and stops (LeaseLost) the
moment it fails; `core.leadership` then steps it down.

It reads the log when the store tells it of a commit (a `CommitFeed`), and
every `poll_interval` whatever it heard: a commit it did not hear of (the feed
lost, or an append from a process the feed cannot hear) waits at most that.
A commit heard may not be readable yet (PostgreSQL's log is cut below the
oldest transaction still open, which `read_all` waits for only so long), so
after each one it reads again `recheck` later, then at twice that, and so on
up to `poll_interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable

from cqrskit.core.backoff import Backoff
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import (
    Broker,
    CommitFeed,
    EventStore,
    LeaseLost,
    PositionStore,
)
from cqrskit.core.stages import (
    COMMITTED_TO_READ,
    READ_TO_CONFIRMED,
    UNMEASURED,
    StageClock,
    seconds_since,
)
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
        recheck: float = 0.01,
        fence: Callable[[], bool] = lambda: True,
        commits: CommitFeed | None = None,
        stages: StageClock = UNMEASURED,
    ) -> None:
        self._store = store
        self._positions = positions
        self._broker = broker
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._recheck = min(recheck, poll_interval)
        self._fence = fence
        self._commits = commits
        self._stages = stages
        self._wakeup = asyncio.Event()
        self._saved: int | None = None
        """The position this relay saved last while it runs (None: load it)."""
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
        position = self._saved
        if position is None:
            position = await self._positions.load_position(self._name)
        events = await self._store.read_all(position, self._batch_size)
        if not events:
            return 0
        read_at = time.perf_counter()
        self._stages.observe(COMMITTED_TO_READ, seconds_since(events[0].recorded_at))
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
        self._stages.observe(READ_TO_CONFIRMED, time.perf_counter() - read_at)
        await self._positions.save_position(self._name, events[-1].position)
        self._saved = events[-1].position
        self.published += len(events)
        self.position = events[-1].position
        return len(events)

    async def run(self) -> None:
        """Publish until cancelled; a failing broker or store is retried with
        backoff. Only a lost lease ends it (LeaseLost).

        The position is loaded once, then kept: while it runs, nobody else
        saves it (a lease fences other relays out), so a read of the log need
        not read it again first."""
        self._saved = None
        hearing = asyncio.create_task(self._hear_commits())
        try:
            await self._publish_forever()
        finally:
            hearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hearing

    async def _hear_commits(self) -> None:
        """Wake the relay at each commit the feed tells of; a lost feed is
        listened to again, with backoff, while the relay polls."""
        if self._commits is None:
            return
        backoff = Backoff()
        while True:
            try:
                async for _ in self._commits.commits():
                    backoff.reset()
                    self._wakeup.set()
            except Exception as e:
                log.warning("relay hears of commits no longer (%s); polling", e)
            await backoff.wait()

    async def _publish_forever(self) -> None:
        backoff = Backoff()
        wait = self._poll_interval
        while True:
            woken = self._wakeup.is_set()
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
                wait = self._recheck if woken else min(wait * 2, self._poll_interval)
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can
                # swallow a cancellation that arrives as the wake-up does, and
                # the relay then never stops.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wakeup.wait()
