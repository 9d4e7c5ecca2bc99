"""Learning of the read store's changes from Redis: client-side caching in
broadcast mode (https://redis.io/docs/latest/develop/reference/client-side-caching/).

One dedicated connection asks for its own id, turns tracking on with REDIRECT
to itself, BCAST and the prefixes of the namespace's documents and
checkpoints, and subscribes to `__redis__:invalidate` (RESP2, so a plain
redis-py connection reads it). From then on Redis sends it the name of every
key of those prefixes that any client changes, whoever the writer (the
projector's commit script needs no change), batched per event-loop turn of
the server. A flush of the database comes as a notice without keys.

The connection is pinged every `ping_every` s; if it hears nothing for three
of those it is taken for dead. A dead or refused connection is `lost()` to
the listener, then opened again with backoff, for as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import redis.asyncio as redis
from redis import exceptions as rx
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from cqrskit.adapters.redis._keys import Keyspace
from cqrskit.core.backoff import Backoff
from cqrskit.core.ports import ChangeListener

log = logging.getLogger(__name__)
CHANNEL = b"__redis__:invalidate"
_FAILURES = (rx.ConnectionError, rx.TimeoutError, rx.ResponseError, OSError)


class Silent(Exception):
    """The tracking connection stopped answering pings."""


class Tracker:
    def __init__(
        self, client: redis.Redis, keys: Keyspace, *, ping_every: float = 1.0
    ) -> None:
        self._pool = client.connection_pool
        self._docs = f"{keys.namespace}:d:".encode()
        self._checkpoints = f"{keys.namespace}:c:".encode()
        self._ping_every = ping_every

    async def run(self, listener: ChangeListener) -> None:
        """Tell `listener` of changes for ever (until cancelled)."""
        backoff = Backoff(first=0.05, cap=5.0)
        while True:
            connection = self._connection()
            try:
                await self._start(connection)
                listener.tracking()
                backoff.reset()
                await self._listen(connection, listener)
            except (*_FAILURES, Silent) as e:
                log.warning("tracking the read store's changes: %s; retrying", e)
            finally:
                listener.lost()
                await connection.disconnect(nowait=True)
            await backoff.wait()

    def _connection(self) -> AbstractConnection:
        """A connection of its own, with the pool's address and credentials;
        no retries or health checks of its own (a ping would read as a
        message while subscribed): a failure ends it."""
        kwargs: dict[str, Any] = dict(self._pool.connection_kwargs)
        kwargs.update(
            protocol=2,
            socket_timeout=None,
            health_check_interval=0,
            retry=Retry(NoBackoff(), 0),
            retry_on_error=[],
        )
        for own in ("namespace", "maint_notifications_pool_handler"):
            kwargs.pop(own, None)
        return self._pool.connection_class(**kwargs)

    async def _start(self, connection: AbstractConnection) -> None:
        await connection.connect()  # type: ignore[no-untyped-call]
        await connection.send_command("CLIENT", "ID")
        own_id = await connection.read_response()
        await connection.send_command(
            "CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST",
            "PREFIX", self._docs, "PREFIX", self._checkpoints,
        )  # fmt: skip
        await connection.read_response()
        await connection.send_command("SUBSCRIBE", CHANNEL)
        await connection.read_response()

    async def _listen(
        self, connection: AbstractConnection, listener: ChangeListener
    ) -> None:
        heard = [time.monotonic()]
        reading = asyncio.create_task(self._read(connection, listener, heard))
        pinging = asyncio.create_task(self._ping(connection, heard))
        try:
            done, _ = await asyncio.wait(
                {reading, pinging}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (reading, pinging):
                task.cancel()
            # both awaited whatever either ended with (done re-raises below)
            await asyncio.gather(reading, pinging, return_exceptions=True)
        for task in done:
            task.result()  # what ended it

    async def _read(
        self,
        connection: AbstractConnection,
        listener: ChangeListener,
        heard: list[float],
    ) -> None:
        while True:
            reply = await connection.read_response(timeout=math.inf)
            heard[0] = time.monotonic()
            if isinstance(reply, list) and reply[:2] == [b"message", CHANNEL]:
                self._tell(listener, reply[2])

    def _tell(self, listener: ChangeListener, keys: list[bytes] | None) -> None:
        if keys is None:  # FLUSHDB, FLUSHALL
            listener.changed(None, ())
            return
        docs: list[str] = []
        projections: list[str] = []
        for key in keys:
            if key.startswith(self._docs):
                docs.append(key[len(self._docs) :].decode())
            elif key.startswith(self._checkpoints):
                projections.append(key[len(self._checkpoints) :].decode())
        listener.changed(docs, projections)

    async def _ping(self, connection: AbstractConnection, heard: list[float]) -> None:
        while True:
            await asyncio.sleep(self._ping_every)
            if time.monotonic() - heard[0] > 3 * self._ping_every:
                raise Silent(f"no answer for {3 * self._ping_every:g} s")
            if not connection.is_connected:
                raise rx.ConnectionError("the tracking connection closed")
            await connection.send_command("PING")
