"""The whole system in one process: both services, relay and projector, on
the adapters the settings name (embedded ones by default). Its composition
root is `running_system`: one exit stack, so whatever opened is closed again
when a later step fails, and everything in reverse order at the end."""

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
from cqrskit.core.stages import timed
from cqrskit.runtime import bootstrap
from cqrskit.runtime.bootstrap import CommandSide, ProjectorSide, QuerySide
from cqrskit.runtime.lag import SyncStageMetrics
from cqrskit.runtime.roles import DEFAULT, Openers, query_side_on, relay_positions
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
    stages: SyncStageMetrics


@contextlib.asynccontextmanager
async def running_system(
    app: Application[Any, Any], settings: Settings, openers: Openers = DEFAULT
) -> AsyncIterator[System]:
    async with contextlib.AsyncExitStack() as stack:
        event_store = await openers.events(stack, settings)
        read_store = await openers.views(stack, settings)
        broker = await openers.bus(stack, settings)
        positions = relay_positions(settings, event_store)
        stages = SyncStageMetrics()
        relay = bootstrap.relay(event_store, broker, positions=positions, stages=stages)
        memory = bootstrap.FoldMemory.from_settings(settings)
        command = bootstrap.command_side(
            app, event_store, on_append=relay.wake, memory=memory
        )
        stack.push_async_callback(command.drain)
        query = await query_side_on(app, read_store, settings, stack, stages)
        projector = bootstrap.projector_side(
            app, read_store, event_store, max_failures=settings.max_failures
        )
        tasks = [
            asyncio.create_task(relay.run(), name="relay"),
            asyncio.create_task(
                broker.consume(timed(projector.runner.handle, stages)),
                name="projector",
            ),
        ]
        stack.push_async_callback(_stop, tasks)
        yield System(
            event_store, read_store, broker, relay, command, query, projector, stages
        )


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def borrowed(value: T) -> AsyncIterator[T]:
    """Hands an already-open side to an app whose lifespan must not close it."""
    yield value
