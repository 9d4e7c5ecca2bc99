"""The relay's lease, held in PostgreSQL: a session-level advisory lock on a
connection of its own, renewed, bounded in time and fenced.

- Dead leader: PostgreSQL releases the lock when its session ends, so a
  standby waiting in `acquire` gets it at once.
- Frozen or cut-off leader: the session is opened with `idle_session_timeout`,
  so the server ends a session that has sent nothing for that long, and the
  lock with it. The leader renews (one query on the lock's session) about
  every second, far more often than that. Bound: a standby leads about 5 s
  at most after the leader froze or was cut off (measured: 4.1 s).
- Fencing: the leader trusts its lease only for `validity` (shorter than the
  idle timeout) after the start of its last successful round trip on the
  session; the server cannot have ended the session before that. The relay
  checks `valid()` before each publish, and saves its position through the
  lock's own session, so a deposed leader's save fails with its session.

Needs PostgreSQL 14 or newer (`idle_session_timeout`, and
`client_connection_check_interval` so a backend still waiting for the lock
notices that its client gave up and goes away).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg

from cqrskit.adapters.postgres import _statements as sql
from cqrskit.adapters.postgres._database import quote_ident, translate_errors
from cqrskit.core.ports import LeaseHolder, LeaseLost

IDLE_SESSION_TIMEOUT = 4.0
"""Seconds of silence after which the server ends a leader's session."""
VALIDITY = 3.0
"""Seconds a leader trusts its lease after a round trip began on its session."""
_CLOSE_TIMEOUT = 5.0
LOCK_ROUND = 5.0
"""A standby waits for the lock in rounds this long (the session's lock_timeout)."""
_CHECK_MARGIN = 2.0
R = TypeVar("R")


