"""Rebuilding read models straight from the event store (not through the broker).

The projections are applied to a scratch store beside the live one; then each
projection's views are swapped in atomically; then a last pass applies what
was appended meanwhile (the version guard makes it safe beside live projectors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from cqrskit.core.ports import EventStore, ReadStore, Rebuildable
from cqrskit.core.projection import Projection, ProjectionRunner

Progress = Callable[[int, int], None]
"""Called with (events applied so far, log position reached)."""


class RebuildableStore(ReadStore, Rebuildable, Protocol):
    pass


async def _replay(
    store: EventStore,
    runner: ProjectionRunner,
    after: int,
    page: int,
    progress: Progress,
    done: int = 0,
) -> tuple[int, int]:
    position = after
    while events := await store.read_all(position, page):
        await runner.handle(0, events)
        position = events[-1].position
        done += len(events)
        progress(done, position)
    return done, position


async def rebuild(
    store: EventStore,
    target: RebuildableStore,
    projections: Sequence[Projection],
    *,
    page: int = 1000,
    progress: Progress = lambda done, position: None,
) -> int:
    """Rebuild `projections` on `target`; return how many events were read."""
    scratch = await target.scratch()
    try:
        fresh = ProjectionRunner(projections, scratch, store)
        done, position = await _replay(store, fresh, 0, page, progress)
        for projection in projections:
            await target.adopt(scratch, projection.name, projection.prefixes)
    finally:
        await scratch.close()
    live = ProjectionRunner(projections, target, store)
    done, _ = await _replay(store, live, position, page, progress, done)
    return done
