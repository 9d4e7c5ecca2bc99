"""The read store on one SQLite file: documents, ordered indexes, checkpoints.

Search (`search`) is a literal, case-insensitive substring match. SQLite's `lower()`
folds ASCII only, so each entry keeps its text folded by Python's `str.lower()`
(the `folded` column) and the needle is folded the same way: "ÄPFEL" matches
"äpf", and `%` or `_` in the needle mean themselves (`instr`, not LIKE).

A rebuild fills a scratch store on a new file beside this one, then `adopt`
copies a projection's rows into the live file in one write transaction, so
readers on other connections (WAL snapshots) see the old views or the new ones.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiosqlite
import orjson

from cqrskit.adapters._paging import Page, PagesAndSearches
from cqrskit.adapters.sqlite._database import (
    Migration,
    SqliteDatabase,
    chunks,
    placeholders,
)
from cqrskit.adapters.sqlite._listing import Listing, starts_with
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.pause import GENERATION
from cqrskit.core.ports import IndexEntry, VersionMove, ViewChanges

_MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE docs (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE index_entries (
            index_name TEXT NOT NULL,
            member TEXT NOT NULL,
            sort_key TEXT NOT NULL,
            text TEXT NOT NULL,
            folded TEXT NOT NULL,
            PRIMARY KEY (index_name, member)
        ) WITHOUT ROWID""",
        """CREATE INDEX index_entries_order
            ON index_entries (index_name, sort_key, member)""",
        """CREATE TABLE checkpoints (
            projection TEXT NOT NULL,
            stream_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (projection, stream_id)
        ) WITHOUT ROWID""",
    ),
)
_UPSERT_DOC = (
    "INSERT INTO docs (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_UPSERT_ENTRY = (
    "INSERT INTO index_entries (index_name, member, sort_key, text, folded)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (index_name, member) DO UPDATE SET"
    " sort_key = excluded.sort_key, text = excluded.text, folded = excluded.folded"
)
_UPSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (projection, stream_id, version) VALUES (?, ?, ?)"
    " ON CONFLICT (projection, stream_id) DO UPDATE SET version = excluded.version"
)


_PRIVATE_PATHS = {"", ":memory:"}


