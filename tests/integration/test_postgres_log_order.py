"""The global log never skips on PostgreSQL (DESIGN.md rule 3), proven by commits
in a shuffled order; and migrations from several processes at once."""

from __future__ import annotations

import asyncio
import random
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.adapters.postgres._statements import APPEND, MIGRATIONS, plan_append
from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration

META = Metadata(command_id="cmd-1")


@dataclass(frozen=True)
class Schema:
    url: str
    name: str

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.url, server_settings={"search_path": f'"{self.name}"'}
        )

    async def open(self, settle_timeout: float = 1.0) -> PostgresEventStore:
        return await PostgresEventStore.open(
            self.url, schema=self.name, pool_size=8, settle_timeout=settle_timeout
        )


@pytest.fixture
async def schema() -> AsyncIterator[Schema]:
    """A schema of this test's own, dropped afterwards (the store creates it)."""
    url = require(POSTGRES_URL)
    name = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    yield Schema(url, name)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


def batch(stream_id: str, expected: int, count: int) -> list[StreamAppend]:
    new = [NewEvent(f"E{expected + i + 1}", {"i": i}) for i in range(count)]
    return [StreamAppend(stream_id, expected, new)]


@dataclass
class HeldAppend:
    """An append in a transaction that this test commits, or rolls back, when it
    says so. With `xid_first` the transaction takes its id at once and writes
    only when told, so its positions come after those of younger transactions;
    otherwise it writes at once, so younger transactions commit positions after
    its own while it is still open."""

    schema: Schema
    stream_id: str
    xid_first: bool
    commit: bool = True
    write: asyncio.Event = field(default_factory=asyncio.Event)
    finish: asyncio.Event = field(default_factory=asyncio.Event)
    begun: asyncio.Event = field(default_factory=asyncio.Event)
    written: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        conn = await self.schema.connect()
        try:
            tx = conn.transaction()
            await tx.start()
            if self.xid_first:
                await conn.fetchval("SELECT pg_current_xact_id()")
                self.begun.set()
                await self.write.wait()
            plan = plan_append(batch(self.stream_id, 0, 3), META, datetime.now(UTC))
            await conn.fetch(APPEND, *plan.args)
            self.begun.set()
            self.written.set()
            await self.finish.wait()
            await (tx.commit() if self.commit else tx.rollback())
        finally:
            await conn.close()


Read = Callable[[int], Awaitable[list[tuple[int, str, int]]]]


@dataclass
class Tail:
    """A reader that pages through the log from where it last was."""

    read: Read
    seen: list[tuple[int, str, int]] = field(default_factory=list)
    moved: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def last(self) -> int:
        return self.seen[-1][0] if self.seen else 0

    async def follow(self, stop: asyncio.Event, until: list[int] | None) -> None:
        """Read until stopped; then on until a page comes back empty once it has
        seen as many events as `until` holds (for at most a few seconds)."""
        loop = asyncio.get_running_loop()
        give_up: float | None = None
        while True:
            stopped = stop.is_set()
            page = await self.read(self.last)
            self.seen.extend(page)
            if page:
                self.moved.set()
                continue
            if stopped:
                give_up = give_up or loop.time() + 3.0
                if until is None or len(self.seen) >= len(until):
                    return
                if loop.time() > give_up:
                    return
            await asyncio.sleep(0.002)

    async def passed(self, position: int) -> None:
        while self.last < position:
            self.moved.clear()
            await self.moved.wait()


def xid8_reader(store: PostgresEventStore) -> Read:
    async def read(after: int) -> list[tuple[int, str, int]]:
        return [_key(r) for r in await store.read_all(after, 5)]

    return read


