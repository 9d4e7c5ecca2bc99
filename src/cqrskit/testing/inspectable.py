"""The Inspectable contract (listing a projection's checkpoints, documents and
index entries under prefixes): every read store adapter of the kit runs it."""

from __future__ import annotations

from typing import cast

import pytest

from cqrskit.core.pause import GENERATION
from cqrskit.core.ports import (
    IndexEntry,
    Inspectable,
    ReadStore,
    VersionMove,
    ViewChanges,
)
from cqrskit.testing.read_store import ReadStoreFixtures


class InspectableContract(ReadStoreFixtures):
    """What every Inspectable read store promises."""

    pytestmark = pytest.mark.asyncio

    async def test_lists_what_lies_under_the_prefixes_and_nothing_else(
        self,
        read_store: ReadStore,
    ) -> None:
        store = cast(Inspectable, read_store)
        puts = {
            ("catalog", "b"): IndexEntry("b", "2", "Bee"),
            ("catalog", "a"): IndexEntry("a", "2", "Ant"),
            ("catalog:category:x", "a"): IndexEntry("a", "1"),
            ("cat%_", "z"): IndexEntry("z", "1"),
            ("orders", "o"): IndexEntry("o", "1"),
        }
        docs: dict[str, bytes | None] = {
            "product:1": b"one",
            "product:2": b"two",
            "cat%_x": b"literal",
            "order:1": b"other",
        }
        await read_store.commit(
            "catalog",
            ViewChanges(docs, puts, set()),
            {"p-1": VersionMove(0, 3), GENERATION: VersionMove(0, 0)},
        )
        await read_store.commit(
            "orders", ViewChanges.empty(), {"o-1": VersionMove(0, 2)}
        )

        assert await store.checkpoints("catalog") == {"p-1": 3, GENERATION: 0}
        assert await store.checkpoints("orders") == {"o-1": 2}
        assert await store.checkpoints("nothing") == {}
        assert await store.documents(("product:", "catalog")) == {
            "product:1": b"one",
            "product:2": b"two",
        }
        assert await store.documents(("cat%",)) == {"cat%_x": b"literal"}
        assert await store.index_entries(("product:", "catalog")) == {
            "catalog": [IndexEntry("a", "2", "Ant"), IndexEntry("b", "2", "Bee")],
            "catalog:category:x": [IndexEntry("a", "1")],
        }
        assert await store.index_entries(("nothing",)) == {}

    async def test_an_emptied_index_is_not_listed(self, read_store: ReadStore) -> None:
        store = cast(Inspectable, read_store)
        await read_store.commit(
            "p",
            ViewChanges({}, {("idx", "m"): IndexEntry("m", "1")}, set()),
            {"s-1": VersionMove(0, 1)},
        )
        await read_store.commit(
            "p", ViewChanges({}, {}, {("idx", "m")}), {"s-1": VersionMove(1, 2)}
        )
        assert await store.index_entries(("idx",)) == {}
