"""The applied → visible stage, timed from checkpoint notices (`core.visible`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.stages import APPLIED_TO_VISIBLE
from cqrskit.core.visible import VisibleClock


class Stages:
    def __init__(self) -> None:
        self.seen: list[tuple[str, float]] = []

    def observe(self, stage: str, seconds: float) -> None:
        self.seen.append((stage, seconds))


class Store:
    """Each projection's last commit was `age` s ago by the store's clock;
    a read waits for `answer` when a test holds it."""

    def __init__(self, age: float) -> None:
        self.age = age
        self.reads: list[list[str]] = []
        self.answer = asyncio.Event()
        self.answer.set()
        self.fail = False

    async def applied_ages(self, projections: Sequence[str]) -> dict[str, float]:
        self.reads.append(list(projections))
        await self.answer.wait()
        if self.fail:
            raise StoreUnavailable("Redis cannot serve")
        return {name: self.age for name in projections if name != "never"}


async def _settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_checkpoint_notice_is_timed_from_the_commit_by_the_stores_clock() -> (
    None
):
    store, stages = Store(age=0.004), Stages()
    clock = VisibleClock(store, stages)

    clock.changed(["product:MUG-1"], ["catalog", "never"])
    await _settled()

    assert store.reads == [["catalog", "never"]]
    assert [stage for stage, _ in stages.seen] == [APPLIED_TO_VISIBLE]
    assert 0 <= stages.seen[0][1] <= 0.004


async def test_notices_of_documents_alone_are_not_timed() -> None:
    store, stages = Store(age=0.004), Stages()
    VisibleClock(store, stages).changed(["product:MUG-1"], [])
    await _settled()

    assert store.reads == []
    assert stages.seen == []


async def test_notices_during_a_read_are_read_together_next() -> None:
    store, stages = Store(age=0.004), Stages()
    clock = VisibleClock(store, stages, every=0)
    store.answer.clear()

    clock.changed([], ["catalog"])
    await _settled()
    clock.changed([], ["orders"])
    clock.changed([], ["catalog"])
    store.answer.set()
    await _settled()

    assert store.reads == [["catalog"], ["orders", "catalog"]]
    assert len(stages.seen) == 3


async def test_a_store_that_cannot_serve_costs_the_figure_not_the_next_one() -> None:
    store, stages = Store(age=0.004), Stages()
    clock = VisibleClock(store, stages, every=0)
    store.fail = True
    clock.changed([], ["catalog"])
    await _settled()
    store.fail = False

    clock.changed([], ["catalog"])
    await _settled()

    assert len(store.reads) == 2
    assert len(stages.seen) == 1


async def test_notices_are_read_at_most_once_every_so_often() -> None:
    store, stages = Store(age=0.004), Stages()
    clock = VisibleClock(store, stages, every=60)
    clock.changed([], ["catalog"])
    await _settled()

    clock.changed([], ["catalog"])
    await _settled()

    assert store.reads == [["catalog"]]  # the second waits its turn


async def test_a_read_that_finds_a_later_commit_than_the_notice_is_not_counted() -> (
    None
):
    store, stages = Store(age=-0.001), Stages()  # committed after the notice
    VisibleClock(store, stages).changed([], ["catalog"])
    await _settled()

    assert store.reads == [["catalog"]]
    assert stages.seen == []
