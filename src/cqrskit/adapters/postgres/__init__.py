"""PostgreSQL adapters: the event store and the leader lock of single-active roles."""

from cqrskit.adapters.postgres.event_store import PostgresEventStore
from cqrskit.adapters.postgres.leader import PostgresLeaderLock

__all__ = ["PostgresEventStore", "PostgresLeaderLock"]
