"""Each role is built in one place, and what it opened is closed again when a
later step fails: an operator who starts a role against a broker or store
that refuses does not leak the connections already made."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.core.errors import Misconfigured
from cqrskit.core.ports import Broker, EventLog, ReadStore
from cqrskit.runtime.embedded import running_system
from cqrskit.runtime.roles import Openers, operator_stores, projector_role
from cqrskit.runtime.settings import Settings
from cqrskit.shop.app import app as SHOP

SETTINGS = Settings(
    event_store_url="memory://", broker_url="memory://", read_store_url="memory://"
)


class ClosingEventStore(InMemoryEventStore):
    closed = False

    async def close(self) -> None:
        self.closed = True
        await super().close()


class ClosingReadStore(InMemoryReadStore):
    closed = False

    async def close(self) -> None:
        self.closed = True
        await super().close()


class Refused:
    """An opener whose service refuses the configuration."""

    async def __call__(self, *args: object) -> Broker:
        raise Misconfigured("the broker refused our credentials")


async def test_the_system_closes_its_stores_when_the_broker_cannot_open() -> None:
    events, views = ClosingEventStore(), ClosingReadStore()

    async def event_store(url: str) -> EventLog:
        return events

    async def read_store(url: str) -> ReadStore:
        return views

    openers = Openers(event_store, read_store, Refused())
    with pytest.raises(Misconfigured):
        async with running_system(SHOP, SETTINGS, openers):
            pass  # pragma: no cover - it never starts
    assert events.closed and views.closed


async def test_a_projector_closes_its_read_store_when_the_broker_cannot_open() -> None:
    views = ClosingReadStore()

    async def read_store(url: str) -> ReadStore:
        return views

    openers = Openers(read_store=read_store, broker=Refused())
    with pytest.raises(Misconfigured):
        async with AsyncExitStack() as stack:
            await projector_role(SHOP, SETTINGS, stack, openers, gap_fill=True)
    assert views.closed


async def test_an_operator_command_closes_its_event_store_on_a_failed_read_store() -> (
    None
):
    events = ClosingEventStore()

    async def event_store(url: str) -> EventLog:
        return events

    async def refused(url: str) -> ReadStore:
        raise Misconfigured("no such Redis database")

    with pytest.raises(Misconfigured):
        async with AsyncExitStack() as stack:
            await operator_stores(SETTINGS, stack, Openers(event_store, refused))
    assert events.closed


async def test_a_role_that_opened_everything_closes_all_of_it_at_the_end() -> None:
    events, views = ClosingEventStore(), ClosingReadStore()

    async def event_store(url: str) -> EventLog:
        return events

    async def read_store(url: str) -> ReadStore:
        return views

    async def broker(url: str, partitions: int) -> Broker:
        return InMemoryBroker(partitions)

    async with running_system(SHOP, SETTINGS, Openers(event_store, read_store, broker)):
        assert not events.closed
    assert events.closed and views.closed
