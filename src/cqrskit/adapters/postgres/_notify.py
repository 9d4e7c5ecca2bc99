"""Telling the relay of commits at once: NOTIFY after each append, LISTEN in
the relay.

The NOTIFY is not sent by the append's own transaction. A transaction that
notifies takes one lock for the whole cluster's notification queue as it
commits (PreCommit_Notify, up to PostgreSQL 17 at least) and holds it until
its commit is flushed, so appends that notified would commit one at a time.
Instead the appending process sends a NOTIFY of its own right after an append
committed, in a transaction of its own that does not wait for the disk
(`synchronous_commit` off: a lost notice only costs the relay a poll), and
coalesces: while one is on its way, the appends that commit make one more,
not one each. A process's notices are at least `spacing` apart.

A notice only makes the relay read. What it reads is still cut at its
snapshot's xmin (see event_store): an append that committed before an older
one still open is read once that one ends, which `read_all` waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from cqrskit.adapters.postgres._database import quote_ident, translate_errors
from cqrskit.core.errors import StoreUnavailable

log = logging.getLogger(__name__)
_LONGEST_CHANNEL = 63  # NAMEDATALEN - 1
_QUIET = 10.0
"""After this long without a notice, the listening connection is probed."""
_PROBE_TIMEOUT = 5.0


def channel_of(schema: str) -> str:
    """The channel of the appends to `schema`'s events (NOTIFY is per database)."""
    name = f"cqrskit.events.{schema}"
    if len(name.encode()) <= _LONGEST_CHANNEL:
        return name
    return f"cqrskit.events.{hashlib.sha256(schema.encode()).hexdigest()[:40]}"


async def _probe(conn: asyncpg.Connection) -> None:
    """Raise StoreUnavailable unless `conn` still answers: a connection cut
    without a word (a host gone, a network split) would otherwise go on
    hearing nothing, and the relay on polling, for good."""
    with translate_errors():
        await conn.fetchval("SELECT 1", timeout=_PROBE_TIMEOUT)


class CommitNotices:
    def __init__(
        self, pool: asyncpg.Pool, dsn: str, schema: str, spacing: float = 0.001
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._channel = channel_of(schema)
        self._notify = (
            "BEGIN; SET LOCAL synchronous_commit TO off;"
            f" NOTIFY {quote_ident(self._channel)}; COMMIT"
        )
        self._spacing = spacing
        self._due = False
        self._sender: asyncio.Task[None] | None = None

    def committed(self) -> None:
        """An append committed: notify, now or right after the notice on its way."""
        self._due = True
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while self._due:
            self._due = False
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute(self._notify)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as e:
                log.debug("commit notice not sent (the relay polls): %r", e)
                return
            await asyncio.sleep(self._spacing)

    async def commits(self) -> AsyncIterator[None]:
        """Listen on a connection of its own (a pooled one would be handed to
        other work); raise StoreUnavailable once that connection is lost."""
        heard = asyncio.Event()
        with translate_errors():
            conn = await asyncpg.connect(
                self._dsn, server_settings={"application_name": "cqrskit listen"}
            )
        try:
            conn.add_termination_listener(lambda _: heard.set())
            with translate_errors():
                await conn.add_listener(self._channel, lambda *_: heard.set())
            yield  # listening from here on
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_QUIET):
                        await heard.wait()
                if not heard.is_set():
                    await _probe(conn)
                    continue
                heard.clear()
                if conn.is_closed():
                    raise StoreUnavailable("the connection hearing commits closed")
                yield
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1.0)

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
