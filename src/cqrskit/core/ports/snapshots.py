"""Snapshots of folded state, kept beside the events (core/snapshots.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cqrskit.core.messages import JsonDict


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
