"""The read store's walks over the keys of its namespace with SCAN: the keys a
projection's prefixes own (which `adopt` drops and moves), their contents
listed for `cqrskit verify` (`Inspectable`), and `purge`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis.asyncio as redis

from cqrskit.adapters._paging import PagesAndSearches
from cqrskit.adapters.redis._client import translate_errors
from cqrskit.adapters.redis._keys import COMMITTED_AT, Keyspace
from cqrskit.core.ports import IndexEntry

_SCAN_COUNT = 1000
"""The SCAN COUNT hint when looking for the keys of a namespace."""


class Listing(PagesAndSearches):
    """Of `RedisReadStore`: what it lists and deletes by SCAN."""

    _client: redis.Redis
    _keys: Keyspace

    async def purge(self) -> int:
        """Delete every key of this namespace (SCAN + UNLINK); how many were.

        For tests, and for dropping a namespace a rebuild has replaced.
        """
        deleted = 0
        with translate_errors():
            batch: list[bytes] = []
            keys = self._client.scan_iter(match=self._keys.pattern, count=500)
            async for key in keys:
                batch.append(key)
                if len(batch) == 500:
                    deleted += await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += await self._client.unlink(*batch)
        return deleted

    async def checkpoints(self, projection: str) -> dict[str, int]:
        with translate_errors():
            found = await self._client.hgetall(self._keys.checkpoints(projection))
        raw = cast(dict[bytes, bytes], found)
        return {k.decode(): int(v) for k, v in raw.items() if k != COMMITTED_AT}

    async def documents(self, prefixes: Sequence[str]) -> dict[str, bytes]:
        keys = [k for k in await self._owned(prefixes) if self._keys.is_doc(k)]
        found: dict[str, bytes] = {}
        with translate_errors():
            for start in range(0, len(keys), _SCAN_COUNT):
                part = keys[start : start + _SCAN_COUNT]
                values = cast(list[bytes | None], await self._client.mget(part))
                found.update(
                    (self._keys.doc_name(k), v)
                    for k, v in zip(part, values, strict=True)
                    if v is not None
                )
        return found

    async def index_entries(
        self, prefixes: Sequence[str]
    ) -> dict[str, list[IndexEntry]]:
        names = {
            self._keys.index_name(k)
            for k in await self._owned(prefixes)
            if not self._keys.is_doc(k)
        }
        found: dict[str, list[IndexEntry]] = {}
        for name in sorted(names):
            entries = await self._all_entries(name)
            if entries:
                found[name] = entries
        return found

    async def _all_entries(self, index: str) -> list[IndexEntry]:
        entries: list[IndexEntry] = []
        while page := await self.index_page(
            index,
            after=(entries[-1].sort_key, entries[-1].member) if entries else None,
            limit=_SCAN_COUNT,
        ):
            entries += page
        return entries

    async def _owned(self, prefixes: Sequence[str]) -> list[bytes]:
        """The doc and index keys of this namespace owned by `prefixes`."""
        owned: dict[bytes, None] = {}
        with translate_errors():
            for prefix in prefixes:
                for pattern in self._keys.owned_patterns(prefix):
                    keys = self._client.scan_iter(match=pattern, count=_SCAN_COUNT)
                    async for key in keys:
                        if self._keys.owns(key, prefix):
                            owned[key] = None
        return list(owned)
