"""A connection pool confined to one schema, driver errors, and migrations.

Every pooled connection starts with `search_path` set to the store's schema, so
the SQL names its tables unqualified and two schemas in one database (a test's,
a tenant's) never see each other.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import asyncpg

from cqrskit.core.errors import Misconfigured, StoreUnavailable

Migration = Sequence[str]
"""The statements that take a component's schema one version up."""

# Failures of the server or of the way to it, not of the statement: class 08
# (connection exception, which asyncpg also raises when the socket is lost),
# class 53 (insufficient resources: too many connections, disk full) and the
# shutdown and start-up states of class 57.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.DatabaseDroppedError,
)
# What asyncpg raises on its side when a restart takes the connection away in
# the middle of a call: "connection is closed", "pool is closing", or a
# protocol state it cannot make sense of (InternalClientError). Seen as 500s
# during a restart before they were translated. Other interface errors (a
# wrong number of arguments) are bugs and go through.
# Refused credentials (class 28) and a database that does not exist.
_MISCONFIGURED = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)
_LOST_CONNECTION = ("closed", "closing", "connection was lost")
_SCHEMA_MIGRATIONS_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        component text NOT NULL,
        version integer NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (component, version)
    )
"""


@contextmanager
def translate_errors() -> Iterator[None]:
    """Raise StoreUnavailable for driver errors about the server's condition."""
    try:
        yield
    except _UNAVAILABLE as e:
        raise StoreUnavailable(f"PostgreSQL cannot serve: {e}") from e
    except _MISCONFIGURED as e:
        raise Misconfigured(f"PostgreSQL refuses this configuration: {e}") from e
    except asyncpg.InternalClientError as e:
        raise StoreUnavailable(f"PostgreSQL connection broke: {e!r}") from e
    except asyncpg.InterfaceError as e:
        if not any(words in str(e) for words in _LOST_CONNECTION):
            raise
        raise StoreUnavailable(f"PostgreSQL connection lost: {e}") from e


def quote_ident(name: str) -> str:
    """`name` as an SQL identifier, whatever characters it holds."""
    if not name or "\x00" in name:
        raise ValueError(f"not a usable PostgreSQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


async def open_pool(dsn: str, schema: str, size: int) -> asyncpg.Pool:
    """A pool of up to `size` connections whose unqualified names mean `schema`."""
    with translate_errors():
        return await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=size,
            server_settings={
                "search_path": quote_ident(schema),
                "application_name": "cqrskit",
            },
            reset=_keep_session,
        )


async def _keep_session(_: asyncpg.Connection) -> None:
    """Reset nothing when a connection goes back to the pool (asyncpg still rolls
    back a transaction left open). The store changes no session state (no SET,
    LISTEN, cursors or session advisory locks), so the default reset's RESET ALL
    and the rest would cost a round trip per statement for nothing."""


async def migrate(
    pool: asyncpg.Pool, schema: str, component: str, migrations: Sequence[Migration]
) -> None:
    """Bring `component`'s tables in `schema` to the newest version.

    Several processes may start at once: each takes the same transaction-level
    advisory lock first, so one migrates and the others then find nothing to do.
    """
    with translate_errors():
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                f"cqrskit.migrate:{schema}",
            )
            current = await _applied_version(conn, component)
            if current > len(migrations):
                raise StoreUnavailable(
                    f"the {component} schema in {schema!r} is at version {current};"
                    f" this code knows versions up to {len(migrations)}"
                )
            if current == len(migrations):
                return  # up to date: no DDL, so no CREATE privilege is needed
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema
            ):
                await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
            await conn.execute(_SCHEMA_MIGRATIONS_TABLE)
            for version in range(current + 1, len(migrations) + 1):
                for statement in migrations[version - 1]:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version)"
                    " VALUES ($1, $2)",
                    component,
                    version,
                )


async def _applied_version(
    conn: asyncpg.pool.PoolConnectionProxy, component: str
) -> int:
    """The newest version applied, 0 for none (nor a schema_migrations table)."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    version: int = await conn.fetchval(
        "SELECT coalesce(max(version), 0) FROM schema_migrations WHERE component = $1",
        component,
    )
    return version
