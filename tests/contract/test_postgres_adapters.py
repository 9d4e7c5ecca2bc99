"""The PostgreSQL adapters under the kit's contract suites (cqrskit.testing).
Each test's tables live in a schema of their own (the store creates it),
dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cqrskit.adapters.postgres import PostgresEventStore, PostgresLease
from cqrskit.core.ports import EventLog
from cqrskit.testing import (
    BreakLease,
    EventStoreContract,
    LeaseContract,
    MakeLease,
    Opener,
    SnapshotStoreContract,
    StreamCatalogContract,
)
from services import POSTGRES_URL, require

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    url = require(POSTGRES_URL)
    name = f"cqrskit_test_{uuid.uuid4().hex[:12]}"
    yield name
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
def event_store_opener(schema: str) -> Opener[EventLog]:
    async def opener() -> EventLog:
        return await PostgresEventStore.open(POSTGRES_URL, schema=schema, pool_size=4)

    return opener


class TestPostgresEventStore(EventStoreContract):
    pass


class TestPostgresSnapshots(SnapshotStoreContract):
    pass


class TestPostgresStreams(StreamCatalogContract):
    pass


class TestPostgresLease(LeaseContract):
    @pytest.fixture
    async def lease_maker(self, schema: str) -> AsyncIterator[MakeLease]:
        """Leases on the positions table of a fresh event store's schema."""
        store = await PostgresEventStore.open(POSTGRES_URL, schema=schema, pool_size=2)
        yield lambda name: PostgresLease(
            POSTGRES_URL, f"{schema}-{name}", schema=schema
        )
        await store.close()

    @pytest.fixture
    def break_lease(self, schema: str) -> BreakLease:
        """End the session that holds the lock, as an operator or a crash would."""

        async def terminate(name: str) -> None:
            conn = await asyncpg.connect(POSTGRES_URL)
            try:
                ended = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l"
                    " JOIN pg_stat_activity a USING (pid) WHERE l.locktype ="
                    " 'advisory' AND l.granted AND starts_with(a.application_name, $1)",
                    f"cqrskit leader {schema}-{name}",
                )
            finally:
                await conn.close()
            assert ended == 1

        return terminate
