"""Every adapter of a port runs that port's contract suite.

To put a new adapter under contract, add one entry to the port's table below:
a name and an async context manager that prepares its storage (a database, a
vhost) and yields a Harness that opens handles on it. Mark entries that need
real services, e.g. `marks=(pytest.mark.integration,)`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
import pytest

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.core.ports import Broker, EventStore, PositionStore, ReadStore
from services import AMQP_URL, POSTGRES_URL, REDIS_URL, require


class Closable(Protocol):
    async def close(self) -> None: ...


class EventLog(EventStore, PositionStore, Protocol):
    """An event store adapter also keeps the relay's positions."""


H = TypeVar("H", bound=Closable)


@dataclass
class Harness(Generic[H]):
    """Opens handles on one adapter's storage and closes them all at the end."""

    opener: Callable[[], Awaitable[H]]
    shares_storage: bool
    """Whether a handle opened later sees what earlier ones wrote (a real file
    or server), so reopening and several writers can be tested."""
    handles: list[H] = field(default_factory=list)

    async def open(self) -> H:
        handle = await self.opener()
        self.handles.append(handle)
        return handle

    async def close_all(self) -> None:
        for handle in reversed(self.handles):
            await handle.close()


@dataclass(frozen=True)
class Adapter(Generic[H]):
    name: str
    prepare: Callable[[Path], AbstractAsyncContextManager[Harness[H]]]
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _private(make: Callable[[], H]) -> Callable[[Path], AsyncIterator[Harness[H]]]:
    """An adapter whose storage lives in the object: each open starts empty."""

    async def opener() -> H:
        return make()

    async def prepare(_: Path) -> AsyncIterator[Harness[H]]:
        yield Harness(opener, shares_storage=False)

    return prepare


@asynccontextmanager
async def _sqlite_event_store(tmp_path: Path) -> AsyncIterator[Harness[EventLog]]:
    async def opener() -> EventLog:
        return await SqliteEventStore.open(tmp_path / "events.sqlite")

    yield Harness(opener, shares_storage=True)


@asynccontextmanager
async def _sqlite_read_store(tmp_path: Path) -> AsyncIterator[Harness[ReadStore]]:
    async def opener() -> ReadStore:
        return await SqliteReadStore.open(tmp_path / "views.sqlite")

    yield Harness(opener, shares_storage=True)


@asynccontextmanager
async def _postgres_event_store(_: Path) -> AsyncIterator[Harness[EventLog]]:
    """Tables in a schema of their own (the store creates it), dropped afterwards."""
    url = require(POSTGRES_URL)
    schema = f"cqrskit_test_{uuid.uuid4().hex[:12]}"

    async def opener() -> EventLog:
        return await PostgresEventStore.open(url, schema=schema, pool_size=4)

    try:
        yield Harness(opener, shares_storage=True)
    finally:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


EVENT_STORES: list[Adapter[EventLog]] = [
    Adapter("memory", asynccontextmanager(_private(InMemoryEventStore))),
    Adapter("sqlite", _sqlite_event_store),
    Adapter("postgres", _postgres_event_store, marks=(pytest.mark.integration,)),
]


@asynccontextmanager
async def _redis_read_store(_: Path) -> AsyncIterator[Harness[ReadStore]]:
    """Keys under a namespace of their own, deleted afterwards (SCAN + UNLINK)."""
    url = require(REDIS_URL)
    namespace = f"contract-{uuid.uuid4().hex[:12]}"

    async def opener() -> ReadStore:
        return await RedisReadStore.open(url, namespace=namespace)

    try:
        yield Harness(opener, shares_storage=True)
    finally:
        cleaner = await RedisReadStore.open(url, namespace=namespace)
        await cleaner.purge()
        await cleaner.close()


READ_STORES: list[Adapter[ReadStore]] = [
    Adapter("memory", asynccontextmanager(_private(InMemoryReadStore))),
    Adapter("sqlite", _sqlite_read_store),
    Adapter("redis", _redis_read_store, marks=(pytest.mark.integration,)),
]


@asynccontextmanager
async def _rabbitmq_broker(_: Path) -> AsyncIterator[Harness[Broker]]:
    """Queues under a prefix of their own, deleted afterwards."""
    url = require(AMQP_URL)
    prefix = f"contract-{uuid.uuid4().hex[:12]}"

    async def opener() -> Broker:
        return await RabbitMqBus.open(
            url, partitions=4, prefix=prefix, retry_delay=0.01
        )

    try:
        yield Harness(opener, shares_storage=True)
    finally:
        await drop_topology(url, prefix=prefix, partitions=4)


BROKERS: list[Adapter[Broker]] = [
    Adapter(
        "memory",
        asynccontextmanager(
            _private(lambda: InMemoryBroker(partitions=4, redelivery_delay=0.01))
        ),
    ),
    Adapter("rabbitmq", _rabbitmq_broker, marks=(pytest.mark.integration,)),
]


def _params(adapters: list[Adapter[Any]]) -> list[Any]:
    return [pytest.param(a, id=a.name, marks=a.marks) for a in adapters]


async def _harness(adapter: Adapter[H], tmp_path: Path) -> AsyncIterator[Harness[H]]:
    async with adapter.prepare(tmp_path) as harness:
        try:
            yield harness
        finally:
            await harness.close_all()


def _reopener(harness: Harness[H]) -> Callable[[], Awaitable[H]]:
    if not harness.shares_storage:
        pytest.skip("each handle of this adapter has storage of its own")
    return harness.open


@pytest.fixture(params=_params(EVENT_STORES))
async def event_store_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Harness[EventLog]]:
    async for harness in _harness(request.param, tmp_path):
        yield harness


@pytest.fixture
async def event_store(event_store_harness: Harness[EventLog]) -> EventLog:
    return await event_store_harness.open()


@pytest.fixture
def position_store(event_store: EventLog) -> PositionStore:
    return event_store


@pytest.fixture
def open_event_store(
    event_store_harness: Harness[EventLog],
) -> Callable[[], Awaitable[EventLog]]:
    """Another handle on the same storage (skips adapters without shared storage)."""
    return _reopener(event_store_harness)


@pytest.fixture(params=_params(READ_STORES))
async def read_store_harness(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Harness[ReadStore]]:
    async for harness in _harness(request.param, tmp_path):
        yield harness


@pytest.fixture
async def read_store(read_store_harness: Harness[ReadStore]) -> ReadStore:
    return await read_store_harness.open()


@pytest.fixture
def open_read_store(
    read_store_harness: Harness[ReadStore],
) -> Callable[[], Awaitable[ReadStore]]:
    """Another handle on the same storage (skips adapters without shared storage)."""
    return _reopener(read_store_harness)


@pytest.fixture(params=_params(BROKERS))
async def broker(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Broker]:
    async for harness in _harness(request.param, tmp_path):
        yield await harness.open()
