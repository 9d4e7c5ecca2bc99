"""`cqrskit rebuild`: read models rebuilt from the event store, with progress."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from cqrskit.core.application import Application
from cqrskit.core.ports import EventLog, FullReadStore
from cqrskit.core.projection import Projection
from cqrskit.core.rebuild import rebuild
from cqrskit.runtime.progress import Progress
from cqrskit.runtime.redaction import masked
from cqrskit.runtime.roles import operator_stores
from cqrskit.runtime.settings import Settings

_YOUNG_OBJECTS = 20_000
"""Allocations between two passes of the collector over young objects."""


class UnknownProjection(ValueError):
    pass


def chosen_projections(
    app: Application[Any, Any], name: str | None
) -> list[Projection]:
    """The application's projections, or the one named (UnknownProjection if
    none)."""
    projections = app.projection_list()
    if name is None:
        return projections
    chosen = [p for p in projections if p.name == name]
    if not chosen:
        known = ", ".join(p.name for p in projections)
        raise UnknownProjection(f"no projection {name!r}; there are: {known}")
    return chosen


@asynccontextmanager
async def both_stores(
    settings: Settings,
) -> AsyncIterator[tuple[EventLog, FullReadStore]]:
    """The event store and the read store of an operator's command; whichever
    opened is closed again, also when the other one could not open."""
    async with AsyncExitStack() as stack:
        yield await operator_stores(settings, stack)


@dataclass(frozen=True)
class OperatorRun:
    """An operator's pass over the log: the stores, the projections chosen,
    progress, and when it started."""

    store: EventLog
    target: FullReadStore
    projections: list[Projection]
    names: str
    progress: Progress
    started: float

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@asynccontextmanager
async def operator_run(
    app: Application[Any, Any],
    settings: Settings,
    name: str | None,
    heading: str,
    out: Callable[[str], None],
    live: bool = False,
) -> AsyncIterator[OperatorRun]:
    """Open both stores and print `heading` (with `{names}` and `{url}`, the
    event store's, masked) before the pass starts; `live`: progress redrawn
    in place (a terminal)."""
    projections = chosen_projections(app, name)
    async with both_stores(settings) as (store, target):
        names = ", ".join(p.name for p in projections)
        out(heading.format(names=names, url=masked(settings.event_store_url)))
        progress = Progress(out, head=await store.head(), live=live)
        try:
            yield OperatorRun(
                store, target, projections, names, progress, time.monotonic()
            )
        finally:
            progress.finish()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """What is loaded by now lives as long as the process: left out of the
    collector's passes. And a page makes tens of thousands of objects that live
    until it is applied: at the default threshold (700 allocations) the
    collector ran about 900 times over 200,000 events, 8 % of the time."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_YOUNG_OBJECTS, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def rebuild_views(
    app: Application[Any, Any],
    settings: Settings,
    name: str | None,
    *,
    page: int = 5000,
    out: Callable[[str], None] = print,
    live: bool = False,
) -> int:
    heading = "rebuilding {names} from {url}"
    with fewer_collections():
        async with operator_run(app, settings, name, heading, out, live) as run:
            total = await rebuild(
                run.store,
                run.target,
                run.projections,
                page=page,
                progress=run.progress,
                partitions=settings.partitions,
            )
            run.progress.finish()
            # hundredths: the benchmark reads its rate from this line
            took = f"{total:,} events in {run.elapsed:.2f} s"
            out(f"rebuilt {run.names}: {took}, swapped in")
            return total
