"""In-memory adapters, for unit tests and as the reference of each contract."""

from cqrskit.adapters.memory.broker import InMemoryBroker
from cqrskit.adapters.memory.event_store import InMemoryEventStore
from cqrskit.adapters.memory.read_store import InMemoryReadStore

__all__ = ["InMemoryBroker", "InMemoryEventStore", "InMemoryReadStore"]
