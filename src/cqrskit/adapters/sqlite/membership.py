"""Membership in the read store's SQLite file: a table of member -> the time
its heartbeat runs out. Every process on this machine that shares the file
shares the table (and the clock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from cqrskit.adapters.sqlite._database import Migration, SqliteDatabase

_MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE members (
            member_group TEXT NOT NULL,
            member TEXT NOT NULL,
            expires REAL NOT NULL,
            PRIMARY KEY (member_group, member)
        ) WITHOUT ROWID""",
    ),
)


class SqliteMembership:
    def __init__(
        self,
        database: SqliteDatabase,
        group: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._group = group
        self._clock = clock

    @classmethod
    async def open(
        cls, path: str | Path, *, group: str = "projectors"
    ) -> SqliteMembership:
        """Connections of its own to the file at `path`."""
        return cls(await SqliteDatabase.open(path, "membership", _MIGRATIONS), group)

    async def heartbeat(self, member: str, ttl: float) -> list[str]:
        now = self._clock()
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM members WHERE member_group = ? AND expires <= ?",
                (self._group, now),
            )
            await db.execute(
                "INSERT OR REPLACE INTO members VALUES (?, ?, ?)",
                (self._group, member, now + ttl),
            )
            rows = await db.execute_fetchall(
                "SELECT member FROM members WHERE member_group = ? ORDER BY member",
                (self._group,),
            )
        return [str(row[0]) for row in rows]

    async def members(self) -> list[str]:
        rows = await self._db.fetch(
            "SELECT member FROM members WHERE member_group = ? AND expires > ?"
            " ORDER BY member",
            (self._group, self._clock()),
        )
        return [str(row[0]) for row in rows]

    async def leave(self, member: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM members WHERE member_group = ? AND member = ?",
                (self._group, member),
            )

    async def close(self) -> None:
        await self._db.close()
