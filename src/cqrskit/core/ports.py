"""The ports of the core, split by capability. Adapters implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Self, runtime_checkable

from cqrskit.core.messages import (
    JsonDict,
    LogEntry,
    Metadata,
    RecordedEvent,
    StreamAppend,
)


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


BatchHandler = Callable[[int, Sequence[RecordedEvent]], Awaitable[None]]


class Ownership(Protocol):
    """The partitions a consumer should be active for, as shared out among the
    consumers alive now. The broker consults it and reports what it does."""

    @property
    def version(self) -> int:
        """Grows each time the partitions are shared out anew."""
        ...

    def owns(self, partition: int) -> bool: ...

    async def changed(self, since: int) -> None:
        """Return once `version` has grown past `since`."""
        ...

    def activity(self, partition: int, active: bool) -> None:
        """The broker reports that this consumer receives a partition's
        batches (it is the active one), or no longer does."""
        ...


class Membership(Protocol):
    """Who is alive among the processes that share work: each announces itself
    with a heartbeat that holds for `ttl` seconds."""

    async def heartbeat(self, member: str, ttl: float) -> list[str]:
        """Mark `member` alive for `ttl` seconds more; return the live
        members, sorted (those whose time ran out are forgotten)."""
        ...

    async def leave(self, member: str) -> None: ...

    async def members(self) -> list[str]:
        """The live members, sorted, as an onlooker sees them (`cqrskit
        status`): nobody is marked alive."""
        ...

    async def close(self) -> None: ...


class Broker(Protocol):
    """Carries batches of events, partitioned, in order per partition."""

    @property
    def partitions(self) -> int: ...

    async def publish(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        """Return only once the broker holds the batch durably."""
        ...

    async def consume(
        self, handler: BatchHandler, *, ownership: Ownership | None = None
    ) -> None:
        """Deliver batches to `handler` until cancelled, at least once, in order.

        A batch is acknowledged only after `handler` returns; if it raises, the
        same batch comes again. When several consumers share the partitions, a
        consumer active on a partition that `ownership` says is not its own
        hands it on (after the batch in hand) to the next consumer, and stands
        by for it from then on.
        """
        ...

    async def subscribed(self) -> None:
        """Wait until `consume` is subscribed to every partition (active or
        standing by)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A member of an ordered index of a read model (ordered by sort_key, member).

    Neither the member nor the sort key may contain NUL: some stores (Redis)
    join them with it to order entries."""

    member: str
    sort_key: str
    text: str = ""

    def __post_init__(self) -> None:
        if "\x00" in self.member or "\x00" in self.sort_key:
            raise ValueError("index members and sort keys cannot contain NUL")


@dataclass(slots=True)
class ViewChanges:
    """What one batch of a projection changes, committed at once."""

    docs: dict[str, bytes | None]
    index_puts: dict[tuple[str, str], IndexEntry]
    index_removes: set[tuple[str, str]]

    @classmethod
    def empty(cls) -> ViewChanges:
        return cls(docs={}, index_puts={}, index_removes=set())

    def __bool__(self) -> bool:
        return bool(self.docs or self.index_puts or self.index_removes)


@dataclass(frozen=True, slots=True)
class VersionMove:
    """A stream's checkpoint moves from `expected` to `new` (a fencing guard)."""

    expected: int
    new: int


class ReadStore(Protocol):
    """Materialized views stored in the shape of their answers."""

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        """Up to `limit` entries in (sort_key, member) order (descending with
        `reverse`), those after the cursor `after` (a place, not necessarily an
        entry) when given."""
        ...

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        """The last version of each stream applied (0 for none)."""
        ...

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        """Apply changes and checkpoints atomically, or raise ConcurrencyError
        if any checkpoint is no longer at its expected version."""
        ...

    async def close(self) -> None: ...


