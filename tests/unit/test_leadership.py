"""The relay's leadership loop: lead while the lease holds, stop publishing
and stand by the moment it is lost, lead again when it comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from cqrskit.adapters.memory import InMemoryBroker, InMemoryEventStore
from cqrskit.adapters.memory.lease import LocalLease
from cqrskit.core.leadership import lead_forever
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.runtime import bootstrap


class HandedLease(LocalLease):
    """A lease the test hands out and takes away, as a rival or a server would."""

    def __init__(self, store: InMemoryEventStore) -> None:
        super().__init__("relay", store)
        self.granted = asyncio.Event()
        self.held = False

    async def acquire(self) -> None:
        await self.granted.wait()
        self.held = True

    def valid(self) -> bool:
        return self.held and self.granted.is_set()

    async def release(self) -> None:
        self.held = False


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never: {what}")


async def test_a_relay_steps_down_when_its_lease_is_lost_and_leads_again() -> None:
    store = InMemoryEventStore()
    lease = HandedLease(store)
    relay = bootstrap.relay(store, InMemoryBroker(2), lease)
    leading: list[bool] = []
    task = asyncio.create_task(
        lead_forever(lease, relay, renew_every=0.02, on_change=leading.append)
    )

    async def append(stream: str) -> None:
        event = NewEvent("Happened", {})
        await store.append([StreamAppend(stream, 0, [event])], metadata=Metadata())

    try:
        await append("s-1")
        lease.granted.set()
        await _until(lambda: relay.published == 1, "published while leading")

        lease.granted.clear()  # lost: another relay holds it now
        await _until(lambda: leading == [True, False], "stepped down")
        await append("s-2")
        await asyncio.sleep(0.1)
        assert relay.published == 1, "a relay without its lease published"
        assert await store.load_position("relay") == 1
        assert not task.done(), "it stands by, it does not exit"

        lease.granted.set()
        await _until(lambda: relay.published == 2, "published after leading again")
        assert leading == [True, False, True]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
