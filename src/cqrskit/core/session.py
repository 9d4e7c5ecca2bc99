"""A unit of work over the event store: load streams, stage events, append once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cqrskit.core.codec import EventCodec
from cqrskit.core.decider import Decider
from cqrskit.core.errors import CqrskitError
from cqrskit.core.messages import StreamAppend
from cqrskit.core.ports import EventStore

S = TypeVar("S")


@dataclass(slots=True)
class _Loaded:
    state: Any
    version: int
    position: int
    staged: list[Any]


class Session:
    """Everything a command handler touches, committed as one atomic append."""

    def __init__(self, store: EventStore, codec: EventCodec) -> None:
        self._store = store
        self._codec = codec
        self._streams: dict[str, _Loaded] = {}
        self._deciders: dict[str, Decider[Any]] = {}
        self.rejection: CqrskitError | None = None

    async def load(self, stream_id: str, decider: Decider[S]) -> S:
        loaded = self._streams.get(stream_id)
        if loaded is None:
            records = await self._store.read_stream(stream_id)
            events = [self._codec.decode(r) for r in records]
            version = records[-1].version if records else 0
            position = records[-1].position if records else 0
            loaded = _Loaded(decider.fold(events), version, position, [])
            self._streams[stream_id] = loaded
            self._deciders[stream_id] = decider
        state: S = loaded.state
        return state

    async def execute(self, stream_id: str, decider: Decider[S], command: Any) -> S:
        """Load, decide and stage; return the state after the new events."""
        state = await self.load(stream_id, decider)
        self.record(stream_id, decider.decide(command, state))
        return self._streams[stream_id].state  # type: ignore[no-any-return]

    def record(self, stream_id: str, events: Sequence[Any]) -> None:
        loaded = self._streams[stream_id]
        decider = self._deciders[stream_id]
        loaded.staged.extend(events)
        loaded.state = decider.fold(events, loaded.state)

    def reject(self, error: CqrskitError) -> None:
        """Commit what is staged (the record of the outcome), then raise `error`."""
        self.rejection = error

    def version(self, stream_id: str) -> int:
        return self._streams[stream_id].version

    def position(self, stream_id: str) -> int:
        return self._streams[stream_id].position

    def appends(self) -> list[StreamAppend]:
        return [
            StreamAppend(sid, s.version, [self._codec.encode(e) for e in s.staged])
            for sid, s in self._streams.items()
            if s.staged
        ]
