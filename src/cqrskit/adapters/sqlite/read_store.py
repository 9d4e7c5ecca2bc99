"""The read store on one SQLite file: documents, ordered indexes, checkpoints.

`contains` is a literal, case-insensitive substring match. SQLite's `lower()`
folds ASCII only, so each entry keeps its text folded by Python's `str.lower()`
(the `folded` column) and the needle is folded the same way: "ÄPFEL" matches
"äpf", and `%` or `_` in the needle mean themselves (`instr`, not LIKE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import aiosqlite

from cqrskit.adapters.sqlite._database import (
    Migration,
    SqliteDatabase,
    chunks,
    placeholders,
)
from cqrskit.core.errors import ConcurrencyError
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


class SqliteReadStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str | Path) -> SqliteReadStore:
        return cls(await SqliteDatabase.open(path, "read_store", _MIGRATIONS))

    async def get(self, key: str) -> bytes | None:
        rows = await self._db.fetch("SELECT value FROM docs WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        found: dict[str, bytes] = {}
        for part in chunks(list(dict.fromkeys(keys))):
            rows = await self._db.fetch(
                f"SELECT key, value FROM docs WHERE key IN ({placeholders(len(part))})",
                part,
            )
            found.update((key, bytes(value)) for key, value in rows)
        return [found.get(key) for key in keys]

    async def index_page(
        self,
        index: str,
        *,
        after: tuple[str, str] | None,
        limit: int,
        reverse: bool = False,
        contains: str | None = None,
    ) -> list[IndexEntry]:
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

    async def close(self) -> None:
        await self._db.close()


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
