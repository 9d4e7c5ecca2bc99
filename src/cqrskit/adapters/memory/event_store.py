"""An event store in a Python list; one writer at a time by construction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import orjson

from cqrskit.adapters._commits import CommitSignal
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import LogEntry, Metadata, RecordedEvent, StreamAppend
from cqrskit.core.ports import Snapshot, StreamSummary


class InMemoryEventStore:
    def __init__(
        self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._positions: dict[str, int] = {}
        self._snapshots: dict[tuple[str, str], Snapshot] = {}
        self._clock = clock
        self._signal = CommitSignal()

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        for append in appends:
            current = len(self._streams.get(append.stream_id, []))
            if current != append.expected_version:
                raise ConcurrencyError(
                    f"{append.stream_id} is at version {current}, "
                    f"expected {append.expected_version}"
                )
        now = self._clock()
        records: list[RecordedEvent] = []
        for append in appends:
            stream = self._streams.setdefault(append.stream_id, [])
            for event in append.events:
                record = RecordedEvent(
                    stream_id=append.stream_id,
                    version=len(stream) + 1,
                    position=len(self._log) + 1,
                    type=event.type,
                    data=event.data,
                    recorded_at=now,
                    schema_version=event.schema_version,
                    metadata=metadata,
                )
                stream.append(record)
                self._log.append(record)
                records.append(record)
        if records:
            self._signal.committed()
        return records

    def commits(self) -> AsyncIterator[None]:
        return self._signal.commits()

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        return list(self._streams.get(stream_id, [])[max(from_version, 1) - 1 :])

    async def streams(
        self, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[StreamSummary]:
        chosen = sorted(
            s
            for s, events in self._streams.items()
            if events and s.startswith(prefix) and s > (after or "")
        )
        return [StreamSummary(s, len(self._streams[s])) for s in chosen[:limit]]

    async def read_stream_page(
        self, stream_id: str, from_version: int, limit: int
    ) -> list[RecordedEvent]:
        start = max(from_version, 1) - 1
        return list(self._streams.get(stream_id, [])[start : start + limit])

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        return self._log[after : after + limit]

    async def read_entries(self, after: int, limit: int) -> list[LogEntry]:
        return [
            LogEntry(e.position, e.stream_id, e.recorded_at)
            for e in self._log[after : after + limit]
        ]

    async def head(self) -> int:
        return len(self._log)

    async def load_position(self, name: str) -> int:
        return self._positions.get(name, 0)

    async def save_position(self, name: str, position: int) -> None:
        self._positions[name] = position

    async def load_snapshot(self, stream_id: str, fold: str) -> Snapshot | None:
        return self._snapshots.get((stream_id, fold))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Kept as a copy: the caller's dict may change after it saved it."""
        key = (snapshot.stream_id, snapshot.fold)
        kept = self._snapshots.get(key)
        if kept is None or kept.version < snapshot.version:
            state = orjson.loads(orjson.dumps(snapshot.state))
            self._snapshots[key] = replace(snapshot, state=state)

    async def close(self) -> None:
        return None
