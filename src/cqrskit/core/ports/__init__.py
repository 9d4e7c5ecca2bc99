"""The ports of the core, split by capability. Adapters implement them.

A module for each side: `events` (the event store, its log and the relay's
position), `snapshots` (folded states kept beside the events), `broker` (the
batches carried to the projectors, and who owns which partition), `lease` (the
relay's leadership), `read_store` (the views and what a store can do with
them) and `watching` (a read store telling of its changes). Every port is
re-exported here: `from cqrskit.core.ports import X` is how the kit and its
adapters name one."""

from __future__ import annotations

from cqrskit.core.ports.broker import BatchHandler, Broker, Membership, Ownership
from cqrskit.core.ports.events import (
    CommitFeed,
    EventLog,
    EventStore,
    LogIndex,
    PositionStore,
    StreamCatalog,
    StreamSummary,
)
from cqrskit.core.ports.lease import Lease, LeaseHolder, LeaseLost
from cqrskit.core.ports.read_store import (
    FullReadStore,
    IndexEntry,
    Inspectable,
    ReadStore,
    Rebuildable,
    SearchableStore,
    TextSearch,
    VersionMove,
    ViewChanges,
)
from cqrskit.core.ports.snapshots import Snapshot, SnapshotStore
from cqrskit.core.ports.watching import ChangeListener, CommitTimes, Watchable

__all__ = [
    "BatchHandler",
    "Broker",
    "ChangeListener",
    "CommitFeed",
    "CommitTimes",
    "EventLog",
    "EventStore",
    "FullReadStore",
    "IndexEntry",
    "Inspectable",
    "Lease",
    "LeaseHolder",
    "LeaseLost",
    "LogIndex",
    "Membership",
    "Ownership",
    "PositionStore",
    "ReadStore",
    "Rebuildable",
    "SearchableStore",
    "Snapshot",
    "SnapshotStore",
    "StreamCatalog",
    "StreamSummary",
    "TextSearch",
    "VersionMove",
    "ViewChanges",
    "Watchable",
]
