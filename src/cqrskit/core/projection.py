"""Projections and the runner that applies them exactly once in effect.

An event is applied only if it is the next version of its stream; a duplicate
is skipped; a gap is filled from the event store or stops the batch loudly.
The view changes and the stream checkpoints are committed in one step, with
the projection's generation (see `pause`) unchanged: a batch that read before a
tool paused the projection fails the guard, is read again and applied afresh.

An event on which the projection itself raises is retried (the batch fails and
comes again) until it has failed `max_failures` times; then its stream is parked
(see `deadletter`) and the rest of the batch goes on without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from cqrskit.core.deadletter import (
    Parked,
    Skip,
    parked_index,
    parked_key,
    parked_mark,
)
from cqrskit.core.errors import ConcurrencyError, ProjectionGap, StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.pause import GENERATION, Clock, Sleep, break_expired, now_ms
from cqrskit.core.ports import EventStore, ReadStore, VersionMove
from cqrskit.core.progress import Applied, applied_mark
from cqrskit.core.view import View

__all__ = ["Projection", "ProjectionRunner", "View"]

log = logging.getLogger(__name__)


class Projection(Protocol):
    name: str
    categories: frozenset[str]
    """The stream categories it reads."""
    prefixes: tuple[str, ...]
    """The prefixes of every document key and index name it writes (for rebuilds)."""

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        """The document keys applying `event` will read (fetched ahead, in bulk)."""
        ...

    async def apply(self, event: RecordedEvent, view: View) -> None: ...


class _Poisoned(Exception):
    """The projection raised on an event (not the store, not the broker)."""

    def __init__(self, event: RecordedEvent, error: Exception) -> None:
        super().__init__(str(error))
        self.event = event
        self.error = error


_INFRASTRUCTURE = (ConcurrencyError, StoreUnavailable, ProjectionGap)
"""Errors that are not the event's fault: retried with backoff, never parked."""


