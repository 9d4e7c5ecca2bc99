"""Loads a stream's folded state, reading only the events it does not know.

It starts from the newest state it can find (the cache, else the stream's
snapshot, else the decider's initial state) and folds the events after it:
a command on a stream with 100,000 earlier events reads the few written since
its last load, not the whole stream (DESIGN.md rule 11).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from cqrskit.core.codec import EventCodec
from cqrskit.core.decider import Decider
from cqrskit.core.ports import EventStore
from cqrskit.core.snapshots import Snapshotter, fold_name
from cqrskit.core.state_cache import Folded, StateCache


class StateLoader:
    def __init__(
        self,
        store: EventStore,
        codec: EventCodec,
        *,
        cache: StateCache | None = None,
        snapshots: Snapshotter | None = None,
    ) -> None:
        self.store = store
        self.codec = codec
        self._cache = cache
        self._snapshots = snapshots

    def fold_name(self, decider: Decider[Any]) -> str:
        return fold_name(decider, self.codec)

    def cached(self, stream_id: str, decider: Decider[Any]) -> Folded | None:
        if self._cache is None:
            return None
        return self._cache.get(stream_id, self.fold_name(decider))

    async def load(self, stream_id: str, decider: Decider[Any]) -> Folded:
        start = self.cached(stream_id, decider)
        if start is None:
            start = await self._start(stream_id, decider)
        # Only reading and folding the events after the start count as slow:
        # a big snapshot is slow to load too, and a new one would not help.
        started = time.perf_counter()
        records = await self.store.read_stream(stream_id, start.version + 1)
        folded = start
        if records:
            events = [self.codec.decode(r) for r in records]
            last = records[-1]
            state = decider.fold(events, start.state)
            folded = replace(
                start, state=state, version=last.version, position=last.position
            )
        self.remember(stream_id, decider, folded, time.perf_counter() - started)
        return folded

    def remember(
        self,
        stream_id: str,
        decider: Decider[Any],
        folded: Folded,
        load_seconds: float = 0.0,
    ) -> None:
        """Keep a committed state: in the cache, and as a snapshot when due."""
        snapshots = self._snapshots
        if (
            snapshots is not None
            and decider.snapshots
            and snapshots.policy.due(folded, load_seconds)
        ):
            snapshots.save_later(stream_id, folded, decider)
            folded = replace(folded, snapshot_version=folded.version)
        if self._cache is not None:
            self._cache.put(stream_id, folded)

    async def _start(self, stream_id: str, decider: Decider[Any]) -> Folded:
        fold = self.fold_name(decider)
        if self._snapshots is None or not decider.snapshots:
            return Folded(fold, decider.initial_state, 0, 0)
        return await self._snapshots.load(stream_id, decider, fold)
