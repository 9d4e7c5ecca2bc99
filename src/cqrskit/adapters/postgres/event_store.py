"""The event store (and the relay's position store) on PostgreSQL.

Writers are not serialised. An append is one statement: it checks each
stream's expected version and inserts all events of all streams in one
multi-row INSERT; a concurrent writer that got there first surfaces as a unique
violation (a ConcurrencyError) and nothing of the append remains.

The global log never skips (DESIGN.md rule 3). Positions come from an identity
column, whose values become visible in commit order, not allocation order, so
a reader tailing `position > last_seen` could pass a position whose
transaction commits later. Each event therefore records its transaction's id
(`tx`, an xid8); the log order is (tx, position), and `read_all` returns only
events of transactions below its snapshot's xmin: those have all ended, so no
event can appear later before the reader's cursor. Consequences:

- `read_all(after, ...)` takes the position of the last event the reader saw
  and continues in log order after it. Positions are unique and increase within
  a stream and within an append, but across concurrent appends the log order
  is not position order, and a rolled-back append leaves a gap in positions.
- Each stream's events keep their version order in the log: an append is a
  transaction of its own that takes its id while inserting, so after it saw
  the stream's previous version committed, and so after that version's
  transaction took its (smaller) id.
- A transaction that holds an xid (it has written) anywhere in the cluster
  holds back xmin, and so what `read_all` returns, until it ends: a long
  write transaction delays the relay; it never makes it skip. So that a reader
  sees the appends that committed before it asked (as with the other adapters),
  `read_all` waits up to `settle_timeout` for such older transactions to end
  when it holds committed events back and has not filled its page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime

import asyncpg
import orjson

from cqrskit.adapters._event_rows import as_utc, events_from_rows, utc_now
from cqrskit.adapters.postgres import _statements as sql
from cqrskit.adapters.postgres._database import migrate, open_pool, translate_errors
from cqrskit.adapters.postgres._notify import CommitNotices
from cqrskit.core.errors import ConcurrencyError, Invalid, StoreUnavailable
from cqrskit.core.messages import LogEntry, Metadata, RecordedEvent, StreamAppend
from cqrskit.core.ports import Snapshot, StreamSummary

_SETTLE_POLL = 0.002


class PostgresEventStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Callable[[], datetime],
        settle_timeout: float,
        *,
        notices: CommitNotices | None = None,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._settle_timeout = settle_timeout
        self._notices = notices
        """Without them, appends notify nobody and `commits` hears nothing."""

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        schema: str = "public",
        pool_size: int = 10,
        clock: Callable[[], datetime] = utc_now,
        settle_timeout: float = 1.0,
    ) -> PostgresEventStore:
        """Connect and bring the tables in `schema` to the newest version."""
        pool = await open_pool(dsn, schema, pool_size)
        try:
            await migrate(pool, schema, "event_store", sql.MIGRATIONS)
        except BaseException:
            await pool.close()
            raise
        notices = CommitNotices(pool, dsn, schema)
        return cls(pool, clock, settle_timeout, notices=notices)

    async def append(
        self, appends: Sequence[StreamAppend], *, metadata: Metadata
    ) -> list[RecordedEvent]:
        recorded_at = as_utc(self._clock())
        plan = sql.plan_append(appends, metadata, recorded_at)
        async with self._connection() as conn:
            if not plan.rows:  # nothing to write: only check the versions
                await _check_versions(conn, appends)
                return []
            with _lost_races(appends):
                rows = await conn.fetch(sql.APPEND, *plan.args)
            if not rows:
                await _explain_nothing_written(conn, appends)
        if self._notices is not None:
            self._notices.committed()
        positions = {(r["stream_id"], r["version"]): r["position"] for r in rows}
        return [
            RecordedEvent(
                stream_id=stream_id,
                version=version,
                position=positions[stream_id, version],
                type=event.type,
                data=event.data,
                recorded_at=recorded_at,
                schema_version=event.schema_version,
                metadata=metadata,
            )
            for stream_id, version, event in plan.rows
        ]

    async def commits(self) -> AsyncIterator[None]:
        """Appends of every process on this schema are heard (LISTEN/NOTIFY:
        see _notify)."""
        if self._notices is None:
            yield
            await asyncio.Event().wait()
            return
        async for _ in self._notices.commits():
            yield

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        async with self._connection() as conn:
            rows = await conn.fetch(sql.READ_STREAM, stream_id, from_version)
        return events_from_rows(rows)

    async def streams(
        self, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[StreamSummary]:
        async with self._connection() as conn:
            rows = await conn.fetch(sql.STREAMS, prefix, after or "", limit)
        return [StreamSummary(row["stream_id"], row["version"]) for row in rows]

    async def read_stream_page(
        self, stream_id: str, from_version: int, limit: int
    ) -> list[RecordedEvent]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                sql.READ_STREAM_PAGE, stream_id, from_version, limit
            )
        return events_from_rows(rows)

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        """Committed events after the one at position `after`, in log order.

        `after` is the position of the last event the reader has seen (0 for
        none); see the module's docstring for the log order."""
        async with self._connection() as conn:
            rows = await conn.fetch(sql.READ_ALL, after, limit)
            if len(rows) < limit and await self._settle(conn, after, rows):
                rows = await conn.fetch(sql.READ_ALL, after, limit)
        return events_from_rows(rows)

    async def read_entries(self, after: int, limit: int) -> list[LogEntry]:
        """As `read_all`, without the contents, nor waiting for a settling
        transaction (the lag it measures is then at most one commit short)."""
        async with self._connection() as conn:
            rows = await conn.fetch(sql.READ_ENTRIES, after, limit)
        return [LogEntry(r[0], r[1], as_utc(r[2])) for r in rows]

    async def head(self) -> int:
        """The last event in log order below the snapshot's xmin: an event of
        a transaction still open, or of one that took its position late, is
        not the head until the relay may read it."""
        async with self._connection() as conn:
            position: int | None = await conn.fetchval(sql.HEAD)
        return position or 0

    async def load_position(self, name: str) -> int:
        async with self._connection() as conn:
            position: int | None = await conn.fetchval(sql.LOAD_POSITION, name)
        return position or 0

    async def save_position(self, name: str, position: int) -> None:
        async with self._connection() as conn:
            await conn.execute(sql.SAVE_POSITION, name, position)

    async def load_snapshot(self, stream_id: str, fold: str) -> Snapshot | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(sql.LOAD_SNAPSHOT, stream_id, fold)
        if row is None:
            return None
        version, position, state = row
        return Snapshot(stream_id, fold, version, position, orjson.loads(state))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        state = orjson.dumps(snapshot.state)
        async with self._connection() as conn:
            await conn.execute(
                sql.SAVE_SNAPSHOT,
                snapshot.stream_id,
                snapshot.fold,
                snapshot.version,
                snapshot.position,
                state,
            )

    async def close(self) -> None:
        """Close the pool, after the statements in progress. Safe to repeat."""
        if self._notices is not None:
            await self._notices.close()
        await self._pool.close()

    async def _settle(
        self,
        conn: asyncpg.pool.PoolConnectionProxy,
        after: int,
        page: list[asyncpg.Record],
    ) -> bool:
        """Wait (bounded) until the transactions older than the newest one with
        committed events after the cursor have ended, if `page` (a short page)
        held any of those events back; return whether it did."""
        newest: int | None = await conn.fetchval(sql.NEWEST_AFTER, after)
        if newest is None or (page and newest <= page[-1]["tx"]):
            return False
        deadline = asyncio.get_running_loop().time() + self._settle_timeout
        while not await conn.fetchval(sql.ENDED, newest):
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(_SETTLE_POLL)
        return True

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        if self._pool.is_closing():
            raise StoreUnavailable("the event store is closed")
        with translate_errors():
            async with self._pool.acquire() as conn:
                yield conn


