"""The one place where adapters, the core and the shop are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.core.codec import EventCodec
from cqrskit.core.consistency import ConsistencyWaiter
from cqrskit.core.dispatcher import Dispatcher
from cqrskit.core.ports import (
    Broker,
    EventLog,
    EventStore,
    Lease,
    PositionStore,
    ReadStore,
    SearchableStore,
    SnapshotStore,
)
from cqrskit.core.projection import Projection, ProjectionRunner
from cqrskit.core.relay import Relay
from cqrskit.core.snapshots import SnapshotPolicy, Snapshotter
from cqrskit.core.state_cache import StateCache
from cqrskit.runtime.settings import Settings
from cqrskit.shop.domain.events import shop_codec
from cqrskit.shop.payments import DeterministicGateway, PaymentGateway
from cqrskit.shop.queries import ShopQueries
from cqrskit.shop.service import ShopCommands
from cqrskit.shop.views import shop_projections


def new_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CommandSide:
    store: EventStore
    commands: ShopCommands
    gateway: PaymentGateway
    dispatcher: Dispatcher

    async def drain(self) -> None:
        """Let the snapshots being written finish (bounded) before the store
        closes: a snapshot lost here only makes the next load longer."""
        if self.dispatcher.snapshots is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self.dispatcher.snapshots.drain()


@dataclass
class QuerySide:
    store: ReadStore
    queries: ShopQueries
    waiter: ConsistencyWaiter
    consistency_timeout: float


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
    store: EventStore,
    *,
    gateway: PaymentGateway | None = None,
    codec: EventCodec | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_append: Callable[[], None] | None = None,
    memory: FoldMemory | None = None,
) -> CommandSide:
    """`store` keeps the snapshots too when it is also a SnapshotStore."""
    gateway = gateway or DeterministicGateway(clock)
    memory = memory or FoldMemory()
    policy = memory.snapshots
    snapshots = None
    if isinstance(store, SnapshotStore) and (policy.every or policy.slow_load):
        snapshots = Snapshotter(store, policy)
    dispatcher = Dispatcher(
        store,
        codec or shop_codec(),
        on_append=on_append,
        cache=StateCache(memory.cache_size) if memory.cache_size else None,
        snapshots=snapshots,
    )
    commands = ShopCommands(dispatcher, gateway, clock=clock, new_id=new_id)
    return CommandSide(store, commands, gateway, dispatcher)


def query_side(
    store: SearchableStore, *, consistency_timeout: float = 5.0
) -> QuerySide:
    projections = shop_projections(shop_codec())
    waiter = ConsistencyWaiter(store, [(p.name, p.categories) for p in projections])
    return QuerySide(store, ShopQueries(store), waiter, consistency_timeout)


def projector_side(
    store: ReadStore, gap_source: EventStore | None, *, max_failures: int = 5
) -> ProjectorSide:
    projections = shop_projections(shop_codec())
    runner = ProjectionRunner(projections, store, gap_source, max_failures=max_failures)
    return ProjectorSide(runner, projections)


def relay(store: EventLog, broker: Broker, lease: Lease | None = None) -> Relay:
    """A broker that forgets on restart gets a relay that starts from the top
    of the log on each start (projections drop what they already applied);
    a durable broker gets the position kept in the event store. A relay that
    leads by a lease keeps its position through the lease, fenced by it."""
    if lease is not None:
        return Relay(store, lease, broker, fence=lease.valid)
    positions: PositionStore = store if broker.durable else InMemoryEventStore()
    return Relay(store, positions, broker)
