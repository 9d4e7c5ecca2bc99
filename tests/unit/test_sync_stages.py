"""The relay publishes a commit it hears of without waiting for its poll, polls
when it cannot hear, and hears again once it can; each batch's way from commit
to the read store is timed per stage in `cqrskit_sync_stage_seconds`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest

from cqrskit.adapters.memory import InMemoryBroker, InMemoryEventStore
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.messages import Metadata, NewEvent, RecordedEvent, StreamAppend
from cqrskit.core.relay import Relay
from cqrskit.core.stages import timed
from cqrskit.runtime.embedded import running_system
from cqrskit.runtime.lag import SyncStageMetrics
from cqrskit.runtime.settings import Settings
from cqrskit.shop.app import app as SHOP

LONG_POLL = 30.0
PROMPTLY = 5.0
"""Far more than a wake-up takes, far less than the poll: a relay that only
polled fails, a slow machine does not."""


class DeafFeed:
    """A commit feed that cannot hear until `hearing` is set (its connection
    is refused), then hears what the store hears."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self.store = store
        self.hearing = asyncio.Event()
        self.refused = 0
        self.heard = asyncio.Event()
        """Set once a commit was heard and passed on."""

    async def commits(self) -> AsyncIterator[None]:
        if not self.hearing.is_set():
            self.refused += 1
            raise StoreUnavailable("the feed's connection is refused")
        listening = True
        async for _ in self.store.commits():
            if not listening:
                self.heard.set()
            listening = False
            yield


class Flow:
    def __init__(self, relay: Relay, broker: InMemoryBroker) -> None:
        self.relay = relay
        self.broker = broker
        self.delivered: asyncio.Queue[RecordedEvent] = asyncio.Queue()

    async def handle(self, _: int, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            self.delivered.put_nowait(event)

    async def next_delivered(self) -> RecordedEvent:
        return await asyncio.wait_for(self.delivered.get(), PROMPTLY)


async def _append(store: InMemoryEventStore, stream_id: str) -> RecordedEvent:
    (event,) = await store.append(
        [StreamAppend(stream_id, 0, [NewEvent("Happened", {})])],
        metadata=Metadata(command_id="c"),
    )
    return event


async def _running(flow: Flow) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(flow.relay.run()),
        asyncio.create_task(flow.broker.consume(flow.handle)),
    ]


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_heard_commit_is_published_without_waiting_for_the_poll() -> None:
    store, broker = InMemoryEventStore(), InMemoryBroker(partitions=2)
    relay = Relay(store, store, broker, poll_interval=LONG_POLL, commits=store)
    flow = Flow(relay, broker)
    tasks = await _running(flow)
    try:
        await asyncio.sleep(0.05)  # the relay has read the empty log and waits
        for n in range(3):
            appended = await _append(store, f"cart-{n}")

            assert await flow.next_delivered() == appended
    finally:
        await _stop(tasks)


async def test_a_relay_that_cannot_hear_polls_and_hears_again_once_it_can() -> None:
    store, broker = InMemoryEventStore(), InMemoryBroker(partitions=2)
    feed = DeafFeed(store)
    relay = Relay(store, store, broker, poll_interval=0.05, commits=feed)
    flow = Flow(relay, broker)
    tasks = await _running(flow)
    try:
        polled = await _append(store, "cart-polled")

        assert await flow.next_delivered() == polled
        assert feed.refused >= 1

        feed.hearing.set()
        for n in range(100):  # until the relay listens again (backoff)
            await _append(store, f"cart-{n}")
            await flow.next_delivered()
            if feed.heard.is_set():
                break

        assert feed.heard.is_set()
    finally:
        await _stop(tasks)


def _counts(registry: CollectorRegistry) -> dict[str, float]:
    counts = {}
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("cqrskit_sync_stage_seconds_count"):
            stage = line.split('stage="')[1].split('"')[0]
            counts[stage] = float(line.rsplit(" ", 1)[1])
    return counts


async def test_each_stage_of_a_batch_is_timed_once() -> None:
    store, broker = InMemoryEventStore(), InMemoryBroker(partitions=1)
    stages = SyncStageMetrics()
    registry = CollectorRegistry()
    registry.register(stages)
    relay = Relay(store, store, broker, commits=store, stages=stages)
    flow = Flow(relay, broker)
    tasks = [
        asyncio.create_task(relay.run()),
        asyncio.create_task(broker.consume(timed(flow.handle, stages))),
    ]
    try:
        await _append(store, "cart-1")
        await flow.next_delivered()
        await asyncio.sleep(0.01)  # the handler's own return, where it is timed
    finally:
        await _stop(tasks)

    assert _counts(registry) == {
        "committed_to_read": 1.0,
        "read_to_confirmed": 1.0,
        "published_to_delivered": 1.0,
        "delivered_to_applied": 1.0,
    }


async def test_the_one_process_system_times_every_stage() -> None:
    settings = Settings(
        event_store_url="memory://", broker_url="memory://", read_store_url="memory://"
    )
    async with running_system(SHOP, settings) as system:
        registry = CollectorRegistry()
        registry.register(system.stages)
        await system.event_store.append(
            [StreamAppend("note-1", 0, [NewEvent("Noted", {})])],  # no view reads it
            metadata=Metadata(command_id="c"),
        )
        for _ in range(500):
            if len(_counts(registry)) == 4:
                break
            await asyncio.sleep(0.01)

    assert set(_counts(registry)) == {
        "committed_to_read",
        "read_to_confirmed",
        "published_to_delivered",
        "delivered_to_applied",
    }
