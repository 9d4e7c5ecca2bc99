"""A read store in dictionaries; `watch` tells of each commit as it is made."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from cqrskit.adapters._paging import Page, PagesAndSearches
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.pause import GENERATION
from cqrskit.core.ports import ChangeListener, IndexEntry, VersionMove, ViewChanges


class InMemoryReadStore(PagesAndSearches):
    def __init__(self) -> None:
        self._docs: dict[str, bytes] = {}
        self._indexes: dict[str, dict[str, IndexEntry]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._listeners: list[ChangeListener] = []

    async def watch(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)
        listener.tracking()
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            self._listeners.remove(listener)
            listener.lost()

    def _tell(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        for listener in self._listeners:
            listener.changed(docs, projections)

    async def get(self, key: str) -> bytes | None:
        return self._docs.get(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self._docs.get(k) for k in keys]

    async def _entries(self, index: str, page: Page, contains: str) -> list[IndexEntry]:
        after, limit, reverse = page
        entries = sorted(
            self._indexes.get(index, {}).values(),
            key=lambda e: (e.sort_key, e.member),
            reverse=reverse,
        )
        if after is not None:
            if reverse:
                entries = [e for e in entries if (e.sort_key, e.member) < after]
            else:
                entries = [e for e in entries if (e.sort_key, e.member) > after]
        if contains:
            needle = contains.lower()
            entries = [e for e in entries if needle in e.text.lower()]
        return entries[:limit]

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        return {sid: self._versions.get((projection, sid), 0) for sid in stream_ids}

    async def commit(
        self, projection: str, changes: ViewChanges, versions: Mapping[str, VersionMove]
    ) -> None:
        for sid, move in versions.items():
            if self._versions.get((projection, sid), 0) != move.expected:
                raise ConcurrencyError(f"{projection}: checkpoint of {sid} moved")
        for key, value in changes.docs.items():
            if value is None:
                self._docs.pop(key, None)
            else:
                self._docs[key] = value
        for index, member in changes.index_removes:
            self._indexes.get(index, {}).pop(member, None)
        for (index, _), entry in changes.index_puts.items():
            self._indexes.setdefault(index, {})[entry.member] = entry
        for sid, move in versions.items():
            self._versions[(projection, sid)] = move.new
        self._tell(list(changes.docs), [projection] if versions else [])

    async def scratch(self) -> InMemoryReadStore:
        return InMemoryReadStore()

    async def adopt(
        self,
        scratch: InMemoryReadStore,
        projection: str,
        prefixes: Sequence[str],
        generation: VersionMove,
    ) -> None:
        if self._versions.get((projection, GENERATION), 0) != generation.expected:
            raise ConcurrencyError(f"{projection}: the generation moved")
        owned = tuple(prefixes)
        self._docs = {k: v for k, v in self._docs.items() if not k.startswith(owned)}
        self._docs.update(
            {k: v for k, v in scratch._docs.items() if k.startswith(owned)}
        )
        self._indexes = {
            k: v for k, v in self._indexes.items() if not k.startswith(owned)
        }
        self._indexes.update(
            {k: dict(v) for k, v in scratch._indexes.items() if k.startswith(owned)}
        )
        self._versions = {k: v for k, v in self._versions.items() if k[0] != projection}
        self._versions.update(
            {k: v for k, v in scratch._versions.items() if k[0] == projection}
        )
        self._versions[(projection, GENERATION)] = generation.new
        self._tell(None, [projection])
        scratch._docs = {
            k: v for k, v in scratch._docs.items() if not k.startswith(owned)
        }
        scratch._indexes = {
            k: v for k, v in scratch._indexes.items() if not k.startswith(owned)
        }
        scratch._versions = {
            k: v for k, v in scratch._versions.items() if k[0] != projection
        }

    async def checkpoints(self, projection: str) -> dict[str, int]:
        return {s: v for (p, s), v in self._versions.items() if p == projection}

    async def documents(self, prefixes: Sequence[str]) -> dict[str, bytes]:
        owned = tuple(prefixes)
        return {k: v for k, v in self._docs.items() if k.startswith(owned)}

    async def index_entries(
        self, prefixes: Sequence[str]
    ) -> dict[str, list[IndexEntry]]:
        owned = tuple(prefixes)
        return {
            name: sorted(entries.values(), key=lambda e: (e.sort_key, e.member))
            for name, entries in self._indexes.items()
            if name.startswith(owned) and entries
        }

    async def close(self) -> None:
        return None
