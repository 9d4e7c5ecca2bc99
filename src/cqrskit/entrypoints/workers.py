"""The background roles as processes: the relay and the projector.

Each serves /healthz, /readyz and /metrics on its own port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge

from cqrskit.core.application import Application
from cqrskit.core.leadership import lead_forever
from cqrskit.core.ports import Broker, EventLog, ReadStore
from cqrskit.core.relay import Relay
from cqrskit.core.stages import timed
from cqrskit.entrypoints.http.metrics import CountersOf, new_registry
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.entrypoints.http.traced import instrumented
from cqrskit.runtime import adapters, sharing
from cqrskit.runtime.deadletters import DeadLetterGauges
from cqrskit.runtime.lag import LagMetrics, SyncStageMetrics
from cqrskit.runtime.roles import projector_role, relay_role
from cqrskit.runtime.servers import Servers
from cqrskit.runtime.settings import Settings

log = logging.getLogger(__name__)
_SUBSCRIBED_PROBE = 0.05
"""How long a readiness probe waits to see the broker subscribed everywhere."""


class NeedsDurableBroker(ValueError):
    pass


def _ops_app(
    title: str, ready: Callable[[], Awaitable[bool]], registry: CollectorRegistry
) -> FastAPI:
    app = FastAPI(title=title, openapi_url=None)
    add_ops_routes(app, ready, registry)
    return instrumented(app)  # so that probes are not traced


async def _serve_until_stopped(
    work: Awaitable[None], app: FastAPI, host: str, port: int
) -> None:
    servers = Servers([(app, host, port)])
    worker = asyncio.ensure_future(work)
    serving = asyncio.create_task(servers.serve())
    done, _ = await asyncio.wait({worker, serving}, return_when=asyncio.FIRST_COMPLETED)
    servers.stop()
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    await serving
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def _serve_with_stack(
    work: Callable[[AsyncExitStack], Awaitable[None]],
    app: FastAPI,
    host: str,
    port: int,
) -> None:
    """Serve `app` while `work` runs; what `work` opened on the stack is closed
    after both have stopped."""
    async with AsyncExitStack() as stack:
        await _serve_until_stopped(work(stack), app, host, port)


async def run_relay(settings: Settings, host: str, port: int) -> None:
    """Publish the log to the broker while holding the relay lease; a standby
    waits for the lease and takes over when the active relay dies, freezes or
    is cut off. Whatever is unreachable is waited for, never a reason to exit:
    /healthz answers meanwhile and /readyz says 503."""
    if settings.broker_url.startswith("memory://"):
        raise NeedsDurableBroker(
            "a relay process needs a broker other processes reach (amqp://)"
        )
    adapters.check_url("event store", settings.event_store_url)
    adapters.check_url("broker", settings.broker_url)
    registry = new_registry()
    leader = Gauge(
        "cqrskit_relay_leader", "1 while this relay holds the lease", registry=registry
    )
    state = _RelayState()
    registry.register(relay_counters(lambda: state.relay))
    Gauge(
        "cqrskit_relay_position",
        "Position in the global log of the last event this relay published",
        registry=registry,
    ).set_function(lambda: float(state.relay.position if state.relay else 0))

    lags = LagMetrics(lambda: state.store, relay=lambda: state.relay)
    registry.register(lags)
    stages = SyncStageMetrics()
    registry.register(stages)

    def on_change(leading: bool) -> None:
        state.leading = leading
        leader.set(1 if leading else 0)

    async def work(stack: AsyncExitStack) -> None:
        role = await relay_role(settings, stack, on_store=state.opened, stages=stages)
        state.relay = role.relay
        watching = asyncio.create_task(lags.watch())
        stack.callback(watching.cancel)
        await lead_forever(role.lease, role.relay, on_change=on_change)

    app = _ops_app("cqrskit relay", state.ready, registry)
    await _serve_with_stack(work, app, host, port)


@dataclass
class _RelayState:
    store: EventLog | None = None
    relay: Relay | None = None
    leading: bool = False

    def opened(self, store: EventLog) -> None:
        self.store = store

    async def ready(self) -> bool:
        """A standby is ready when its store answers; the leader when its
        last attempt to publish (store and broker) succeeded too."""
        if self.store is None or self.relay is None:
            return False
        await self.store.load_position("readyz")
        return not (self.leading and self.relay.failing)


async def run_projector(
    app: Application[Any, Any],
    settings: Settings,
    host: str,
    port: int,
    *,
    gap_fill: bool,
    name: str | None = None,
) -> None:
    """Apply this process's share of the partitions (single active consumer per
    partition), shared out anew as projectors come and go; the others take a
    dead one's partitions over at once."""
    if settings.broker_url.startswith("memory://"):
        raise NeedsDurableBroker(
            "a projector process needs a broker other processes reach (amqp://)"
        )
    adapters.check_url("read store", settings.read_store_url)
    adapters.check_url("broker", settings.broker_url)
    if gap_fill:
        adapters.check_url("event store", settings.event_store_url)
    registry = new_registry()
    dead_letters = DeadLetterGauges(registry)
    stages = SyncStageMetrics()
    registry.register(stages)
    state = _ProjectorState()

    async def work(stack: AsyncExitStack) -> None:
        role = await projector_role(
            app, settings, stack, gap_fill=gap_fill, on_read_store=state.opened
        )
        state.broker = role.broker
        projector = role.side
        registry.register(projector_counters(lambda: projector.runner))
        projections = list(projector.projections)
        watching = asyncio.create_task(dead_letters.watch(role.read_store, projections))
        stack.callback(watching.cancel)
        if role.event_store is not None:  # lag is read from the log
            lags = LagMetrics(
                lambda: role.event_store,
                views=lambda: role.read_store,
                projections=projections,
                partitions=settings.partitions,
            )
            registry.register(lags)
            lagging = asyncio.create_task(lags.watch())
            stack.callback(lagging.cancel)
        await sharing.consume_shared(
            role.broker,
            timed(projector.runner.handle, stages),
            settings.read_store_url,
            sharing.member_id(name),
            registry,
        )

    ops = _ops_app("cqrskit projector", state.ready, registry)
    await _serve_with_stack(work, ops, host, port)


@dataclass
class _ProjectorState:
    read_store: ReadStore | None = None
    broker: Broker | None = None

    def opened(self, read_store: ReadStore) -> None:
        self.read_store = read_store

    async def ready(self) -> bool:
        """Its read store answers and it is subscribed to every partition
        (active or standing by): a projector cut off from RabbitMQ is not."""
        if self.read_store is None or self.broker is None:
            return False
        await self.read_store.get("readyz")
        try:
            async with asyncio.timeout(_SUBSCRIBED_PROBE):
                await self.broker.subscribed()
        except TimeoutError:
            return False
        return True


def relay_counters(relay: Callable[[], object | None]) -> CountersOf:
    return CountersOf(
        relay, [("cqrskit_relay_published_events", "Events published", "published")]
    )


def projector_counters(runner: Callable[[], object | None]) -> CountersOf:
    counters = [
        (
            "cqrskit_projector_applied_events",
            "Events applied to read models",
            "applied",
        ),
        (
            "cqrskit_projector_duplicate_events",
            "Duplicate deliveries ignored",
            "duplicates",
        ),
        (
            "cqrskit_projector_gap_filled_events",
            "Events fetched from the event store to fill a gap",
            "gaps_filled",
        ),
    ]
    return CountersOf(runner, counters)
