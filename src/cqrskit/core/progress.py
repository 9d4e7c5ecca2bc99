"""How far behind the log a relay and a projection are: the arithmetic of lag.

A projection keeps, per partition, the position of the last event it applied
there, as a pseudo-checkpoint (`$applied:<partition>`) moved in the same
commit as its stream checkpoints (so it costs no round trip of its own). Its
lag in a partition is then what the log holds after that position, in that
partition and in the projection's categories: counted by reading the log's
entries (position, stream, time; no event data) from the lowest applied
position (`pending`), at most `limit` of them, so the cost of measuring grows
with the lag and not with the log. The lag in seconds is
the age of the oldest such event: 0 when caught up, growing while a stopped or
slow projector leaves events waiting.

A partition a projection has no checkpoint for yet (none of its events ever
concerned it, or a rebuild just swapped the views in) counts from the lowest
position the projection has applied elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cqrskit.core.messages import stream_category
from cqrskit.core.wire import partition_for

APPLIED = "$applied:"
"""The prefix of the pseudo-checkpoints of applied positions per partition."""


def applied_mark(partition: int) -> str:
    return f"{APPLIED}{partition}"


@dataclass(frozen=True, slots=True)
class Applied:
    """The last event applied in a partition: where, and when it was recorded."""

    position: int
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lag:
    """How far a projection is behind in one partition."""

    applied: int
    events: int
    seconds: float
    capped: bool = False
    """The count stopped at the measuring limit: the lag is at least `events`."""


class Logged(Protocol):
    """What lag needs of an event in the log (a `LogEntry`, a `RecordedEvent`)."""

    @property
    def position(self) -> int: ...
    @property
    def stream_id(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


def relay_lag(head: int, position: int) -> int:
    """Events the relay has yet to publish (positions are dense; a late
    commit below the relay's cursor can make the head trail it for a moment)."""
    return max(head - position, 0)


def age(recorded_at: datetime | None, now: datetime) -> float:
    """Seconds since `recorded_at`, 0 for none (or a clock running behind)."""
    if recorded_at is None:
        return 0.0
    return max((now - recorded_at).total_seconds(), 0.0)


def start_of(applied: Mapping[int, int]) -> int:
    """Where to read the log from to see every partition's pending events."""
    known = [p for p in applied.values() if p > 0]
    return min(known) if known else 0


def lags(
    applied: Mapping[int, int],
    partitions: int,
    categories: frozenset[str],
    pending: Sequence[Logged],
    now: datetime,
    *,
    capped: bool = False,
) -> dict[int, Lag]:
    """Per partition, the lag of a projection reading `categories` that has
    applied up to `applied` (by partition), from `pending`: the log read from
    `start_of(applied)`, in log order."""
    floor = start_of(applied)
    counts = dict.fromkeys(range(partitions), 0)
    oldest: dict[int, datetime] = {}
    partition_of: dict[str, int | None] = {}  # None: not of `categories`
    for event in pending:
        stream = event.stream_id
        if stream not in partition_of:
            partition_of[stream] = (
                partition_for(stream, partitions)
                if stream_category(stream) in categories
                else None
            )
        partition = partition_of[stream]
        if partition is None or event.position <= applied.get(partition, floor):
            continue
        counts[partition] += 1
        oldest.setdefault(partition, event.recorded_at)
    return {
        p: Lag(
            applied.get(p, 0),
            counts[p],
            age(oldest.get(p), now),
            capped,
        )
        for p in range(partitions)
    }
