"""The whole system in one process: both services, relay and projector, on
the adapters the settings name (embedded ones by default)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

from cqrskit.core.application import Application
from cqrskit.core.ports import Broker, EventLog, ReadStore
from cqrskit.core.relay import Relay
from cqrskit.runtime import adapters, bootstrap
from cqrskit.runtime.bootstrap import CommandSide, ProjectorSide, QuerySide
from cqrskit.runtime.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class System:
    event_store: EventLog
    read_store: ReadStore
    broker: Broker
    relay: Relay
    command: CommandSide[Any]
    query: QuerySide[Any]
    projector: ProjectorSide


@contextlib.asynccontextmanager
async def running_system(
    app: Application[Any, Any], settings: Settings
) -> AsyncIterator[System]:
    event_store = await adapters.open_event_store(settings.event_store_url)
    read_store = await adapters.open_read_store(settings.read_store_url)
    broker = await adapters.open_broker(settings.broker_url, settings.partitions)
    relay = bootstrap.relay(event_store, broker)
    system = System(
        event_store=event_store,
        read_store=read_store,
        broker=broker,
        relay=relay,
        command=bootstrap.command_side(
            app,
            event_store,
            on_append=relay.wake,
            memory=bootstrap.FoldMemory.from_settings(settings),
        ),
        query=bootstrap.query_side(
            app, read_store, consistency_timeout=settings.consistency_timeout
        ),
        projector=bootstrap.projector_side(
            app, read_store, event_store, max_failures=settings.max_failures
        ),
    )
    tasks = [
        asyncio.create_task(relay.run(), name="relay"),
        asyncio.create_task(
            broker.consume(system.projector.runner.handle), name="projector"
        ),
    ]
    try:
        yield system
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await system.command.drain()
        await broker.close()
        await read_store.close()
        await event_store.close()


@contextlib.asynccontextmanager
async def borrowed(value: T) -> AsyncIterator[T]:
    """Hands an already-open side to an app whose lifespan must not close it."""
    yield value
