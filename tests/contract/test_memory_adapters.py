"""The in-memory adapters under the kit's contract suites (cqrskit.testing).

Each handle of these adapters is storage of its own: the tests that reopen
storage, or write to it from several handles, are skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from cqrskit.adapters.memory import (
    InMemoryBroker,
    InMemoryEventStore,
    InMemoryReadStore,
)
from cqrskit.adapters.memory.lease import InProcessLease
from cqrskit.adapters.memory.membership import InMemoryMembership
from cqrskit.core.ports import Broker, EventLog, Membership, ReadStore
from cqrskit.testing import (
    BrokerContract,
    EventStoreContract,
    InspectableContract,
    LeaseContract,
    MakeLease,
    MembershipContract,
    Opener,
    ReadStoreContract,
    RebuildContract,
    SnapshotStoreContract,
    StreamCatalogContract,
    TextSearchContract,
    WatchableContract,
)

T = TypeVar("T")


def each_new(make: Callable[[], T]) -> Opener[T]:
    async def opener() -> T:
        return make()

    return opener


@pytest.fixture
def event_store_opener() -> Opener[EventLog]:
    return each_new(InMemoryEventStore)


@pytest.fixture
def read_store_opener() -> Opener[ReadStore]:
    return each_new(InMemoryReadStore)


class TestInMemoryEventStore(EventStoreContract):
    shares_storage = False


class TestInMemorySnapshots(SnapshotStoreContract):
    shares_storage = False


class TestInMemoryStreams(StreamCatalogContract):
    shares_storage = False


class TestInMemoryReadStore(ReadStoreContract):
    shares_storage = False


class TestInMemorySearch(TextSearchContract):
    shares_storage = False


class TestInMemoryRebuild(RebuildContract):
    shares_storage = False


class TestInMemoryInspection(InspectableContract):
    shares_storage = False


class TestInMemoryBroker(BrokerContract):
    @pytest.fixture
    def broker_opener(self) -> Opener[Broker]:
        return each_new(lambda: InMemoryBroker(partitions=4, redelivery_delay=0.01))


class TestInProcessLease(LeaseContract):
    @pytest.fixture
    def lease_maker(self) -> MakeLease:
        positions = InMemoryEventStore()
        return lambda name: InProcessLease(name, positions)


class TestInMemoryMembership(MembershipContract):
    @pytest.fixture
    def membership_opener(self) -> Opener[Membership]:
        shared = InMemoryMembership()
        return each_new(lambda: shared)


class TestInMemoryWatch(WatchableContract):
    shares_storage = False
