"""Where the time goes between a commit and the read side: the sync stages.

Each role times the stage it runs and hands the figure to a `StageClock`
(the processes give one that feeds a Prometheus histogram). A stage is timed
once per batch (a page the relay read, a batch the broker delivered), by its
oldest event, so the cost stays flat however many events a batch carries and
an idle system's one-event batches are timed exactly.

Stages that start at the event's commit use its `recorded_at` (taken by the
appending process just before its append), so they compare clocks of two
processes: on one host they agree; across hosts their skew adds in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import BatchHandler
from cqrskit.core.wire import Delivered

COMMITTED_TO_READ = "committed_to_read"
"""From the event's recorded time until the relay has read it from the log."""
READ_TO_CONFIRMED = "read_to_confirmed"
"""From the relay's read until the broker confirmed every batch of the page."""
PUBLISHED_TO_DELIVERED = "published_to_delivered"
"""From the relay's publish until a projector is handed the batch."""
DELIVERED_TO_APPLIED = "delivered_to_applied"
"""From delivery until every projection committed the batch to the read store."""
APPLIED_TO_VISIBLE = "applied_to_visible"
"""From a projection's commit to the read store until the query service is told
of it (the notice that invalidates its cache and wakes its token waits);
timed by the store's clock (`core.visible`)."""


class StageClock(Protocol):
    def observe(self, stage: str, seconds: float) -> None: ...


class _Unmeasured:
    def observe(self, stage: str, seconds: float) -> None:
        return None


UNMEASURED: StageClock = _Unmeasured()


def seconds_since(when: datetime) -> float:
    """Wall-clock seconds since `when` (an aware time), never below zero."""
    return max(0.0, time.time() - when.timestamp())


def seconds_since_epoch(when: float) -> float:
    """Wall-clock seconds since `when` (seconds since the epoch), never below zero."""
    return max(0.0, time.time() - when)


def timed(handler: BatchHandler, stages: StageClock) -> BatchHandler:
    """`handler` (a projector's), timing each batch's way through the broker
    (when the broker says when it was published) and its application."""

    async def handle(partition: int, events: Sequence[RecordedEvent]) -> None:
        delivered_at = time.perf_counter()
        if isinstance(events, Delivered) and events.published_at is not None:
            waited = seconds_since_epoch(events.published_at)
            stages.observe(PUBLISHED_TO_DELIVERED, waited)
        await handler(partition, events)
        stages.observe(DELIVERED_TO_APPLIED, time.perf_counter() - delivered_at)

    return handle