class TextSearch(Protocol):
    """Finding the entries of an index by their text (a catalog's search box):
    a capability of its own beside `ReadStore.index_page`, which only pages."""

    async def search(
        self,
        index: str,
        text: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        """As `index_page`, of only the entries whose text contains `text`: a
        literal, case-insensitive substring (an empty `text` matches every
        entry)."""
        ...


class SearchableStore(ReadStore, TextSearch, Protocol):
    """A read store that also searches its indexes by text."""


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


class ChangeListener(Protocol):
    """Told of changes to a read store as they happen (`Watchable.watch`)."""

    def tracking(self) -> None:
        """From now on every change is told, until `lost`."""

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        """These documents and these projections' checkpoints changed; `docs`
        None: any document may have (the store was emptied)."""

    def lost(self) -> None:
        """Changes may go untold from now on, until `tracking` again."""


@runtime_checkable
class Watchable(Protocol):
    """A read store that tells a listener of its changes (an in-process cache
    of views is kept correct by it; a consistency wait wakes on it)."""

    async def watch(self, listener: ChangeListener) -> None:
        """Tell `listener` of every change made by any writer, from its
        `tracking()` on, until cancelled. A lost connection is `lost()`, then
        healed (with backoff) and `tracking()` again; it never returns."""
        ...


@runtime_checkable
class CommitTimes(Protocol):
    """A read store that records when each projection last committed."""

    async def applied_ages(self, projections: Sequence[str]) -> dict[str, float]:
        """Seconds from each projection's last commit until now, both read by
        the store's own clock (a projection never committed, or committed
        before the store recorded times, is left out)."""
        ...


class EventLog(EventStore, LogIndex, PositionStore, CommitFeed, Protocol):
    """An event store that also keeps the relay's position, in the same
    database, and tells the relay of commits."""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a lease (a process's name, host-pid) and since when (RFC 3339)."""

    holder: str
    since: str


class LeaseLost(Exception):
    """This process no longer holds the lease: it must not publish or save."""


class Lease(PositionStore, Protocol):
    """Leadership of a role that must run once (the relay): whoever holds the
    lease is active; the others wait as hot standbys.

    The lease also keeps the leader's position, fenced: `save_position`
    refuses (LeaseLost) unless this process holds the lease at that moment,
    so a deposed leader that wakes up can never move the position back.
    """

    async def acquire(self) -> None:
        """Wait until this process holds the lease (StoreUnavailable if the
        place it lives in cannot be reached)."""
        ...

    async def renew(self) -> bool:
        """Prove the lease is still held and extend its validity; False once
        it is lost (it is then released)."""
        ...

    def valid(self) -> bool:
        """Held, and renewed recently enough that nobody else can hold it yet.
        No I/O: checked before every publish."""
        ...

    async def release(self) -> None:
        """Give the lease up. Safe to repeat."""
        ...


class Rebuildable(ReadStore, Protocol):
    """A read store whose views can be rebuilt beside the live ones and then
    swapped in at once (DESIGN.md rule 1: read models are disposable). The
    scratch is a store of the same kind, so `adopt` can move its contents."""

    async def scratch(self) -> Self:
        """A fresh, empty store beside this one (a new namespace or file);
        closing it discards whatever it still holds."""
        ...

    async def adopt(
        self,
        scratch: Self,
        projection: str,
        prefixes: Sequence[str],
        generation: VersionMove,
    ) -> None:
        """Atomically replace this store's documents and indexes whose key or
        index name starts with one of `prefixes`, and `projection`'s
        checkpoints, with the scratch store's, and set the projection's
        generation (`core.pause`) to `generation.new`; then remove them from the
        scratch. A reader sees either the old views or the new ones, never a mix.
        Raise ConcurrencyError, changing nothing, unless the live generation is
        at `generation.expected` (the pause the caller holds)."""
        ...


class Inspectable(Protocol):
    """A read store whose contents can be listed, to compare them with a fresh
    fold of the event store (`cqrskit verify`)."""

    async def checkpoints(self, projection: str) -> dict[str, int]:
        """Every checkpoint `projection` holds (its generation included)."""
        ...

    async def documents(self, prefixes: Sequence[str]) -> dict[str, bytes]:
        """Every document whose key starts with one of `prefixes`."""
        ...

    async def index_entries(
        self, prefixes: Sequence[str]
    ) -> dict[str, list[IndexEntry]]:
        """Every entry of every index whose name starts with one of `prefixes`,
        by index, each list in (sort_key, member) order."""
        ...


class FullReadStore(TextSearch, Rebuildable, Inspectable, Protocol):
    """A read store with every capability the kit's roles ask of one: the
    adapters opened by URL (in memory, SQLite, Redis) are all of this kind."""


# --- Snapshots of folded state, kept beside the events (core/snapshots.py) ---


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream's state folded from its events up to `version` (whose event
    sits at `position` in the log), by the fold named `fold`."""

    stream_id: str
    fold: str
    version: int
    position: int
    state: JsonDict


@runtime_checkable
class SnapshotStore(Protocol):
    """Where folded states are kept so a long stream is not folded from its start.

    Keeps one snapshot per stream and fold, the one of the highest version;
    a snapshot is a cache: losing one costs a longer load, never a wrong one."""

    async def load_snapshot(self, stream_id: str, fold: str) -> Snapshot | None: ...

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep `snapshot` unless one of a higher version by the same fold is kept."""
        ...
