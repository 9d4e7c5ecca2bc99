"""A unit of work over the event store: load streams, stage events, append once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from cqrskit.core.decider import Decider
from cqrskit.core.errors import CqrskitError
from cqrskit.core.loading import StateLoader
from cqrskit.core.messages import RecordedEvent, StreamAppend
from cqrskit.core.state_cache import Folded

S = TypeVar("S")


@dataclass(slots=True)
class _Loaded:
    folded: Folded
    decider: Decider[Any]
    state: Any
    staged: list[Any]


class Session:
    """Everything a command handler touches, committed as one atomic append.

    `assume_new` (a first attempt): a stream the handler `create`s is taken
    to be new without reading it (the append expects version 0, so one that
    exists is refused and the retry, given `assume_new=False`, reads it), and
    a stream it only `read`s is taken at the state the cache holds, without a
    read (the append checks that version, so a stale one is refused and the
    retry reads it)."""

    def __init__(
        self,
        loader: StateLoader,
        *,
        assume_new: bool = False,
        queued: Collection[str] = (),
        take_turn: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._loader = loader
        self._codec = loader.codec
        self._assume_new = assume_new
        self._queued = queued
        self._take_turn = take_turn
        self._streams: dict[str, _Loaded] = {}
        self._read_only: set[str] = set()
        self._unread: set[str] = set()
        self.rejection: CqrskitError | None = None

    async def load(self, stream_id: str, decider: Decider[S]) -> S:
        loaded = self._streams.get(stream_id)
        if loaded is None:
            await self._wait_turn(stream_id)
            folded = await self._loader.load(stream_id, decider)
            loaded = self._keep(stream_id, decider, folded)
        state: S = loaded.state
        return state

    async def read(self, stream_id: str, decider: Decider[S]) -> S:
        """A stream the command decides by but does not write (the product a
        restock or an order line needs): the append checks that it is still
        at the version this state is of, so a decision is never taken on a
        state another writer has moved on from. That check is what lets a
        first attempt take a cached state without a round trip."""
        if stream_id not in self._streams and self._assume_new:
            known = self._loader.cached(stream_id, decider)
            if known is not None:
                await self._wait_turn(stream_id)
                self._keep(stream_id, decider, known)
                self._unread.add(stream_id)
        self._read_only.add(stream_id)
        return await self.load(stream_id, decider)

    async def execute(self, stream_id: str, decider: Decider[S], command: Any) -> S:
        """Load, decide and stage; return the state after the new events."""
        state = await self.load(stream_id, decider)
        self.record(stream_id, decider.decide(command, state))
        return self._streams[stream_id].state  # type: ignore[no-any-return]

    async def create(self, stream_id: str, decider: Decider[S], command: Any) -> S:
        """Execute `command` on a stream that should not exist yet: without a
        read, unless the cache knows the stream or this is a retry."""
        if stream_id not in self._streams and self._assume_new:
            await self._wait_turn(stream_id)
            known = self._loader.cached(stream_id, decider)
            if known is None:
                fold = self._loader.fold_name(decider)
                known = Folded(fold, decider.initial_state, 0, 0)
            self._keep(stream_id, decider, known)
        return await self.execute(stream_id, decider, command)

    def record(self, stream_id: str, events: Sequence[Any]) -> None:
        loaded = self._streams[stream_id]
        loaded.staged.extend(events)
        loaded.state = loaded.decider.fold(events, loaded.state)

    def reject(self, error: CqrskitError) -> None:
        """Commit what is staged (the record of the outcome), then raise `error`."""
        self.rejection = error

    def version(self, stream_id: str) -> int:
        return self._streams[stream_id].folded.version

    def position(self, stream_id: str) -> int:
        return self._streams[stream_id].folded.position

    def appends(self) -> list[StreamAppend]:
        return [
            StreamAppend(
                sid, s.folded.version, [self._codec.encode(e) for e in s.staged]
            )
            for sid, s in self._streams.items()
            if s.staged
        ]

    def unchecked(self) -> bool:
        """Whether the decision rests on a cached state taken without a read:
        it stands only once an append has checked that state's version, so a
        refusal or an answer without an append must be decided again."""
        return bool(self._unread)

    def checks(self) -> list[StreamAppend]:
        """The streams only `read`, each expected at the version it was read at
        (appends without events: the event store only checks them)."""
        return [
            StreamAppend(sid, self._streams[sid].folded.version, [])
            for sid in sorted(self._read_only)
            if not self._streams[sid].staged
        ]

    def committed(self, records: Sequence[RecordedEvent]) -> None:
        """The append of this session's events recorded `records`: remember
        each written stream's state at its new version."""
        last = {r.stream_id: r for r in records}
        for stream_id, record in last.items():
            loaded = self._streams[stream_id]
            folded = replace(
                loaded.folded,
                state=loaded.state,
                version=record.version,
                position=record.position,
            )
            self._loader.remember(stream_id, loaded.decider, folded)

    async def _wait_turn(self, stream_id: str) -> None:
        """Before the first queued stream is read, wait for the turn of all of
        them (core/turns.py): what comes before (a cart, a product) is read
        without holding up the writers queued behind this one."""
        if self._take_turn is not None and stream_id in self._queued:
            take, self._take_turn = self._take_turn, None
            await take()

    def _keep(self, stream_id: str, decider: Decider[Any], folded: Folded) -> _Loaded:
        loaded = _Loaded(folded, decider, folded.state, [])
        self._streams[stream_id] = loaded
        return loaded
