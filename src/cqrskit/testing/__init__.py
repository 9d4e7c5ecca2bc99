"""What a test of something built on cqrskit needs, shipped with the kit.

- Contract suites, one class per port: an adapter's test module subclasses one
  and defines the fixture that opens the adapter under test (see each class),
  the way the kit's own adapters run them (tests/contract).
- Given/when/then for deciders and for command handlers.

Needs the `testing` extra (`pip install cqrskit[testing]`): pytest,
pytest-asyncio and hypothesis. No runtime module of the kit imports it.
"""

from __future__ import annotations

from cqrskit.testing._handles import Opener
from cqrskit.testing.broker import BrokerContract
from cqrskit.testing.deciders import given
from cqrskit.testing.event_store import EventStoreContract
from cqrskit.testing.handlers import given_streams, handling
from cqrskit.testing.inspectable import InspectableContract
from cqrskit.testing.lease import BreakLease, LeaseContract, MakeLease
from cqrskit.testing.membership import MembershipContract
from cqrskit.testing.read_store import ReadStoreContract
from cqrskit.testing.rebuild import RebuildContract
from cqrskit.testing.search import TextSearchContract
from cqrskit.testing.snapshot_store import SnapshotStoreContract
from cqrskit.testing.stream_catalog import StreamCatalogContract
from cqrskit.testing.watch import WatchableContract

__all__ = [
    "BreakLease",
    "BrokerContract",
    "EventStoreContract",
    "InspectableContract",
    "LeaseContract",
    "MakeLease",
    "MembershipContract",
    "Opener",
    "ReadStoreContract",
    "RebuildContract",
    "SnapshotStoreContract",
    "StreamCatalogContract",
    "TextSearchContract",
    "WatchableContract",
    "given",
    "given_streams",
    "handling",
]