class ProjectionRunner:
    """Applies batches of events (one partition's, in order) to projections."""

    def __init__(
        self,
        projections: Sequence[Projection],
        store: ReadStore,
        gap_source: EventStore | None = None,
        *,
        max_attempts: int = 5,
        clock: Clock = now_ms,
        sleep: Sleep = asyncio.sleep,
        pause_poll: float = 0.05,
        max_failures: int = 5,
        skips: Mapping[str, frozenset[Skip]] | None = None,
    ) -> None:
        self._projections = projections
        self._skips = skips or {}
        """By projection, the events an operator skipped (`cqrskit dlq skip`):
        passed over, for a fresh fold to agree with the live one."""
        self._store = store
        self._gap_source = gap_source
        self._max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep
        self._pause_poll = pause_poll
        self._max_failures = max_failures
        self._failures: dict[tuple[str, str, int], int] = {}
        self.applied = 0
        self.duplicates = 0
        self.gaps_filled = 0
        self.progress: dict[tuple[str, int], Applied] = {}
        """By projection and partition, the last event this runner applied
        (or passed over as a duplicate, skipped or parked)."""

    async def handle(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        categories = [e.category for e in events]  # once, not once per projection
        for projection in self._projections:
            wanted = projection.categories
            pairs = zip(events, categories, strict=True)
            relevant = [e for e, category in pairs if category in wanted]
            if relevant:
                await self._run(projection, relevant, partition)
                last, key = relevant[-1], (projection.name, partition)
                if last.position > self.progress.get(key, Applied(0)).position:
                    self.progress[key] = Applied(last.position, last.recorded_at)

    async def _run(
        self, projection: Projection, events: list[RecordedEvent], partition: int
    ) -> None:
        """Apply until committed; the time a tool holds the projection paused
        is waited out and not counted as a failed attempt."""
        attempt = 0
        parks: dict[str, Parked] = {}
        while True:
            try:
                paused = await self._apply_batch(projection, events, parks, partition)
            except _Poisoned as poison:
                record = self._failed(projection.name, poison)
                parks[record.stream_id] = record
                continue
            except ConcurrencyError:
                attempt += 1
                if attempt >= self._max_attempts:
                    raise
                log.warning(
                    "%s: checkpoint moved under us, reapplying", projection.name
                )
                continue
            if paused is None:
                return
            if not await break_expired(
                self._store, projection.name, paused, self._clock
            ):
                await self._sleep(self._pause_poll)

    def _failed(self, projection: str, poison: _Poisoned) -> Parked:
        """Count a failure of an event; re-raise it until it has failed
        `max_failures` times, then return the record that parks its stream."""
        event = poison.event
        key = (projection, event.stream_id, event.version)
        attempts = self._failures.get(key, 0) + 1
        if attempts < self._max_failures:
            self._failures[key] = attempts
            log.warning(
                "%s: %s v%d failed (%d of %d): %r",
                projection,
                event.stream_id,
                event.version,
                attempts,
                self._max_failures,
                poison.error,
            )
            raise poison.error
        self._failures.pop(key, None)
        log.error(
            "%s: %s parked at v%d after %d failures: %r",
            projection,
            event.stream_id,
            event.version,
            attempts,
            poison.error,
        )
        return Parked.of(projection, event, poison.error, self._clock(), attempts)

    async def _apply(
        self, projection: Projection, event: RecordedEvent, view: View
    ) -> None:
        if (event.stream_id, event.version) in self._skips.get(projection.name, ()):
            return
        try:
            await projection.apply(event, view)
        except _INFRASTRUCTURE:
            raise
        except Exception as e:
            raise _Poisoned(event, e) from e
        self.applied += 1

    async def _apply_batch(
        self,
        projection: Projection,
        events: list[RecordedEvent],
        parks: dict[str, Parked],
        partition: int,
    ) -> int | None:
        """Apply and commit the batch, without the streams parked before or in
        `parks` (which it parks); or, if the projection is paused, return its
        (negative) generation and do nothing. The partition's applied position
        (`core.progress`) moves with the checkpoints, read in the same trip."""
        stream_ids = list(dict.fromkeys(e.stream_id for e in events))
        marks = {sid: parked_mark(sid) for sid in stream_ids}
        mark = applied_mark(partition)
        before = await self._store.stream_versions(
            projection.name, [GENERATION, mark, *stream_ids, *marks.values()]
        )
        generation = before.pop(GENERATION)
        was_at = before.pop(mark)
        if generation < 0:
            return generation
        held = {sid for sid, mark in marks.items() if before.pop(mark)}
        current = dict(before)
        view = View(self._store)
        await view.prefetch([k for e in events for k in projection.reads(e)])
        for event in events:
            sid = event.stream_id
            if sid in held or (sid in parks and event.version >= parks[sid].version):
                continue
            seen = current.get(sid, 0)
            if event.version <= seen:
                self.duplicates += 1
                continue
            if event.version > seen + 1:
                for missing in await self._fill_gap(sid, seen, event.version):
                    await self._apply(projection, missing, view)
            await self._apply(projection, event, view)
            current[sid] = event.version
        moves = {
            sid: VersionMove(before.get(sid, 0), version)
            for sid, version in current.items()
            if version != before.get(sid, 0)
        }
        for record in parks.values():
            sid = record.stream_id
            view.put(parked_key(projection.name, sid), record.encode())
            view.index_put(parked_index(projection.name), record.entry())
            moves[marks[sid]] = VersionMove(0, record.version)
        if moves or parks:
            moves[GENERATION] = VersionMove(generation, generation)
            if events[-1].position > was_at:
                moves[mark] = VersionMove(was_at, events[-1].position)
            await self._store.commit(projection.name, view.changes, moves)
        return None

    async def _fill_gap(
        self, stream_id: str, seen: int, upto: int
    ) -> list[RecordedEvent]:
        missing: list[RecordedEvent] = []
        if self._gap_source is not None:
            records = await self._gap_source.read_stream(
                stream_id, from_version=seen + 1
            )
            missing = [r for r in records if r.version < upto]
        if len(missing) != upto - seen - 1:
            log.error(
                "%s: versions %d..%d missing; stream stopped",
                stream_id,
                seen + 1,
                upto - 1,
            )
            raise ProjectionGap(
                f"{stream_id}: versions {seen + 1}..{upto - 1} are missing"
            )
        log.warning(
            "%s: filled gap %d..%d from the event store", stream_id, seen + 1, upto - 1
        )
        self.gaps_filled += len(missing)
        return missing
