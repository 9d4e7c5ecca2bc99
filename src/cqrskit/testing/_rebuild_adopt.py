"""The part of the Rebuildable contract on what a scratch store holds and what
adopting it replaces, and the helpers the whole contract shares
(cqrskit.testing.rebuild exports them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

import pytest
import pytest_asyncio

from cqrskit.core.ports import IndexEntry, ReadStore, VersionMove, ViewChanges
from cqrskit.core.rebuild import RebuildableStore
from cqrskit.testing._handles import Opener
from cqrskit.testing.read_store import ReadStoreFixtures

Open = Opener[ReadStore]

CATALOG = ("product:", "catalog")
"""The prefixes of the views of the "catalog" projection in these tests."""


RESUME = VersionMove(0, 7)
"""The generation move of an adopt on a projection that was never paused."""


def changes(
    docs: Mapping[str, bytes] | None = None,
    puts: Mapping[str, Sequence[IndexEntry]] | None = None,
) -> ViewChanges:
    index_puts = {
        (index, e.member): e for index, entries in (puts or {}).items() for e in entries
    }
    return ViewChanges(dict(docs or {}), index_puts, set())


def moves(**versions: int) -> dict[str, VersionMove]:
    return {sid.replace("_", "-"): VersionMove(0, v) for sid, v in versions.items()}


async def members(store: ReadStore, index: str) -> list[tuple[str, str, str]]:
    entries = await store.index_page(index, after=None, limit=1000)
    return [(e.member, e.sort_key, e.text) for e in entries]


PREFIXES = ("a_b:", "50%", "x*", "y[1]", "q?\\", "idx:", "é")
OWNED = ["a_b:1", "50%x", "x*1", "y[1]z", "q?\\r", "idx:1", "é1", "é\U0010ffff"]
NOT_OWNED = ["aXb:1", "50abc", "xyz", "y1z", "qq\\r", "idx", "e1", "f1", "ê", "a_b"]


class AdoptContract(ReadStoreFixtures):
    """A scratch store apart from the live one, and what an adopt replaces
    (composed into RebuildContract, which carries the asyncio mark)."""

    @pytest.fixture
    def live(self, read_store: RebuildableStore) -> RebuildableStore:
        return read_store

    @pytest_asyncio.fixture
    async def scratch(self, live: RebuildableStore) -> AsyncIterator[RebuildableStore]:
        store = await live.scratch()
        yield store
        await store.close()

    async def test_a_scratch_store_starts_empty_and_apart(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        await live.commit("catalog", changes({"product:1": b"live"}), moves(p_1=3))

        assert await scratch.get("product:1") is None
        assert await scratch.stream_versions("catalog", ["p-1"]) == {"p-1": 0}
        await scratch.commit("catalog", changes({"product:1": b"new"}), moves(p_1=4))

        assert await live.get("product:1") == b"live"
        assert await live.stream_versions("catalog", ["p-1"]) == {"p-1": 3}

    async def test_adopt_replaces_the_owned_views_and_the_projection_checkpoints(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        await live.commit(
            "catalog",
            changes(
                {"product:1": b"old", "product:stale": b"old", "catalogue": b"old"},
                {
                    "catalog": [IndexEntry("1", "1", "old"), IndexEntry("stale", "9")],
                    "catalog:category:gone": [IndexEntry("1", "1", "old")],
                },
            ),
            moves(p_1=5, p_stale=2),
        )
        await live.commit(
            "orders",
            changes({"order:1": b"live"}, {"orders": [IndexEntry("o", "1")]}),
            moves(o_1=4),
        )
        await scratch.commit(
            "catalog",
            changes(
                {"product:1": b"new", "product:2": b"new"},
                {
                    "catalog": [
                        IndexEntry("1", "2", "new"),
                        IndexEntry("2", "1", "new"),
                    ],
                    "catalog:category:x": [IndexEntry("2", "1", "new")],
                },
            ),
            moves(p_1=7, p_2=1),
        )

        await live.adopt(scratch, "catalog", CATALOG, RESUME)

        assert await live.get_many(
            ["product:1", "product:2", "product:stale", "catalogue"]
        ) == [b"new", b"new", None, None]
        assert await members(live, "catalog") == [("2", "1", "new"), ("1", "2", "new")]
        assert await members(live, "catalog:category:x") == [("2", "1", "new")]
        assert await members(live, "catalog:category:gone") == []
        assert await live.stream_versions("catalog", ["p-1", "p-2", "p-stale"]) == {
            "p-1": 7,
            "p-2": 1,
            "p-stale": 0,
        }
        assert await live.get("order:1") == b"live"
        assert await members(live, "orders") == [("o", "1", "")]
        assert await live.stream_versions("orders", ["o-1"]) == {"o-1": 4}
        assert await scratch.get_many(["product:1", "product:2"]) == [None, None]
        assert await members(scratch, "catalog") == []
        assert await scratch.stream_versions("catalog", ["p-1"]) == {"p-1": 0}

    async def test_projections_are_adopted_one_at_a_time_from_one_scratch(
        self,
        live: RebuildableStore,
        scratch: RebuildableStore,
        request: pytest.FixtureRequest,
    ) -> None:
        await live.commit("carts", changes({"cart:1": b"old"}), moves(c_1=3))
        await scratch.commit("catalog", changes({"product:1": b"new"}), moves(p_1=1))
        await scratch.commit(
            "carts",
            changes({"cart:1": b"new"}, {"cart:open": [IndexEntry("1", "1")]}),
            moves(c_1=2),
        )

        await live.adopt(scratch, "catalog", CATALOG, RESUME)

        assert await live.get_many(["product:1", "cart:1"]) == [b"new", b"old"]
        assert await live.stream_versions("carts", ["c-1"]) == {"c-1": 3}
        assert await scratch.get_many(["product:1", "cart:1"]) == [None, b"new"]
        assert await scratch.stream_versions("carts", ["c-1"]) == {"c-1": 2}

        await live.adopt(scratch, "carts", ("cart:",), RESUME)

        assert await live.get_many(["product:1", "cart:1"]) == [b"new", b"new"]
        assert await members(live, "cart:open") == [("1", "1", "")]
        assert await live.stream_versions("carts", ["c-1"]) == {"c-1": 2}
        assert await scratch.get_many(["product:1", "cart:1"]) == [None, None]
        assert await members(scratch, "cart:open") == []
        assert await scratch.stream_versions("carts", ["c-1"]) == {"c-1": 0}

    async def test_prefixes_are_literal(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        """No character of a prefix is a wildcard (LIKE's `_` `%`, glob's `*` `?`
        `[` `\\`), and an index whose name is shorter than a prefix is not owned."""
        everything = OWNED + NOT_OWNED
        await live.commit(
            "p",
            changes(
                {key: b"old" for key in everything},
                {key: [IndexEntry("m", "1", "old")] for key in everything},
            ),
            {},
        )
        await scratch.commit(
            "p",
            changes(
                {key: b"new" for key in everything},
                {key: [IndexEntry("m", "1", "new")] for key in everything},
            ),
            {},
        )

        await live.adopt(scratch, "p", PREFIXES, RESUME)

        assert await live.get_many(everything) == [b"new"] * len(OWNED) + [
            b"old"
        ] * len(NOT_OWNED)
        texts = [[text for _, _, text in await members(live, i)] for i in everything]
        assert texts == [["new"]] * len(OWNED) + [["old"]] * len(NOT_OWNED)
        assert await scratch.get_many(OWNED) == [None] * len(OWNED)

    async def test_adopting_an_empty_scratch_drops_the_projection(
        self, live: RebuildableStore, scratch: RebuildableStore
    ) -> None:
        await live.commit(
            "catalog",
            changes({"product:1": b"old"}, {"catalog": [IndexEntry("1", "1")]}),
            moves(p_1=2),
        )
        await live.commit("carts", changes({"cart:1": b"live"}), moves(c_1=1))

        await live.adopt(scratch, "catalog", CATALOG, RESUME)

        assert await live.get_many(["product:1", "cart:1"]) == [None, b"live"]
        assert await members(live, "catalog") == []
        assert await live.stream_versions("catalog", ["p-1"]) == {"p-1": 0}
        assert await live.stream_versions("carts", ["c-1"]) == {"c-1": 1}