class SqliteReadStore(Listing, PagesAndSearches):
    def __init__(
        self, db: SqliteDatabase, *, path: Path | None = None, scratch: bool = False
    ) -> None:
        self._db = db
        self._path = path
        """The file, or None for a private (in-memory) database."""
        self._scratch = scratch
        """Whether closing deletes the file (a rebuild's scratch store)."""

    @classmethod
    async def open(cls, path: str | Path, *, scratch: bool = False) -> SqliteReadStore:
        db = await SqliteDatabase.open(path, "read_store", _MIGRATIONS)
        file = None if str(path) in _PRIVATE_PATHS else Path(path)
        return cls(db, path=file, scratch=scratch)

    async def get(self, key: str) -> bytes | None:
        rows = await self._db.fetch("SELECT value FROM docs WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        # One statement, so one snapshot: never half of an adopt or a commit.
        rows = await self._db.fetch(
            "SELECT key, value FROM docs WHERE key IN (SELECT value FROM json_each(?))",
            (orjson.dumps(list(dict.fromkeys(keys))).decode(),),
        )
        found = {key: bytes(value) for key, value in rows}
        return [found.get(key) for key in keys]

    async def _entries(self, index: str, page: Page, contains: str) -> list[IndexEntry]:
        after, limit, reverse = page
        where = ["index_name = ?"]
        params: list[str | int] = [index]
        if after is not None:
            where.append(f"(sort_key, member) {'<' if reverse else '>'} (?, ?)")
            params.extend(after)
        if contains:
            where.append("instr(folded, ?) > 0")
            params.append(contains.lower())
        order = "DESC" if reverse else "ASC"
        params.append(limit)
        rows = await self._db.fetch(
            "SELECT member, sort_key, text FROM index_entries"
            f" WHERE {' AND '.join(where)}"
            f" ORDER BY sort_key {order}, member {order} LIMIT ?",
            params,
        )
        return [IndexEntry(member, sort_key, text) for member, sort_key, text in rows]

    async def stream_versions(
        self, projection: str, stream_ids: Sequence[str]
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(stream_ids))):
            rows = await self._db.fetch(
                "SELECT stream_id, version FROM checkpoints WHERE projection = ?"
                f" AND stream_id IN ({placeholders(len(part))})",
                [projection, *part],
            )
            found.update((sid, version) for sid, version in rows)
        return {sid: found.get(sid, 0) for sid in stream_ids}

    async def commit(
        self,
        projection: str,
        changes: ViewChanges,
        versions: Mapping[str, VersionMove],
    ) -> None:
        async with self._db.transaction() as conn:
            await _check_checkpoints(conn, projection, versions)
            docs = changes.docs.items()
            await conn.executemany(
                _UPSERT_DOC, [(k, v) for k, v in docs if v is not None]
            )
            await conn.executemany(
                "DELETE FROM docs WHERE key = ?", [(k,) for k, v in docs if v is None]
            )
            await conn.executemany(
                "DELETE FROM index_entries WHERE index_name = ? AND member = ?",
                sorted(changes.index_removes),
            )
            await conn.executemany(
                _UPSERT_ENTRY,
                [
                    (index, e.member, e.sort_key, e.text, e.text.lower())
                    for (index, _), e in changes.index_puts.items()
                ],
            )
            await conn.executemany(
                _UPSERT_CHECKPOINT,
                [(projection, sid, move.new) for sid, move in versions.items()],
            )

    async def scratch(self) -> SqliteReadStore:
        """An empty store on a new file beside this one (a private database if
        this one is private); closing it deletes the file."""
        if self._path is None:
            return await SqliteReadStore.open(":memory:", scratch=True)
        name = f"{self._path.stem}.rebuild-{secrets.token_hex(6)}.db"
        return await SqliteReadStore.open(self._path.with_name(name), scratch=True)

    async def adopt(
        self,
        scratch: SqliteReadStore,
        projection: str,
        prefixes: Sequence[str],
        generation: VersionMove,
    ) -> None:
        """Replace the views owned by `prefixes` and `projection`'s checkpoints
        with the scratch store's, in one write transaction that first checks the
        generation; then drop those rows from the scratch. The scratch rows are
        read first, so the write lock is held only for the deletes and inserts."""
        if scratch is self:
            raise TypeError("a SQLite read store cannot adopt from itself")
        docs, entries, versions = await scratch._owned_rows(projection, prefixes)
        async with self._db.transaction() as conn:
            await _check_checkpoints(conn, projection, {GENERATION: generation})
            await _delete_owned(conn, projection, prefixes)
            await conn.executemany("INSERT INTO docs (key, value) VALUES (?, ?)", docs)
            await conn.executemany(
                "INSERT INTO index_entries (index_name, member, sort_key, text, folded)"
                " VALUES (?, ?, ?, ?, ?)",
                entries,
            )
            await conn.executemany(
                "INSERT INTO checkpoints (projection, stream_id, version)"
                " VALUES (?, ?, ?)",
                versions,
            )
            await conn.execute(
                _UPSERT_CHECKPOINT, (projection, GENERATION, generation.new)
            )
        async with scratch._db.transaction() as conn:
            await _delete_owned(conn, projection, prefixes)

    async def close(self) -> None:
        """Close the database (a scratch store also deletes its file). Safe to
        repeat."""
        await self._db.close()
        if self._scratch and self._path is not None:
            await asyncio.to_thread(_delete_files, self._path)


async def _check_checkpoints(
    conn: aiosqlite.Connection, projection: str, versions: Mapping[str, VersionMove]
) -> None:
    """Raise ConcurrencyError unless every checkpoint is where the batch expects."""
    stream_ids = list(versions)
    current: dict[str, int] = {}
    for part in chunks(stream_ids):
        rows = await conn.execute_fetchall(
            "SELECT stream_id, version FROM checkpoints WHERE projection = ?"
            f" AND stream_id IN ({placeholders(len(part))})",
            [projection, *part],
        )
        current.update((sid, version) for sid, version in rows)
    for sid, move in versions.items():
        if current.get(sid, 0) != move.expected:
            raise ConcurrencyError(
                f"{projection}: the checkpoint of {sid} is at version "
                f"{current.get(sid, 0)}, expected {move.expected}"
            )


def _delete_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _delete_owned(
    conn: aiosqlite.Connection, projection: str, prefixes: Sequence[str]
) -> None:
    for prefix in dict.fromkeys(prefixes):
        where, params = starts_with("key", prefix)
        await conn.execute(f"DELETE FROM docs WHERE {where}", params)
        where, params = starts_with("index_name", prefix)
        await conn.execute(f"DELETE FROM index_entries WHERE {where}", params)
    await conn.execute("DELETE FROM checkpoints WHERE projection = ?", (projection,))
