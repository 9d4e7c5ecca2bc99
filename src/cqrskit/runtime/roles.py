"""One composition root per role.

Each role of the system (the command service, the query service, the relay,
a projector, the operator's commands) is built in one function here, on an
`AsyncExitStack` the caller owns: every adapter is closed with the stack,
so one that opened is closed again when a later step fails. The one-process
system is built the same way in runtime/embedded.py. A test builds a role
with `Openers` that hand out fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.core.application import Application
from cqrskit.core.backoff import until_available
from cqrskit.core.ports import (
    Broker,
    EventLog,
    FullReadStore,
    Lease,
    PositionStore,
    ReadStore,
    SearchableStore,
)
from cqrskit.core.relay import Relay
from cqrskit.core.stages import UNMEASURED, StageClock
from cqrskit.runtime import adapters, bootstrap
from cqrskit.runtime.bootstrap import CommandSide, ProjectorSide, QuerySide
from cqrskit.runtime.settings import Settings

AnyApplication = Application[Any, Any]


class _Closable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


def _open_event_store(url: str) -> Awaitable[EventLog]:
    return adapters.open_event_store(url)


def _open_read_store(url: str) -> Awaitable[FullReadStore]:
    return adapters.open_read_store(url)


def _open_broker(url: str, partitions: int) -> Awaitable[Broker]:
    return adapters.open_broker(url, partitions)


@dataclass(frozen=True)
class Openers:
    """How a role opens its adapters. `patient`: wait for an unreachable
    service as long as it takes (the relay and projector processes) instead
    of failing at once."""

    event_store: Callable[[str], Awaitable[EventLog]] = _open_event_store
    read_store: Callable[[str], Awaitable[FullReadStore]] = _open_read_store
    broker: Callable[[str, int], Awaitable[Broker]] = _open_broker
    patient: bool = False

    async def open(
        self,
        stack: AsyncExitStack,
        what: str,
        opener: Callable[..., Awaitable[C]],
        *args: Any,
    ) -> C:
        """Open an adapter; it is closed with `stack`."""
        if self.patient:
            opened = await until_available(lambda: opener(*args), what)
        else:
            opened = await opener(*args)
        stack.push_async_callback(opened.close)
        return opened

    async def events(self, stack: AsyncExitStack, settings: Settings) -> EventLog:
        url = settings.event_store_url
        return await self.open(stack, "the event store", self.event_store, url)

    async def views(self, stack: AsyncExitStack, settings: Settings) -> FullReadStore:
        url = settings.read_store_url
        return await self.open(stack, "the read store", self.read_store, url)

    async def bus(self, stack: AsyncExitStack, settings: Settings) -> Broker:
        url, partitions = settings.broker_url, settings.partitions
        return await self.open(stack, "the broker", self.broker, url, partitions)


DEFAULT = Openers()
PATIENT = Openers(patient=True)


async def command_role(
    app: AnyApplication,
    settings: Settings,
    stack: AsyncExitStack,
    openers: Openers = DEFAULT,
) -> CommandSide[Any]:
    """The command service's side: the event store alone."""
    store = await openers.events(stack, settings)
    memory = bootstrap.FoldMemory.from_settings(settings)
    side = bootstrap.command_side(app, store, memory=memory)
    stack.push_async_callback(side.drain)
    return side


async def query_role(
    app: AnyApplication,
    settings: Settings,
    stack: AsyncExitStack,
    openers: Openers = DEFAULT,
    *,
    stages: StageClock = UNMEASURED,
) -> QuerySide[Any]:
    """The query service's side: the read store alone (DESIGN.md rule 5);
    it times the applied → visible stage into `stages`."""
    store = await openers.views(stack, settings)
    return await query_side_on(app, store, settings, stack, stages)


async def query_side_on(
    app: AnyApplication,
    store: SearchableStore,
    settings: Settings,
    stack: AsyncExitStack,
    stages: StageClock = UNMEASURED,
) -> QuerySide[Any]:
    """The query side on an open read store, as the settings size it, its
    cache of hot views told of changes until `stack` closes."""
    side = bootstrap.query_side(
        app,
        store,
        consistency_timeout=settings.consistency_timeout,
        cache_size=settings.view_cache_size,
    )
    await bootstrap.watch_changes(side, stack, stages)
    return side


async def operator_stores(
    settings: Settings, stack: AsyncExitStack, openers: Openers = DEFAULT
) -> tuple[EventLog, FullReadStore]:
    """The event store and the read store of rebuild, verify and dlq."""
    return await openers.events(stack, settings), await openers.views(stack, settings)


@dataclass
class ProjectorRole:
    read_store: ReadStore
    broker: Broker
    side: ProjectorSide
    event_store: EventLog | None = None
    """Where gaps are filled from (None without gap filling)."""


async def projector_role(
    app: AnyApplication,
    settings: Settings,
    stack: AsyncExitStack,
    openers: Openers = PATIENT,
    *,
    gap_fill: bool,
    on_read_store: Callable[[ReadStore], None] = lambda _: None,
) -> ProjectorRole:
    """A projector: its read store, the broker, and (to fill gaps) the event
    store. `on_read_store` learns of the read store as soon as it is open
    (readiness probes)."""
    read_store = await openers.views(stack, settings)
    on_read_store(read_store)
    broker = await openers.bus(stack, settings)
    event_store = await openers.events(stack, settings) if gap_fill else None
    side = bootstrap.projector_side(
        app, read_store, event_store, max_failures=settings.max_failures
    )
    return ProjectorRole(read_store, broker, side, event_store)


def relay_positions(settings: Settings, store: EventLog) -> PositionStore:
    """Where a relay without a lease keeps its position: in the event store
    for a broker that keeps what it was given; in memory for one that forgets
    on restart (memory://), so the relay starts from the top of the log each
    time and the projections drop what they already applied."""
    if settings.broker_url.startswith("memory://"):
        return InMemoryEventStore()
    return store


@dataclass
class RelayRole:
    store: EventLog
    broker: Broker
    lease: Lease
    relay: Relay


async def relay_role(
    settings: Settings,
    stack: AsyncExitStack,
    openers: Openers = PATIENT,
    *,
    on_store: Callable[[EventLog], None] = lambda _: None,
    stages: StageClock = UNMEASURED,
) -> RelayRole:
    """A relay process: the event store, the broker and the relay lease
    (which keeps the position, fenced by it); the relay times its stages on
    `stages`."""
    store = await openers.events(stack, settings)
    on_store(store)
    broker = await openers.bus(stack, settings)
    lease = adapters.open_lease(settings.event_store_url, "relay", store)
    relay = bootstrap.relay(store, broker, lease, stages=stages)
    return RelayRole(store, broker, lease, relay)
