"""One SQLite file: a writer connection behind a lock, a reader, and migrations.

Writes go through one connection and one `BEGIN IMMEDIATE` transaction at a
time; reads use a second connection, which in WAL mode sees the last commit
without waiting for the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, closing, contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from cqrskit.core.errors import StoreUnavailable

T = TypeVar("T")

Migration = Sequence[str]
"""The statements that take a component's schema one version up."""

_BUSY_TIMEOUT_MS = 5000
_MAX_PARAMS = 500
_PRIVATE_PATHS = {"", ":memory:"}
# Primary result codes that mean "the database cannot serve now", not "a bug".
_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_NOTADB,
}
_SCHEMA_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_version (
        component TEXT PRIMARY KEY,
        version INTEGER NOT NULL
    ) WITHOUT ROWID
"""


@contextmanager
def translate_errors() -> Iterator[None]:
    """Raise StoreUnavailable for driver errors about the database's condition."""
    try:
        yield
    except sqlite3.Error as e:
        code = getattr(e, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _UNAVAILABLE:
            raise StoreUnavailable(f"SQLite cannot serve: {e}") from e
        raise


def placeholders(count: int) -> str:
    return ", ".join("?" * count)


def chunks(items: Sequence[T], size: int = _MAX_PARAMS) -> Iterator[Sequence[T]]:
    """Slices short enough to bind as the parameters of one statement."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqliteDatabase:
    def __init__(
        self, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        # A private (in-memory) database has one connection: reads then share the
        # writer and wait for its lock, so they never see an uncommitted write.
        self._read_lock = self._write_lock if reader is writer else None

    @classmethod
    async def open(
        cls, path: str | Path, component: str, migrations: Sequence[Migration]
    ) -> SqliteDatabase:
        """Connect and bring `component`'s tables to the newest schema version."""
        target = str(path)
        writer = await _connect(target)
        reader = writer
        try:
            if target not in _PRIVATE_PATHS:
                with translate_errors():
                    await _pragma(writer, "journal_mode = WAL")
                reader = await _connect(target)
                await _pragma(reader, "query_only = ON")
            database = cls(writer, reader)
            await database._migrate(component, migrations)
        except BaseException:
            if reader is not writer:
                await reader.close()
            await writer.close()
            raise
        return database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; it rolls back if the body raises."""
        async with self._write_lock:
            try:
                with translate_errors():
                    await self._writer.execute("BEGIN IMMEDIATE")
                    yield self._writer
                    await self._writer.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with translate_errors():
            if self._read_lock is None:
                return list(await self._reader.execute_fetchall(sql, params))
            async with self._read_lock:
                return list(await self._reader.execute_fetchall(sql, params))

    async def close(self) -> None:
        """Close both connections, after any write in progress. Safe to repeat."""
        async with self._write_lock:
            if self._reader is not self._writer:
                await self._reader.close()
            await self._writer.close()

    async def _rollback(self) -> None:
        # Also runs when BEGIN failed or was cancelled (it may still execute,
        # queued before this ROLLBACK), so "no transaction is active" is fine.
        with suppress(sqlite3.OperationalError):
            await self._writer.execute("ROLLBACK")

    async def _migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        async with self.transaction() as conn:
            await conn.execute(_SCHEMA_VERSION_TABLE)
            rows = list(
                await conn.execute_fetchall(
                    "SELECT version FROM schema_version WHERE component = ?",
                    (component,),
                )
            )
            current: int = rows[0][0] if rows else 0
            if current > len(migrations):
                raise StoreUnavailable(
                    f"the {component} schema is at version {current}; "
                    f"this code knows versions up to {len(migrations)}"
                )
            for migration in migrations[current:]:
                for statement in migration:
                    await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_version (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, len(migrations)),
            )


async def _connect(target: str) -> aiosqlite.Connection:
    if target not in _PRIVATE_PATHS:
        # aiosqlite's worker thread outlives a failed connect and later reports
        # to an event loop that may be closed; so learn first if the file opens.
        await asyncio.to_thread(_probe, target)
    with translate_errors():
        conn = await aiosqlite.connect(target, isolation_level=None)
    try:
        with translate_errors():
            await _pragma(conn, f"busy_timeout = {_BUSY_TIMEOUT_MS}")
            await _pragma(conn, "synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


def _probe(target: str) -> None:
    with translate_errors(), closing(sqlite3.connect(target)):
        pass


async def _pragma(conn: aiosqlite.Connection, setting: str) -> None:
    # Fetch the answer, if any: a pragma statement left unfinished keeps its lock.
    await conn.execute_fetchall(f"PRAGMA {setting}")
