"""The event store (and the relay's position store) on one SQLite file.

Appends are serialised by SQLite itself (`BEGIN IMMEDIATE`, one writer at a
time), so positions are handed out in commit order and the global log never
has a hole that fills in later: a reader tailing `position > last_seen` misses
nothing. A rolled-back append also rolls back AUTOINCREMENT's counter.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from cqrskit.adapters._commits import CommitSignal
from cqrskit.adapters._event_rows import as_utc, dumps, events_from_rows, utc_now
from cqrskit.adapters.sqlite._database import (
    Migration,
    SqliteDatabase,
    chunks,
    placeholders,
)
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import (
    LogEntry,
    Metadata,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from cqrskit.core.ports import Snapshot, StreamSummary

_MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            data TEXT NOT NULL,
            metadata TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            UNIQUE (stream_id, version)
        )""",
        """CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            position INTEGER NOT NULL,
            written TEXT NOT NULL,
            outcome TEXT,
            detail TEXT
        ) WITHOUT ROWID""",
        """CREATE TABLE positions (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
    (
        """CREATE TABLE snapshots (
            stream_id TEXT NOT NULL,
            fold TEXT NOT NULL,
            version INTEGER NOT NULL,
            position INTEGER NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (stream_id, fold)
        ) WITHOUT ROWID""",
    ),
    (
        # Stored answers move into the log as `idempotency-{key}` streams
        # (core/idempotency.py); the table stays, unused, for a process of the
        # previous version that may still have the file open (see the
        # PostgreSQL store's migration 3).
        """INSERT OR IGNORE INTO events
            (stream_id, version, type, schema_version, data, metadata, recorded_at)
        SELECT 'idempotency-' || key, 1, 'CommandAnswered', 1,
               CASE WHEN outcome IS NULL THEN json_object(
                   'fingerprint', fingerprint, 'stream_id', stream_id,
                   'version', version, 'written', json(written), 'refused', NULL)
               ELSE json_object(
                   'fingerprint', fingerprint, 'stream_id', stream_id,
                   'version', version, 'written', json(written),
                   'refused', json_object(
                       'kind', outcome, 'detail', coalesce(detail, outcome)))
               END,
               '{}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        FROM idempotency ORDER BY key""",
    ),
)
_EVENT_COLUMNS = (
    "position, stream_id, version, type, schema_version, data, metadata, recorded_at"
)
_INSERT_EVENT = (
    "INSERT INTO events (stream_id, version, type, schema_version, data, metadata,"
    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class SqliteEventStore:
    def __init__(self, db: SqliteDatabase, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock
        self._signal = CommitSignal()

    @classmethod
    async def open(
        cls, path: str | Path, *, clock: Callable[[], datetime] = utc_now
    ) -> SqliteEventStore:
        return cls(await SqliteDatabase.open(path, "event_store", _MIGRATIONS), clock)

    async def append(
        self, appends: Sequence[StreamAppend], *, metadata: Metadata
    ) -> list[RecordedEvent]:
        recorded_at = as_utc(self._clock())
        stamp = recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        metadata_json = dumps(metadata.as_dict())
        payloads = [dumps(e.data) for a in appends for e in a.events]
        async with self._db.transaction() as conn:
            versions = await _stream_versions(conn, [a.stream_id for a in appends])
            for append in appends:
                current = versions.get(append.stream_id, 0)
                if current != append.expected_version:
                    raise ConcurrencyError(
                        f"{append.stream_id} is at version {current}, "
                        f"expected {append.expected_version}"
                    )
            planned: list[tuple[str, int, NewEvent]] = []
            for append in appends:
                for event in append.events:
                    version = versions.get(append.stream_id, 0) + 1
                    versions[append.stream_id] = version
                    planned.append((append.stream_id, version, event))
            first = await _insert_events(
                conn,
                [
                    (sid, version, e.type, e.schema_version, data, metadata_json, stamp)
                    for (sid, version, e), data in zip(planned, payloads, strict=True)
                ],
            )
        self._signal.committed()
        return [
            RecordedEvent(
                stream_id=sid,
                version=version,
                position=first + i,
                type=e.type,
                data=e.data,
                recorded_at=recorded_at,
                schema_version=e.schema_version,
                metadata=metadata,
            )
            for i, (sid, version, e) in enumerate(planned)
        ]

    def commits(self) -> AsyncIterator[None]:
        """Appends through this store (this process) are heard."""
        return self._signal.commits()

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        rows = await self._db.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events"
            " WHERE stream_id = ? AND version >= ? ORDER BY version",
            (stream_id, from_version),
        )
        return events_from_rows(rows)

    async def streams(
        self, prefix: str = "", after: str | None = None, limit: int = 50
    ) -> list[StreamSummary]:
        rows = await self._db.fetch(
            "SELECT stream_id, max(version) FROM events"
            " WHERE stream_id >= ? AND stream_id > ? AND substr(stream_id, 1, ?) = ?"
            " GROUP BY stream_id ORDER BY stream_id LIMIT ?",
            (prefix, after or "", len(prefix), prefix, limit),
        )
        return [StreamSummary(str(row[0]), int(row[1])) for row in rows]

    async def read_stream_page(
        self, stream_id: str, from_version: int, limit: int
    ) -> list[RecordedEvent]:
        rows = await self._db.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events"
            " WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?",
            (stream_id, from_version, limit),
        )
        return events_from_rows(rows)

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        rows = await self._db.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM events"
            " WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return events_from_rows(rows)

    async def read_entries(self, after: int, limit: int) -> list[LogEntry]:
        rows = await self._db.fetch(
            "SELECT position, stream_id, recorded_at FROM events"
            " WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit),
        )
        return [
            LogEntry(int(r[0]), str(r[1]), as_utc(datetime.fromisoformat(r[2])))
            for r in rows
        ]

    async def head(self) -> int:
        rows = await self._db.fetch("SELECT max(position) FROM events", ())
        return int(rows[0][0] or 0)

    async def load_position(self, name: str) -> int:
        rows = await self._db.fetch(
            "SELECT position FROM positions WHERE name = ?", (name,)
        )
        return int(rows[0][0]) if rows else 0

    async def save_position(self, name: str, position: int) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO positions (name, position) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (name, position),
            )

    async def load_snapshot(self, stream_id: str, fold: str) -> Snapshot | None:
        rows = await self._db.fetch(
            "SELECT version, position, state FROM snapshots"
            " WHERE stream_id = ? AND fold = ?",
            (stream_id, fold),
        )
        if not rows:
            return None
        version, position, state = rows[0]
        return Snapshot(stream_id, fold, version, position, orjson.loads(state))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO snapshots (stream_id, fold, version, position, state)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id, fold) DO UPDATE"
                " SET version = excluded.version, position = excluded.position,"
                " state = excluded.state WHERE snapshots.version < excluded.version",
                (
                    snapshot.stream_id,
                    snapshot.fold,
                    snapshot.version,
                    snapshot.position,
                    orjson.dumps(snapshot.state),
                ),
            )

    async def close(self) -> None:
        await self._db.close()


async def _stream_versions(
    conn: aiosqlite.Connection, stream_ids: Sequence[str]
) -> dict[str, int]:
    unique = list(dict.fromkeys(stream_ids))
    versions: dict[str, int] = {}
    for part in chunks(unique):
        rows = await conn.execute_fetchall(
            "SELECT stream_id, MAX(version) FROM events"
            f" WHERE stream_id IN ({placeholders(len(part))}) GROUP BY stream_id",
            part,
        )
        versions.update((sid, version) for sid, version in rows)
    return versions


async def _insert_events(
    conn: aiosqlite.Connection, rows: list[tuple[Any, ...]]
) -> int:
    """Insert the rows in one statement; return the position of the first."""
    if not rows:
        return 0
    try:
        await conn.executemany(_INSERT_EVENT, rows)
    except sqlite3.IntegrityError as e:
        streams = ", ".join(dict.fromkeys(row[0] for row in rows))
        raise ConcurrencyError(f"another writer appended to {streams} first") from e
    # Under BEGIN IMMEDIATE nobody else inserts, so AUTOINCREMENT hands out
    # consecutive positions; the last one tells where the batch starts.
    (last,) = await conn.execute_fetchall("SELECT last_insert_rowid()")
    return int(last[0]) - len(rows) + 1
