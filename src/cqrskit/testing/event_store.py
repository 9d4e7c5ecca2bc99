"""The EventStore and PositionStore contract: every event store adapter runs it.

The tests stand by theme in private modules: what an append writes and
refuses and reading it back (`_event_store_appends`), the log, positions,
concurrency and the commit feed (`_event_store_log`), and the fixtures and
helpers they share (`_event_store_fixtures`)."""

from __future__ import annotations

import pytest

from cqrskit.testing._event_store_appends import AppendContract
from cqrskit.testing._event_store_fixtures import (
    META,
    EventStoreFixtures,
    Open,
    append,
    events,
    everything,
)
from cqrskit.testing._event_store_log import HEARING, LogContract

__all__ = [
    "HEARING",
    "META",
    "EventStoreContract",
    "EventStoreFixtures",
    "Open",
    "append",
    "events",
    "everything",
]


# pytest collects the tests of a class's bases last base first: this order
# keeps the tests (and their ids) in the order they were written.
class EventStoreContract(LogContract, AppendContract):
    """What every EventStore (and the PositionStore beside it) promises."""

    pytestmark = pytest.mark.asyncio
