"""Commands on the same stream in one process take turns instead of racing.

Optimistic concurrency lets every writer of a hot stream (a best-selling
SKU's inventory) read the same version, decide, and all but one lose the
append and retry: under load most of the work is retries. Within a process
nothing forces that race, so writers of a stream queue for it (FIFO, an
`asyncio.Lock` per stream) and each decides on the state its predecessor
committed: the cached state plus a read that finds nothing new. Writers in
other processes still race, and the append's version check and the retry
settle those.

Locks are taken in sorted order, so two commands that share several streams
cannot wait for each other; a lock nobody holds or awaits is forgotten.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class StreamTurns:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def take(self, stream_ids: Iterable[str]) -> AsyncIterator[None]:
        """Hold the turn of every stream in `stream_ids` (none: no wait)."""
        ids = sorted(set(stream_ids))
        locks = [self._enter(stream_id) for stream_id in ids]
        held: list[asyncio.Lock] = []
        try:
            for lock in locks:
                await lock.acquire()
                held.append(lock)
            yield
        finally:
            for lock in reversed(held):
                lock.release()
            for stream_id in ids:
                self._leave(stream_id)

    def __len__(self) -> int:
        """How many streams have a writer holding or awaiting their turn."""
        return len(self._locks)

    def _enter(self, stream_id: str) -> asyncio.Lock:
        lock, users = self._locks.get(stream_id) or (asyncio.Lock(), 0)
        self._locks[stream_id] = (lock, users + 1)
        return lock

    def _leave(self, stream_id: str) -> None:
        lock, users = self._locks[stream_id]
        if users == 1:
            del self._locks[stream_id]
        else:
            self._locks[stream_id] = (lock, users - 1)
