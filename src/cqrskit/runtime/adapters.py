"""Adapters chosen by URL (DESIGN.md rule 8). Drivers are imported only when
their URL is used, so the embedded mode needs none of them to be reachable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.adapters.memory.lease import InProcessLease
from cqrskit.adapters.memory.membership import InMemoryMembership
from cqrskit.adapters.pyjwt import JwtVerifier
from cqrskit.core import tracing
from cqrskit.core.auth import TokenVerifier
from cqrskit.core.errors import Misconfigured
from cqrskit.core.ports import (
    Broker,
    EventLog,
    FullReadStore,
    Lease,
    LeaseHolder,
    Membership,
    PositionStore,
)
from cqrskit.runtime.settings import Settings, sqlite_path


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


async def open_read_store(url: str, *, namespace: str | None = None) -> FullReadStore:
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
    """The broker `url` names; its batches are spans when traces are on."""
    broker = await _open_broker(url, partitions)
    return tracing.TracedBroker(broker) if tracing.enabled() else broker


async def _open_broker(url: str, partitions: int) -> Broker:
    if url.startswith("memory://"):
        return InMemoryBroker(partitions)
    if url.startswith(("amqp://", "amqps://")):
        from cqrskit.adapters.rabbitmq import RabbitMqBus

        url, prefix = _take_param(url, "prefix")
        return await RabbitMqBus.open(
            url, partitions=partitions, prefix=prefix or "cqrskit"
        )
    raise UnsupportedUrl(f"no broker adapter for {url!r}")


def open_lease(event_store_url: str, name: str, positions: PositionStore) -> Lease:
    """The relay's lease lives next to the event store it reads; it keeps the
    position in `positions` (the PostgreSQL lease through its own session)."""
    if event_store_url.startswith(("postgresql://", "postgres://")):
        from cqrskit.adapters.postgres import PostgresLease

        return PostgresLease(event_store_url, name)
    if event_store_url.startswith("sqlite:///"):
        from cqrskit.adapters.sqlite.lease import FileLease

        path = _sqlite_file(event_store_url).with_suffix(f".{name}.lock")
        return FileLease(path, positions)
    return InProcessLease(name, positions)


async def lease_holder(event_store_url: str, name: str) -> LeaseHolder | None:
    """Who holds the lease `name` kept beside the event store, if anyone
    (None where leases live in a process's memory: nobody outside sees them)."""
    if event_store_url.startswith(("postgresql://", "postgres://")):
        from cqrskit.adapters.postgres.leader import lease_holder as postgres_holder

        return await postgres_holder(event_store_url, name)
    if event_store_url.startswith("sqlite:///"):
        from cqrskit.adapters.sqlite.lease import file_lease_holder

        return file_lease_holder(
            sqlite_path(event_store_url).with_suffix(f".{name}.lock")
        )
    return None


_SCHEMES = {
    "event store": ("memory://", "sqlite:///", "postgresql://", "postgres://"),
    "broker": ("memory://", "amqp://", "amqps://"),
    "read store": ("memory://", "sqlite:///", "redis://", "rediss://", "unix://"),
}


def check_url(kind: str, url: str) -> None:
    """Refuse a URL no adapter serves before any waiting for it begins."""
    if not url.startswith(_SCHEMES[kind]):
        raise UnsupportedUrl(f"no {kind} adapter for {url!r}")


def token_verifier(settings: Settings) -> TokenVerifier:
    """The bearer-token verifier the settings name; a service never starts
    without one (Misconfigured)."""
    if not settings.has_auth_key:
        raise Misconfigured(
            "no key to verify bearer tokens: set CQRSKIT_AUTH_SECRET (HS256) "
            "or CQRSKIT_AUTH_JWKS_URL (an identity provider's keys)"
        )
    return JwtVerifier(
        secret=settings.auth_secret,
        jwks_url=settings.auth_jwks_url,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )
