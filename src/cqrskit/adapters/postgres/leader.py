"""Leadership of a role that must run once (the relay), held in PostgreSQL.

The lock is a session-level advisory lock on a connection of its own, and
PostgreSQL releases it when that session ends: when the leader's process dies,
its connection is cut or an operator terminates its backend, a standby waiting
in `acquire` gets the lock. The leader learns it lost the lock from `check()`.

Needs PostgreSQL 14 or newer (`client_connection_check_interval`, so a backend
still waiting for the lock notices that its client gave up and goes away).
"""

from __future__ import annotations

import asyncio

import asyncpg

from cqrskit.adapters.postgres._database import translate_errors

_CHECK_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 5.0


class PostgresLeaderLock:
    def __init__(self, dsn: str, name: str) -> None:
        self._dsn = dsn
        self._name = name
        self._conn: asyncpg.Connection | None = None

    @property
    def held(self) -> bool:
        """Whether the lock's connection, and so the lock, is still alive as far
        as this process knows without asking the server (see `check`)."""
        return self._conn is not None and not self._conn.is_closed()

    async def acquire(self) -> None:
        """Wait until this process holds the lock; return at once if it does."""
        if self.held:
            return
        await self.release()  # a connection that died: let it go
        with translate_errors():
            conn = await asyncpg.connect(
                self._dsn,
                server_settings={
                    "application_name": f"cqrskit leader {self._name}"[:63],
                    "client_connection_check_interval": "1000",
                },
            )
        try:
            with translate_errors():
                await conn.execute(
                    "SELECT pg_advisory_lock(hashtextextended($1, 0))",
                    f"cqrskit.leader:{self._name}",
                )
        except BaseException:
            # Cancelled while waiting, or the server went away: drop the session,
            # which gives the lock back if the server granted it meanwhile.
            conn.terminate()
            raise
        self._conn = conn

    async def check(self) -> bool:
        """Ask the server whether the lock's session is still alive. A session
        that does not answer within a few seconds is dropped, and the lock with
        it: a leader that cannot reach the database must not go on leading."""
        conn = self._conn
        if conn is None or conn.is_closed():
            return False
        try:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), _CHECK_TIMEOUT)
        except Exception:
            # Whatever failed, the session is unusable: one the server ended can
            # even surface as asyncpg's InternalClientError mid-query.
            conn.terminate()
            return False
        return True

    async def release(self) -> None:
        """Give the lock up by ending its session. Safe to repeat."""
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await conn.close(timeout=_CLOSE_TIMEOUT)
        except Exception:  # it cannot close politely: drop it
            conn.terminate()

    async def __aenter__(self) -> PostgresLeaderLock:
        await self.acquire()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.release()
