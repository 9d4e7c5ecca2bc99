"""The relay's leadership moves from a frozen leader to the standby within
its bound, and the old leader is fenced: two `cqrskit relay` processes on a
fresh database, the active one frozen with SIGSTOP, then resumed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from harness import free_port
from private_services import Role

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.rabbitmq import RabbitMqBus, drop_topology
from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from services import AMQP_URL, POSTGRES_URL, require

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

BOUND = 10.0
"""The stated bound for the standby to lead after the leader froze."""
WAIT = 20.0


@dataclass
class Storage:
    token: str = field(default_factory=lambda: f"lead{uuid.uuid4().hex[:10]}")

    @property
    def database_url(self) -> str:
        return urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{self.token}"))

    @property
    def broker_url(self) -> str:
        return f"{AMQP_URL}?prefix={self.token}"


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    require(POSTGRES_URL)
    require(AMQP_URL)
    made = Storage()
    await _admin(f'CREATE DATABASE "{made.token}"')
    try:
        yield made
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{made.token}" WITH (FORCE)')
        await drop_topology(AMQP_URL, prefix=made.token)


@pytest.fixture
def relays(storage: Storage, tmp_path: Path) -> Iterator[list[Role]]:
    env = {
        "CQRSKIT_EVENT_STORE_URL": storage.database_url,
        "CQRSKIT_BROKER_URL": storage.broker_url,
    }
    made = [
        Role(["relay"], env, free_port(), tmp_path / f"relay{n}.log") for n in (1, 2)
    ]
    yield made
    for role in made:
        role.kill()


def metric(role: Role, name: str) -> float:
    text = httpx.get(f"{role.url}/metrics", timeout=2).text
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, f"{name} not served by {role.url}"
    return float(match.group(1))


async def eventually(check: Callable[[], bool], what: str) -> float:
    """Poll `check` (a callable) without blocking the loop; return seconds taken."""
    started = time.monotonic()
    while True:
        try:
            if await asyncio.to_thread(check):
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > WAIT:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


class Appender:
    def __init__(self, store: PostgresEventStore) -> None:
        self.store = store

    async def append(self, count: int) -> set[tuple[str, int]]:
        written = set()
        for _ in range(count):
            stream = f"s-{uuid.uuid4().hex[:8]}"
            event = NewEvent("Happened", {"n": 1})
            await self.store.append(
                [StreamAppend(stream, 0, [event])], metadata=Metadata()
            )
            written.add((stream, 1))
        return written


async def position(storage: Storage) -> int:
    conn = await asyncpg.connect(storage.database_url)
    try:
        value: int = await conn.fetchval(
            "SELECT position FROM positions WHERE name = 'relay'"
        )
    finally:
        await conn.close()
    return value


async def test_a_frozen_leader_is_replaced_within_the_bound_and_fenced(
    storage: Storage, relays: list[Role]
) -> None:
    store = await PostgresEventStore.open(storage.database_url, pool_size=2)
    bus = await RabbitMqBus.open(AMQP_URL, partitions=8, prefix=storage.token)
    received: set[tuple[str, int]] = set()

    async def collect(_: int, events: Sequence[RecordedEvent]) -> None:
        received.update((e.stream_id, e.version) for e in events)

    consuming = asyncio.create_task(bus.consume(collect))
    appender = Appender(store)
    try:
        for role in relays:
            role.start()
        for role in relays:
            await eventually(lambda r=role: r.status("/readyz") == 200, "ready")
        await eventually(
            lambda: sum(metric(r, "cqrskit_relay_leader") for r in relays) == 1,
            "exactly one leader",
        )
        leader, standby = sorted(
            relays, key=lambda r: -metric(r, "cqrskit_relay_leader")
        )
        first = await appender.append(3)
        await eventually(lambda: first <= received, "events before the freeze")
        published_before = metric(leader, "cqrskit_relay_published_events_total")

        os.kill(leader.pid, signal.SIGSTOP)
        took = await eventually(
            lambda: metric(standby, "cqrskit_relay_leader") == 1, "the standby to lead"
        )
        print(f"\nthe standby led {took:.1f} s after the leader froze")
        assert took <= BOUND, f"took {took:.1f} s, over the bound of {BOUND} s"
        second = await appender.append(3)
        await eventually(lambda: second <= received, "events while frozen")
        position_before = await position(storage)

        os.kill(leader.pid, signal.SIGCONT)
        await eventually(
            lambda: metric(leader, "cqrskit_relay_leader") == 0,
            "the old leader to step down",
        )
        assert (
            metric(leader, "cqrskit_relay_published_events_total") == published_before
        )
        assert await position(storage) == position_before
        assert metric(standby, "cqrskit_relay_leader") == 1

        third = await appender.append(3)
        await eventually(lambda: third <= received, "events after the resume")
        assert await position(storage) > position_before
        assert (
            metric(leader, "cqrskit_relay_published_events_total") == published_before
        )
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await bus.close()
        await store.close()
