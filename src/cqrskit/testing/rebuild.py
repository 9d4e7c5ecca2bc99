"""The Rebuildable contract (a scratch store beside the live one, adopted
atomically): every read store adapter of the kit runs it.

What a scratch holds and what an adopt replaces stand in `_rebuild_adopt`;
here, that an adopt is fenced and that readers see it whole."""

from __future__ import annotations

import asyncio

import pytest

from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.pause import GENERATION, generation, move_generation
from cqrskit.core.ports import VersionMove
from cqrskit.core.rebuild import RebuildableStore
from cqrskit.testing._rebuild_adopt import (
    CATALOG,
    NOT_OWNED,
    OWNED,
    PREFIXES,
    RESUME,
    AdoptContract,
    Open,
    changes,
    members,
    moves,
)

__all__ = [
    "CATALOG",
    "NOT_OWNED",
    "OWNED",
    "PREFIXES",
    "RESUME",
    "SWAPPED",
    "Open",
    "RebuildContract",
    "changes",
    "members",
    "moves",
]


SWAPPED = 3000
"""Documents in the atomicity test: enough that an adopt done in several steps
would be caught between them."""


class RebuildContract(AdoptContract):
    """What every Rebuildable read store promises: a scratch store beside the
    live one, adopted atomically."""

    pytestmark = pytest.mark.asyncio

    async def test_live_commits_go_on_from_the_adopted_checkpoints(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        """A live projector that read the old checkpoint is fenced off."""
        await live.commit("catalog", changes({"product:1": b"old"}), moves(p_1=5))
        await scratch.commit("catalog", changes({"product:1": b"v3"}), moves(p_1=3))
        await live.adopt(scratch, "catalog", CATALOG, RESUME)

        with pytest.raises(ConcurrencyError):
            await live.commit(
                "catalog", changes({"product:1": b"v6"}), {"p-1": VersionMove(5, 6)}
            )
        await live.commit(
            "catalog", changes({"product:1": b"v4"}), {"p-1": VersionMove(3, 4)}
        )

        assert await live.get("product:1") == b"v4"

    async def test_adopt_is_fenced_by_the_generation_and_sets_the_new_one(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        """A swap happens only under the pause its caller holds; the projection
        then carries the new generation, and a batch read before is refused."""
        await live.commit("catalog", changes({"product:1": b"old"}), moves(p_1=5))
        await scratch.commit("catalog", changes({"product:1": b"new"}), moves(p_1=6))
        await move_generation(live, "catalog", VersionMove(0, -1000))  # someone paused
        await move_generation(live, "catalog", VersionMove(-1000, 1001))  # and resumed

        with pytest.raises(ConcurrencyError):
            await live.adopt(scratch, "catalog", CATALOG, VersionMove(-1000, 1002))

        assert await live.get("product:1") == b"old"
        assert await live.stream_versions("catalog", ["p-1", GENERATION]) == {
            "p-1": 5,
            GENERATION: 1001,
        }
        await live.adopt(scratch, "catalog", CATALOG, VersionMove(1001, 1002))
        assert await live.get("product:1") == b"new"
        assert await generation(live, "catalog") == 1002
        stale = {"p-1": VersionMove(6, 7), GENERATION: VersionMove(1001, 1001)}
        with pytest.raises(ConcurrencyError):
            await live.commit("catalog", changes({"product:1": b"stale"}), stale)
        fresh = {"p-1": VersionMove(6, 7), GENERATION: VersionMove(1002, 1002)}
        await live.commit("catalog", changes({"product:1": b"v7"}), fresh)
        assert await live.get("product:1") == b"v7"

    async def test_a_reader_sees_all_old_views_or_all_new_ones(
        self, live: RebuildableStore, scratch: RebuildableStore, open_read_store: Open
    ) -> None:
        """The live store holds product:0..1999 (old), the scratch product:1000..2999
        (new). While the scratch is adopted, readers on other connections read in a
        loop, one all 3000 keys, one every 100th (quick, so it looks often). Each
        read must be one of the two whole states."""
        everything = [f"product:{n}" for n in range(SWAPPED)]
        old = dict.fromkeys(everything[: SWAPPED * 2 // 3], b"old")
        new = dict.fromkeys(everything[SWAPPED // 3 :], b"new")
        await live.commit("catalog", changes(old), {})
        await scratch.commit("catalog", changes(new), {})
        adopting, adopted = asyncio.Event(), asyncio.Event()
        during: list[str] = []

        async def watch(keys: list[str], ready: asyncio.Event) -> None:
            reader = await open_read_store()
            states = {
                "old": [old.get(key) for key in keys],
                "new": [new.get(key) for key in keys],
            }
            while not adopted.is_set():
                started_during = adopting.is_set()
                snapshot = await reader.get_many(keys)
                state = next(
                    (s for s, want in states.items() if snapshot == want), "mix"
                )
                assert state != "mix", "a reader saw part of the adopt"
                if started_during:
                    during.append(state)
                ready.set()
                await asyncio.sleep(0)

        ready = [asyncio.Event(), asyncio.Event()]
        readers = [
            asyncio.create_task(watch(everything, ready[0])),
            asyncio.create_task(watch(everything[::100], ready[1])),
        ]
        await asyncio.gather(*(event.wait() for event in ready))
        adopting.set()
        try:
            await live.adopt(scratch, "catalog", CATALOG, RESUME)
        finally:
            adopted.set()
            await asyncio.gather(*readers)

        assert during, "no read overlapped the adopt"
        assert await live.get_many(everything) == [new.get(key) for key in everything]
