"""The write side's log: the event store, its global log read by the relay
and the relay's position in it, and the listing of its streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cqrskit.core.messages import LogEntry, Metadata, RecordedEvent, StreamAppend


class EventStore(Protocol):
    """The source of truth: streams with optimistic concurrency and a global log."""

    async def append(
        self,
        appends: Sequence[StreamAppend],
        *,
        metadata: Metadata,
    ) -> list[RecordedEvent]:
        """Write to one or more streams atomically, or raise ConcurrencyError."""
        ...

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]: ...

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        """Committed events with `position > after` in log order, never skipping."""
        ...

    async def head(self) -> int:
        """The position of the last event `read_all` would return now, when
        read to the end (0 for an empty log): what a relay could publish."""
        ...

    async def close(self) -> None: ...


class CommitFeed(Protocol):
    """Hears of appends as they commit, so a reader of the log (the relay)
    need not wait for its next poll. A hint, never a promise: the reader still
    reads the log, and still polls, for whatever it did not hear of."""

    def commits(self) -> AsyncIterator[None]:
        """Yield once as soon as it listens (what committed before may not
        have been heard), then soon after appends commit, in this process or
        (where the store can tell) in others: several appends may yield once,
        and a yield may find nothing new. Raise StoreUnavailable once it can
        no longer hear; a new call listens again."""
        ...


class LogIndex(Protocol):
    """The log without the events' contents: cheap enough to measure lag by."""

    async def read_entries(self, after: int, limit: int) -> list[LogEntry]:
        """The entries of the events `read_all(after, limit)` would return, in
        the same order (an event still settling may be left for a later read)."""
        ...


class PositionStore(Protocol):
    """Where the relay keeps how far into the global log it has published."""

    async def load_position(self, name: str) -> int: ...

    async def save_position(self, name: str, position: int) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """A stream as a list of streams shows it: its id and its last version."""

    stream_id: str
    version: int


@runtime_checkable
class StreamCatalog(Protocol):
    """Listing the streams of an event store (the operator's console): a
    capability of its own beside the log, which only reads a stream by id."""

    async def streams(
        self, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[StreamSummary]:
        """Up to `limit` streams whose id starts with `prefix`, in id order,
        after the stream `after` (the last of the page before) when given."""
        ...

    async def read_stream_page(
        self, stream_id: str, from_version: int, limit: int
    ) -> list[RecordedEvent]:
        """Up to `limit` events of a stream from `from_version` on, in order:
        a page of a long stream without reading the rest of it."""
        ...


class EventLog(EventStore, LogIndex, PositionStore, CommitFeed, Protocol):
    """An event store that also keeps the relay's position, in the same
    database, and tells the relay of commits."""