class PostgresLease:
    def __init__(
        self,
        dsn: str,
        name: str,
        *,
        schema: str = "public",
        validity: float = VALIDITY,
        idle_timeout: float = IDLE_SESSION_TIMEOUT,
        lock_round: float = LOCK_ROUND,
        clock: Callable[[], float] = time.monotonic,
        holder: str | None = None,
    ) -> None:
        if validity >= idle_timeout:
            raise ValueError("the validity must end before the server's idle timeout")
        self._dsn = dsn
        self._name = name
        self._schema = schema
        self._validity = validity
        self._idle_timeout = idle_timeout
        self._lock_round = lock_round
        self._clock = clock
        self._holder = holder or f"{socket.gethostname()}-{os.getpid()}"
        self._conn: asyncpg.Connection | None = None
        self._renewed_at: float | None = None
        self._busy = asyncio.Lock()  # one statement at a time on the session

    async def acquire(self) -> None:
        """Wait until this process holds the lock; return at once if it does."""
        if self.valid():
            return
        await self.release()  # a session that died or went stale: let it go
        conn = await self._connect()
        try:
            with translate_errors():
                await self._wait_for_lock(conn)
        except BaseException:
            # Cancelled while waiting, or the server went away: drop the session,
            # which gives the lock back if the server granted it meanwhile.
            conn.terminate()
            raise
        self._conn = conn
        if not await self.renew():  # start the validity from a fresh round trip
            raise LeaseLost(f"lost the {self._name} lease as soon as it was granted")
        await self._on_session(lambda conn: conn.execute(_NAME_SESSION, self._badge()))

    def _badge(self) -> str:
        """The leader's session names who leads and since when, for `lease_holder`."""
        since = datetime.now(UTC).strftime(_SINCE)
        return f"{_badge_prefix(self._name)}{since} {self._holder}"[:63]

    async def _wait_for_lock(self, conn: asyncpg.Connection) -> None:
        """Wait in rounds of `lock_timeout`, so that a standby whose connection
        died silently (a cut cable sends no FIN) finds out within a round and
        reconnects, instead of waiting on a dead socket for ever."""
        while True:
            try:
                async with asyncio.timeout(self._lock_round + _CHECK_MARGIN):
                    await conn.execute(
                        "SELECT pg_advisory_lock(hashtextextended($1, 0))",
                        f"cqrskit.leader:{self._name}",
                    )
            except asyncpg.LockNotAvailableError:
                continue  # a round ended: the session is alive, wait again
            return

    async def _connect(self) -> asyncpg.Connection:
        with translate_errors():
            conn: asyncpg.Connection = await asyncpg.connect(
                self._dsn,
                server_settings={
                    "application_name": f"cqrskit leader {self._name}"[:63],
                    "client_connection_check_interval": "1000",
                    "idle_session_timeout": str(int(self._idle_timeout * 1000)),
                    "search_path": quote_ident(self._schema),
                    "lock_timeout": str(int(self._lock_round * 1000)),
                },
            )
        return conn

    def valid(self) -> bool:
        return (
            self._conn is not None
            and not self._conn.is_closed()
            and self._renewed_at is not None
            and self._clock() - self._renewed_at < self._validity
        )

    async def renew(self) -> bool:
        """One round trip on the lock's session. A session that does not answer
        within the validity is dropped, and the lock with it."""
        try:
            await self._on_session(lambda conn: conn.fetchval("SELECT 1"))
        except LeaseLost:
            return False
        return True

    async def load_position(self, name: str) -> int:
        position: int | None = await self._on_session(
            lambda conn: conn.fetchval(sql.LOAD_POSITION, name)
        )
        return position or 0

    async def save_position(self, name: str, position: int) -> None:
        """Through the lock's session: if the server ended it, nothing moves."""
        if not self.valid():
            raise LeaseLost(f"not holding the {self._name} lease")
        await self._on_session(
            lambda conn: conn.execute(sql.SAVE_POSITION, name, position)
        )

    async def _on_session(
        self, statement: Callable[[asyncpg.Connection], Awaitable[R]]
    ) -> R:
        """Run one statement on the session; whatever fails, the session is
        unusable and the lease is lost (a session the server ended can even
        surface as asyncpg's InternalClientError mid-query)."""
        async with self._busy:
            conn = self._conn
            if conn is None or conn.is_closed():
                raise LeaseLost(f"not holding the {self._name} lease")
            started = self._clock()
            try:
                async with asyncio.timeout(self._validity):
                    result = await statement(conn)
            except Exception as e:
                self._drop()
                raise LeaseLost(
                    f"the {self._name} lease's session failed: {e!r}"
                ) from e
            self._renewed_at = started
            return result

    def _drop(self) -> None:
        conn, self._conn, self._renewed_at = self._conn, None, None
        if conn is not None:
            conn.terminate()

    async def release(self) -> None:
        """Give the lock up by ending its session. Safe to repeat."""
        conn, self._conn, self._renewed_at = self._conn, None, None
        if conn is None or conn.is_closed():
            return
        try:
            await conn.close(timeout=_CLOSE_TIMEOUT)
        except Exception:  # it cannot close politely: drop it
            conn.terminate()


_NAME_SESSION = "SELECT set_config('application_name', $1, false)"
_SINCE = "%Y%m%dT%H%M%SZ"
"""Compact, for the holder's name to fit in 63 characters."""


def _badge_prefix(name: str) -> str:
    """Every session of the lease is named `cqrskit leader NAME`; the
    holder's adds the time it took the lock and its own name."""
    return f"cqrskit leader {name} "


async def lease_holder(dsn: str, name: str) -> LeaseHolder | None:
    """Who holds the lease `name` now: the leader's session says so in its
    application_name (a standby's session does not); the server forgets it
    with the session, so a dead leader is no holder."""
    prefix = _badge_prefix(name)
    with translate_errors():
        conn: asyncpg.Connection = await asyncpg.connect(dsn)
        try:
            badge: str | None = await conn.fetchval(
                "SELECT application_name FROM pg_stat_activity"
                " WHERE starts_with(application_name, $1) LIMIT 1",
                prefix,
            )
        finally:
            await conn.close()
    if badge is None:
        return None
    since, _, holder = badge.removeprefix(prefix).partition(" ")
    when = datetime.strptime(since, _SINCE).replace(tzinfo=UTC)
    return LeaseHolder(holder, when.strftime("%Y-%m-%dT%H:%M:%SZ"))
