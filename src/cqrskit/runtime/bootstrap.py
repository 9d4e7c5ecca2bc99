"""Where an application meets the kit: each side of the system built from the
application object and the stores it is given."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from cqrskit.core.application import Application, Kit
from cqrskit.core.consistency import ConsistencyWaiter
from cqrskit.core.dispatcher import Dispatcher
from cqrskit.core.ports import (
    Broker,
    ChangeListener,
    CommitTimes,
    EventLog,
    EventStore,
    Lease,
    PositionStore,
    ReadStore,
    SearchableStore,
    SnapshotStore,
    Watchable,
)
from cqrskit.core.projection import Projection, ProjectionRunner
from cqrskit.core.relay import Relay
from cqrskit.core.snapshots import SnapshotPolicy, Snapshotter
from cqrskit.core.stages import UNMEASURED, StageClock
from cqrskit.core.state_cache import StateCache
from cqrskit.core.viewcache import CachedViews, Listeners, ViewCache
from cqrskit.core.visible import VisibleClock
from cqrskit.runtime.settings import Settings

log = logging.getLogger(__name__)
H = TypeVar("H")
Q = TypeVar("Q")
AnyApplication = Application[Any, Any]


def new_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CommandSide(Generic[H]):
    store: EventStore
    commands: H
    """The application's command handlers."""
    dispatcher: Dispatcher

    async def drain(self) -> None:
        """Let the snapshots being written finish (bounded) before the store
        closes: a snapshot lost here only makes the next load longer."""
        if self.dispatcher.snapshots is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self.dispatcher.snapshots.drain()


@dataclass
class QuerySide(Generic[Q]):
    store: ReadStore
    queries: Q
    """The application's queries object (over the cache of hot views, if any)."""
    waiter: ConsistencyWaiter
    consistency_timeout: float
    fresh: Q
    """The queries object over the store itself: the reads of a request with a
    consistency token (the token's checkpoints are seen on the store; a cached
    view could still wait for its change notice)."""
    views: CachedViews | None = None


@dataclass
class ProjectorSide:
    runner: ProjectionRunner
    projections: list[Projection] = field(default_factory=list)


@dataclass(frozen=True)
class FoldMemory:
    """How the command side remembers folded state (docs/architecture.md,
    "Commands"): streams kept in the cache (0: none), and the snapshot policy
    (`SnapshotPolicy(every=0, slow_load=0)`: no snapshots)."""

    cache_size: int = 10_000
    snapshots: SnapshotPolicy = field(default_factory=SnapshotPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> FoldMemory:
        policy = SnapshotPolicy(settings.snapshot_every, settings.snapshot_slow_load)
        return cls(settings.state_cache_size, policy)


def command_side(
    app: Application[H, Any],
    store: EventStore,
    *,
    clock: Callable[[], datetime] = utc_now,
    on_append: Callable[[], None] | None = None,
    memory: FoldMemory | None = None,
) -> CommandSide[H]:
    """`store` keeps the snapshots too when it is also a SnapshotStore."""
    memory = memory or FoldMemory()
    policy = memory.snapshots
    snapshots = None
    if isinstance(store, SnapshotStore) and (policy.every or policy.slow_load):
        snapshots = Snapshotter(store, policy)
    dispatcher = Dispatcher(
        store,
        app.codec,
        on_append=on_append,
        cache=StateCache(memory.cache_size) if memory.cache_size else None,
        snapshots=snapshots,
        refusals=app.refusals(),
    )
    commands = app.commands(Kit(dispatcher, clock, new_id))
    return CommandSide(store, commands, dispatcher)


def query_side(
    app: Application[Any, Q],
    store: SearchableStore,
    *,
    consistency_timeout: float = 5.0,
    cache_size: int = 10_000,
) -> QuerySide[Q]:
    """With a store that tells of its changes (`Watchable`) and a
    `cache_size`, hot views are served from memory (core/viewcache.py) once
    `watch_changes` runs."""
    projections = app.projection_list()
    waiter = ConsistencyWaiter(store, [(p.name, p.categories) for p in projections])
    fresh = app.queries(store)
    if cache_size and isinstance(store, Watchable):
        views = CachedViews(store, ViewCache(cache_size))
        queries = app.queries(views)
        return QuerySide(store, queries, waiter, consistency_timeout, fresh, views)
    return QuerySide(store, fresh, waiter, consistency_timeout, fresh)


async def watch_changes(
    side: QuerySide[Any],
    stack: contextlib.AsyncExitStack,
    stages: StageClock = UNMEASURED,
) -> None:
    """Tell the side's cache and consistency waiter of the store's changes,
    in the background until `stack` closes (a store that cannot tell: no-op);
    a store that records its commit times also has the applied → visible
    stage timed into `stages`."""
    store = side.store
    if not isinstance(store, Watchable):
        return
    listeners: list[ChangeListener] = []
    if side.views is not None:
        listeners.append(side.views.listener)
    if stages is not UNMEASURED and isinstance(store, CommitTimes):
        listeners.append(VisibleClock(store, stages))
    listener = Listeners(*listeners, side.waiter)
    task = asyncio.create_task(store.watch(listener), name="watch the read store")
    task.add_done_callback(_report_end)
    stack.push_async_callback(_cancelled, task)


def _report_end(task: asyncio.Task[None]) -> None:
    """A watch never returns; one that failed leaves the cache bypassed and
    the consistency wait polling (still correct, slower): say so."""
    if not task.cancelled() and task.exception() is not None:
        log.error("watching the read store stopped: %r", task.exception())


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def projector_side(
    app: AnyApplication,
    store: ReadStore,
    gap_source: EventStore | None,
    *,
    max_failures: int = 5,
) -> ProjectorSide:
    projections = app.projection_list()
    runner = ProjectionRunner(projections, store, gap_source, max_failures=max_failures)
    return ProjectorSide(runner, projections)


RELAY_POLL = 0.5
"""How often a relay reads the log unasked: it hears of commits (CommitFeed),
so a poll only finds what it could not hear of."""


def relay(
    store: EventLog,
    broker: Broker,
    lease: Lease | None = None,
    *,
    positions: PositionStore | None = None,
    stages: StageClock = UNMEASURED,
) -> Relay:
    """A relay that leads by a lease keeps its position through the lease,
    fenced by it; one without keeps it in `positions` (default: the event
    store; the composition root picks, knowing the broker: runtime/roles.py)."""
    if lease is not None:
        positions, fence = lease, lease.valid
    else:
        positions, fence = positions or store, lambda: True
    return Relay(
        store,
        positions,
        broker,
        fence=fence,
        commits=store,
        poll_interval=RELAY_POLL,
        stages=stages,
    )
