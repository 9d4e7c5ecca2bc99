"""Adapters chosen by URL (DESIGN.md rule 8). Drivers are imported only when
their URL is used, so the embedded mode needs none of them to be reachable."""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.adapters.memory.membership import InMemoryMembership
from cqrskit.core.ports import Broker, EventLog, Lease, Membership, ReadStore
from cqrskit.runtime.settings import sqlite_path


class UnsupportedUrl(ValueError):
    pass


def _take_param(url: str, name: str) -> tuple[str, str | None]:
    """Split `?name=value` (ours, not the driver's) off a URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    value = next((v for k, v in query if k == name), None)
    rest = urlencode([(k, v) for k, v in query if k != name])
    return urlunsplit(parts._replace(query=rest)), value


def _sqlite_file(url: str) -> Path:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


async def open_event_store(url: str) -> EventLog:
    if url.startswith("memory://"):
        return InMemoryEventStore()
    if url.startswith("sqlite:///"):
        from cqrskit.adapters.sqlite import SqliteEventStore

        return await SqliteEventStore.open(_sqlite_file(url))
    if url.startswith(("postgresql://", "postgres://")):
        from cqrskit.adapters.postgres import PostgresEventStore

        return await PostgresEventStore.open(url)
    raise UnsupportedUrl(f"no event store adapter for {url!r}")


async def open_read_store(url: str, *, namespace: str | None = None) -> ReadStore:
    if url.startswith("memory://"):
        return InMemoryReadStore()
    if url.startswith("sqlite:///"):
        from cqrskit.adapters.sqlite import SqliteReadStore

        return await SqliteReadStore.open(_sqlite_file(url))
    if url.startswith(("redis://", "rediss://", "unix://")):
        from cqrskit.adapters.redis import RedisReadStore

        url, given = _take_param(url, "namespace")
        return await RedisReadStore.open(url, namespace=namespace or given or "cqrskit")
    raise UnsupportedUrl(f"no read store adapter for {url!r}")


async def open_membership(read_store_url: str) -> Membership:
    """Projectors announce themselves in the read store they all write to."""
    if read_store_url.startswith("memory://"):
        return InMemoryMembership()
    if read_store_url.startswith("sqlite:///"):
        from cqrskit.adapters.sqlite.membership import SqliteMembership

        return await SqliteMembership.open(_sqlite_file(read_store_url))
    if read_store_url.startswith(("redis://", "rediss://", "unix://")):
        from cqrskit.adapters.redis.membership import RedisMembership

        url, namespace = _take_param(read_store_url, "namespace")
        return await RedisMembership.open(url, namespace=namespace or "cqrskit")
    raise UnsupportedUrl(f"no membership adapter for {read_store_url!r}")


async def open_broker(url: str, partitions: int) -> Broker:
    if url.startswith("memory://"):
        return InMemoryBroker(partitions)
    if url.startswith(("amqp://", "amqps://")):
        from cqrskit.adapters.rabbitmq import RabbitMqBus

        url, prefix = _take_param(url, "prefix")
        return await RabbitMqBus.open(
            url, partitions=partitions, prefix=prefix or "cqrskit"
        )
    raise UnsupportedUrl(f"no broker adapter for {url!r}")


def open_lease(event_store_url: str, name: str) -> Lease:
    """The relay's lease lives next to the event store it reads."""
    if event_store_url.startswith(("postgresql://", "postgres://")):
        from cqrskit.adapters.postgres import PostgresLeaderLock

        return PostgresLeaderLock(event_store_url, name)
    if event_store_url.startswith("sqlite:///"):
        return FileLease(_sqlite_file(event_store_url).with_suffix(f".{name}.lock"))
    return ProcessLease()


class FileLease:
    """An exclusive flock on a file: released by the OS when the process dies."""

    def __init__(self, path: Path, poll_interval: float = 0.5) -> None:
        self._path = path
        self._poll_interval = poll_interval
        self._fd: int | None = None

    async def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._fd = fd
                return
            except BlockingIOError:
                await asyncio.sleep(self._poll_interval)

    async def check(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ProcessLease:
    """For stores private to one process: nobody else can compete."""

    async def acquire(self) -> None:
        return None

    async def check(self) -> bool:
        return True

    async def release(self) -> None:
        return None