@contextmanager
def _lost_races(appends: Sequence[StreamAppend]) -> Iterator[None]:
    """Translate a unique violation (another writer committed first) and a
    value PostgreSQL refuses (class 22) into the kit's errors."""
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        if e.constraint_name == sql.EVENTS_UNIQUE:
            raise ConcurrencyError(
                f"another writer appended to {_names(appends)} first"
            ) from e
        raise
    except asyncpg.DataError as e:
        raise Invalid(f"PostgreSQL cannot store this: {e}") from e


async def _check_versions(
    conn: asyncpg.pool.PoolConnectionProxy, appends: Sequence[StreamAppend]
) -> None:
    rows = await conn.fetch(
        sql.CURRENT_VERSIONS,
        [a.stream_id for a in appends],
        [a.expected_version for a in appends],
    )
    for stream_id, expected, current in rows:
        if current != expected:
            raise ConcurrencyError(
                f"{stream_id} is at version {current}, expected {expected}"
            )


def _names(appends: Sequence[StreamAppend]) -> str:
    return ", ".join(dict.fromkeys(a.stream_id for a in appends if a.events))


async def _explain_nothing_written(
    conn: asyncpg.pool.PoolConnectionProxy, appends: Sequence[StreamAppend]
) -> None:
    """Raise why an append with events wrote nothing: a stream was not at its
    expected version. Versions only grow, so what this later look finds was
    already so when the append ran (short of a race that moved a stream in
    between, which is a concurrency error as well)."""
    await _check_versions(conn, appends)
    raise ConcurrencyError(f"another writer appended to {_names(appends)} first")
