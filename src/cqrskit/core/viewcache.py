"""Hot views served from process memory, kept correct by the store's changes.

`CachedViews` wraps a read store that is `Watchable`: a document read once is
kept (bounded, least recently used first out) and served from memory until
the store tells of a change to it. The rule: an answer from the cache is never
older than what the store held when the last change notice arrived.

Two things could break it, and are closed here:

- A read races a change: the GET leaves before a write, its reply arrives
  after the write's notice. A key noticed while a read of it is in flight is
  *spoiled*: no read of it that was in flight then fills the cache.
- Notices are lost (the store's connection dropped): from `lost()` the cache
  is emptied and bypassed, every read goes to the store, until `tracking()`;
  a read that began before `tracking()` does not fill the cache either (the
  epoch moved).

Only documents are cached (`get`, `get_many`); index pages, searches and
checkpoints always go to the store. A missing document is cached too (as
None): its creation is a change like any other.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence

from cqrskit.core.ports import (
    ChangeListener,
    IndexEntry,
    SearchableStore,
    VersionMove,
    ViewChanges,
)

_MISS = object()


class ViewCache:
    """The documents kept, and what the store's changes do to them."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a view cache holds at least one document")
        self.size = size
        self.live = False
        """Whether changes are being told (else every read bypasses)."""
        self.hits = 0
        self.misses = 0
        self._docs: OrderedDict[str, bytes | None] = OrderedDict()
        self._reading: dict[str, int] = {}
        self._spoiled: set[str] = set()
        self._epoch = 0

    def __len__(self) -> int:
        return len(self._docs)

    def lookup(self, key: str) -> object:
        """The cached document (None: known missing), or `_MISS`."""
        found = self._docs.get(key, _MISS)
        if found is _MISS:
            self.misses += 1
        else:
            self.hits += 1
            self._docs.move_to_end(key)
        return found

    def begin(self, key: str) -> int:
        """A read of `key` leaves for the store; the epoch it left in."""
        self._reading[key] = self._reading.get(key, 0) + 1
        return self._epoch

    def end(self, key: str, epoch: int, value: bytes | None, ok: bool) -> None:
        """The read that `begin` returned `epoch` for came back (`ok`) with
        `value`, or failed: keep it only if nothing may have changed since."""
        keep = ok and self.live and epoch == self._epoch and key not in self._spoiled
        left = self._reading[key] - 1
        if left:
            self._reading[key] = left
        else:
            del self._reading[key]
            self._spoiled.discard(key)
        if keep:
            self._docs[key] = value
            self._docs.move_to_end(key)
            if len(self._docs) > self.size:
                self._docs.popitem(last=False)

    def forget(self, keys: Sequence[str] | None) -> None:
        if keys is None:
            self._flush()
            return
        for key in keys:
            self._docs.pop(key, None)
            if key in self._reading:
                self._spoiled.add(key)

    def _flush(self) -> None:
        self._docs.clear()
        self._spoiled.update(self._reading)
        self._epoch += 1


class CacheListener(ChangeListener):
    """What the store's changes do to a `ViewCache`."""

    def __init__(self, cache: ViewCache) -> None:
        self._cache = cache

    def tracking(self) -> None:
        self._cache.forget(None)
        self._cache.live = True

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        self._cache.forget(docs)

    def lost(self) -> None:
        self._cache.live = False
        self._cache.forget(None)


class Listeners(ChangeListener):
    """Several listeners told of the same changes, in order."""

    def __init__(self, *listeners: ChangeListener) -> None:
        self._listeners = listeners

    def tracking(self) -> None:
        for listener in self._listeners:
            listener.tracking()

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        for listener in self._listeners:
            listener.changed(docs, projections)

    def lost(self) -> None:
        for listener in self._listeners:
            listener.lost()


class CachedViews(SearchableStore):
    """A read store whose documents are served from a `ViewCache` while its
    changes are told (someone runs `store.watch` with `listener`)."""

    def __init__(self, store: SearchableStore, cache: ViewCache) -> None:
        self._store = store
        self.cache = cache
        self.listener = CacheListener(cache)

    async def get(self, key: str) -> bytes | None:
        cache = self.cache
        if cache.live:
            found = cache.lookup(key)
            if found is not _MISS:
                return found  # type: ignore[return-value]
        epoch = cache.begin(key)
        value: bytes | None = None
        ok = False
        try:
            value = await self._store.get(key)
            ok = True
        finally:
            cache.end(key, epoch, value, ok)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        cache = self.cache
        if not cache.live:
            return await self._store.get_many(keys)
        found = {k: cache.lookup(k) for k in keys}
        missing = [k for k, v in found.items() if v is _MISS]
        if missing:
            epochs = [cache.begin(k) for k in missing]
            values: list[bytes | None] = [None] * len(missing)
            ok = False
            try:
                values = await self._store.get_many(missing)
                ok = True
            finally:
                for key, epoch, value in zip(missing, epochs, values, strict=True):
                    cache.end(key, epoch, value, ok)
            found.update(zip(missing, values, strict=True))
        return [found[k] for k in keys]  # type: ignore[misc]

    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._store.index_page(
            index, after=after, limit=limit, reverse=reverse
        )

    async def search(
        self,
        index: str,
        text: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        return await self._store.search(
            index, text, after=after, limit=limit, reverse=reverse
        )

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        return await self._store.stream_versions(projection, stream_ids)

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        await self._store.commit(projection, changes, versions)

    async def close(self) -> None:
        """The store is its owner's to close."""
