"""A bounded in-process cache of folded stream states.

An entry is the state of a stream folded up to a version. Events are never
changed once written, so an entry stays true forever; it can only fall behind
(another process appended since). A load therefore starts from the entry and
reads only the events after it, and a command decided on it still carries the
expected version it was folded to, so the append's check refuses it if the
stream moved in between. A conflict needs no eviction: the retry's load reads
the events the entry lacks.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream's state after the event at `version` (`position` in the log).

    `snapshot_version` is the version of the newest snapshot known to hold
    this stream, so the snapshot policy can count the events since."""

    fold: str
    state: Any
    version: int
    position: int
    snapshot_version: int = 0


class StateCache:
    """Least recently used entries beyond `capacity` streams are dropped."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a state cache holds at least one stream")
        self._capacity = capacity
        self._entries: OrderedDict[str, Folded] = OrderedDict()

    def get(self, stream_id: str, fold: str) -> Folded | None:
        entry = self._entries.get(stream_id)
        if entry is None or entry.fold != fold:
            return None
        self._entries.move_to_end(stream_id)
        return entry

    def put(self, stream_id: str, folded: Folded) -> None:
        """Keep `folded` unless the cache already knows a later version."""
        kept = self._entries.get(stream_id)
        if (
            kept is not None
            and kept.fold == folded.fold
            and kept.version > folded.version
        ):
            return
        self._entries[stream_id] = folded
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
