"""The read side: views stored in the shape of their answers, the changes a
projection commits to them, and what else a read store can do with them
(search, rebuild, be listed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Self


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
