"""Snapshots: a long stream's folded state, kept so a load reads only its tail.

A snapshot names the fold that made it: the decider's name and declared
`fold_version` and the schema version of every event type it folds (after
upcasting). Changing `evolve`, the state's shape (raise `fold_version`) or an
event's schema (a new upcaster) changes the name, and older snapshots are
simply never read again. A snapshot holds only committed events (a state as
loaded, or as it stood after a successful append), so concurrent writers can
at worst keep an older one, never a wrong one; the store keeps the highest
version per stream and fold.

Writes are best effort and off the command's path: they run as background
tasks, and a failure is logged and forgotten (the next due load tries again).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from cqrskit.core.codec import EventCodec
from cqrskit.core.decider import Decider
from cqrskit.core.ports import Snapshot, SnapshotStore
from cqrskit.core.state_cache import Folded

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SnapshotPolicy:
    """When to keep a snapshot: `every` events since the last one (0: never by
    count), or whenever a load took longer than `slow_load` seconds (0: never)."""

    every: int = 1000
    slow_load: float = 0.05

    def due(self, folded: Folded, load_seconds: float) -> bool:
        behind = folded.version - folded.snapshot_version
        if behind <= 0:
            return False
        if self.every and behind >= self.every:
            return True
        return bool(self.slow_load) and load_seconds > self.slow_load


def fold_name(decider: Decider[Any], codec: EventCodec) -> str:
    """The fold's identity: decider, fold version, each event's schema version."""
    schemas = ",".join(
        f"{t.__name__}.{codec.schema_version(t.__name__)}" for t in decider.events
    )
    return f"{decider.name}/{decider.fold_version}/{schemas}"


class Snapshotter:
    def __init__(self, store: SnapshotStore, policy: SnapshotPolicy) -> None:
        self._store = store
        self.policy = policy
        self._pending: set[asyncio.Task[None]] = set()

    async def load(self, stream_id: str, decider: Decider[Any], fold: str) -> Folded:
        """The stream's state as its snapshot holds it, or the initial state."""
        if decider.load_state is None:
            return Folded(fold, decider.initial_state, 0, 0)
        try:
            snapshot = await self._store.load_snapshot(stream_id, fold)
        except Exception:  # a snapshot only saves time; fold from the start
            log.warning("cannot load the snapshot of %s", stream_id, exc_info=True)
            snapshot = None
        if snapshot is None:
            return Folded(fold, decider.initial_state, 0, 0)
        state = decider.load_state(snapshot.state)
        v = snapshot.version
        return Folded(fold, state, v, snapshot.position, snapshot_version=v)

    def save_later(self, stream_id: str, folded: Folded, decider: Decider[Any]) -> None:
        """Start keeping a snapshot of `folded` without waiting for it."""
        if decider.dump_state is None:
            return
        snapshot = Snapshot(
            stream_id,
            folded.fold,
            folded.version,
            folded.position,
            decider.dump_state(folded.state),
        )
        task = asyncio.get_running_loop().create_task(self._save(snapshot))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the snapshots being written (shutdown, tests)."""
        while self._pending:
            await asyncio.gather(*self._pending)

    async def _save(self, snapshot: Snapshot) -> None:
        try:
            await self._store.save_snapshot(snapshot)
        except Exception:
            log.warning(
                "cannot keep a snapshot of %s", snapshot.stream_id, exc_info=True
            )