def naive_reader(conn: asyncpg.Connection) -> Read:
    async def read(after: int) -> list[tuple[int, str, int]]:
        rows = await conn.fetch(
            "SELECT position, stream_id, version FROM events"
            " WHERE position > $1 ORDER BY position LIMIT 5",
            after,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    return read


def _key(record: RecordedEvent) -> tuple[int, str, int]:
    return (record.position, record.stream_id, record.version)


async def test_a_tailing_reader_sees_every_event_once_when_commits_are_shuffled(
    schema: Schema,
) -> None:
    writers = await schema.open()
    reader_store = await schema.open(settle_timeout=0.05)
    naive_conn = await schema.connect()
    rng = random.Random(7)
    held = [
        HeldAppend(schema, f"held-{i}", xid_first=i % 2 == 0, commit=i not in (3, 6))
        for i in range(10)
    ]
    stop = asyncio.Event()
    expected: list[int] = []
    proper, naive = Tail(xid8_reader(reader_store)), Tail(naive_reader(naive_conn))
    free_versions: dict[str, int] = {}

    async def free_appends(count: int) -> list[RecordedEvent]:
        async def one(i: int) -> list[RecordedEvent]:
            stream = f"free-{i}"
            version = free_versions.get(stream, 0)
            free_versions[stream] = version + 2
            return await writers.append(batch(stream, version, 2), metadata=META)

        done = await asyncio.gather(*(one(i) for i in range(count)))
        return [r for records in done for r in records]

    try:
        readers = [
            asyncio.create_task(proper.follow(stop, expected)),
            asyncio.create_task(naive.follow(stop, None)),
        ]
        holders = [asyncio.create_task(h.run()) for h in held]
        await asyncio.gather(*(h.begun.wait() for h in held))

        # Younger transactions commit positions past those of the open ones,
        # and the naive reader moves past them.
        younger = await free_appends(6)
        await asyncio.wait_for(naive.passed(max(r.position for r in younger)), 10)
        # The older transactions that took their id first now write positions
        # past those, then everything commits in a shuffled order.
        for h in held:
            h.write.set()
        await asyncio.gather(*(h.written.wait() for h in held))
        for h in rng.sample(held, len(held)):
            await free_appends(rng.randint(1, 4))
            h.finish.set()
            await asyncio.sleep(rng.random() / 50)
        await asyncio.gather(*holders)
        await free_appends(3)

        check = await schema.connect()
        try:
            expected.extend(
                r[0] for r in await check.fetch("SELECT position FROM events")
            )
        finally:
            await check.close()
        stop.set()
        await asyncio.wait_for(asyncio.gather(*readers), 15)
        await asyncio.sleep(0.1)
        assert await reader_store.read_all(proper.last, 5) == []
        assert await naive.read(naive.last) == []
    finally:
        stop.set()
        await reader_store.close()
        await writers.close()
        await naive_conn.close()

    positions = [p for p, _, _ in proper.seen]
    assert len(positions) == len(set(positions)), "the reader saw an event twice"
    assert sorted(positions) == sorted(expected), "the reader missed an event"
    assert positions != sorted(positions), "commits were not shuffled"
    by_stream: dict[str, list[int]] = {}
    for _, stream_id, version in proper.seen:
        by_stream.setdefault(stream_id, []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in by_stream.values())
    assert {"held-3", "held-6"}.isdisjoint(by_stream)
    # In the same run, a reader of `position > last_seen` skips events.
    naive_positions = {p for p, _, _ in naive.seen}
    assert naive_positions < set(expected)


async def test_stores_that_migrate_at_once_from_several_processes_all_open(
    schema: Schema,
) -> None:
    opener = (
        "import asyncio, sys\n"
        "from cqrskit.adapters.postgres import PostgresEventStore\n"
        "async def main():\n"
        "    store = await PostgresEventStore.open(sys.argv[1], schema=sys.argv[2])\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", opener, schema.url, schema.name
        )
        for _ in range(3)
    ]

    stores = await asyncio.gather(*(schema.open() for _ in range(3)))
    codes = await asyncio.gather(*(p.wait() for p in processes))

    try:
        assert codes == [0, 0, 0]
        (added,) = await stores[0].append(batch("cart-1", 0, 1), metadata=META)
        assert await stores[2].read_stream("cart-1") == [added]
    finally:
        for store in stores:
            await store.close()
    conn = await schema.connect()
    try:
        rows = await conn.fetch("SELECT component, version FROM schema_migrations")
    finally:
        await conn.close()
    versions = range(1, len(MIGRATIONS) + 1)
    assert sorted(tuple(r) for r in rows) == [("event_store", v) for v in versions]
