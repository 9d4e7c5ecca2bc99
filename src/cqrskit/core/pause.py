"""One writer per projection at a time: the projection generation.

Every projection keeps, among its stream checkpoints, a pseudo-stream
`$generation` (no stream id can start with `$`). A runner reads it with its
batch's checkpoints and commits it unchanged (`VersionMove(gen, gen)`), so the
commit guard of every read store refuses a batch whose reads predate a change
of generation. The guard is per stream; the generation makes it per projection
for the moments that need it, and costs a live runner nothing else.

A tool that must write a projection's views or read them at one consistent
point (rebuild's swap, verify) pauses it: it moves the generation to a negative
value, minus its deadline in ms since the epoch, and ends with a guarded commit
that sets a fresh positive generation together with its own writes. A runner
that reads a paused generation waits until it is resumed, or, once the deadline
has passed (the tool died), breaks the pause; the tool's final commit then fails
its guard and writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from cqrskit.core.errors import ConcurrencyError, Conflict
from cqrskit.core.ports import ReadStore, VersionMove, ViewChanges

log = logging.getLogger(__name__)

GENERATION = "$generation"
"""The pseudo-stream whose checkpoint is the projection's generation."""

Clock = Callable[[], int]
"""Milliseconds since the epoch."""
Sleep = Callable[[float], Awaitable[None]]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fresh_generation(old: int, clock: Clock) -> int:
    """A positive generation above every earlier one (paused or not)."""
    return max(clock(), abs(old) + 1)


class PauseBroken(Conflict):
    """A pause expired and a runner took the projection back: the tool that
    held it must not write."""


async def generation(store: ReadStore, projection: str) -> int:
    return (await store.stream_versions(projection, [GENERATION]))[GENERATION]


async def move_generation(store: ReadStore, projection: str, move: VersionMove) -> None:
    """A guarded commit of the generation alone (ConcurrencyError if it moved)."""
    await store.commit(projection, ViewChanges.empty(), {GENERATION: move})


async def break_expired(
    store: ReadStore, projection: str, paused: int, clock: Clock
) -> bool:
    """Resume a projection whose pause has expired; whether it was (still) paused
    at `paused` and is now resumed by us."""
    if clock() < -paused:
        return False
    try:
        await move_generation(
            store, projection, VersionMove(paused, fresh_generation(paused, clock))
        )
    except ConcurrencyError:
        return False
    log.warning("%s: a pause expired (its tool died?); projection resumed", projection)
    return True


class Pauses:
    """Holds projections paused on one store while a tool works on them."""

    def __init__(
        self,
        store: ReadStore,
        *,
        ttl_ms: int = 15_000,
        clock: Clock = now_ms,
        sleep: Sleep = asyncio.sleep,
        poll: float = 0.05,
    ) -> None:
        self._store = store
        self._ttl = ttl_ms
        self._clock = clock
        self._sleep = sleep
        self._poll = poll
        self.held: dict[str, int] = {}
        """Projection -> the (negative) generation we set."""

    async def pause(self, projections: Sequence[str]) -> None:
        """Pause each projection; wait (up to one ttl) for another tool's pause."""
        for name in projections:
            self.held[name] = await self._pause_one(name)

    async def _pause_one(self, name: str) -> int:
        give_up = self._clock() + self._ttl * 2
        while True:
            current = await generation(self._store, name)
            if current < 0 and self._clock() < -current:
                if self._clock() >= give_up:
                    raise Conflict(f"{name} is paused by another tool")
                await self._sleep(self._poll)
                continue
            paused = -(self._clock() + self._ttl)
            try:
                await move_generation(self._store, name, VersionMove(current, paused))
            except ConcurrencyError:
                continue
            return paused

    async def refresh(self) -> None:
        """Push every deadline one ttl ahead if a third of it has gone by."""
        for name, paused in self.held.items():
            if self._clock() + self._ttl * 2 // 3 < -paused:
                continue
            renewed = -(self._clock() + self._ttl)
            try:
                await move_generation(self._store, name, VersionMove(paused, renewed))
            except ConcurrencyError as e:
                raise PauseBroken(f"{name}: the pause expired and was broken") from e
            self.held[name] = renewed

    def resume_move(self, name: str) -> VersionMove:
        """The generation move of the commit that ends the pause of `name`."""
        paused = self.held[name]
        return VersionMove(paused, fresh_generation(paused, self._clock))

    def released(self, name: str) -> None:
        """`name` was resumed by a commit carrying `resume_move(name)`."""
        del self.held[name]

    async def resume(self) -> list[str]:
        """Resume whatever is still held (no view changes); the names whose
        pause had been broken meanwhile."""
        broken: list[str] = []
        for name in list(self.held):
            try:
                await move_generation(self._store, name, self.resume_move(name))
            except ConcurrencyError:
                broken.append(name)
            self.released(name)
        return broken
