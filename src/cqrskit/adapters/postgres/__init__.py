"""PostgreSQL adapters: the event store and the lease of single-active roles."""

from cqrskit.adapters.postgres.event_store import PostgresEventStore
from cqrskit.adapters.postgres.leader import PostgresLease

__all__ = ["PostgresEventStore", "PostgresLease"]
