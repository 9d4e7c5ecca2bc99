"""SQLite adapters: the embedded event store and read store."""

from cqrskit.adapters.sqlite.event_store import SqliteEventStore
from cqrskit.adapters.sqlite.read_store import SqliteReadStore

__all__ = ["SqliteEventStore", "SqliteReadStore"]
