"""The ReadStore contract: every read store adapter runs it (its helpers stand
in `_read_store_helpers`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.ports import IndexEntry, ReadStore, VersionMove
from cqrskit.testing._handles import Handles, Opener
from cqrskit.testing._read_store_helpers import (
    ENTRIES,
    PROPERTY_SETTINGS,
    Fetch,
    Open,
    changes,
    fresh_index,
    index_names,
    indexes,
    page,
    paging,
    put_entries,
    sorted_keys,
    texts,
    walk,
)

__all__ = [
    "ENTRIES",
    "PROPERTY_SETTINGS",
    "Fetch",
    "Open",
    "ReadStoreContract",
    "ReadStoreFixtures",
    "changes",
    "fresh_index",
    "index_names",
    "indexes",
    "page",
    "paging",
    "put_entries",
    "sorted_keys",
    "texts",
    "walk",
]


class ReadStoreFixtures:
    """The fixtures of the suites that run on a read store.

    A subclass defines the fixture `read_store_opener`: an `Opener` that opens
    a handle on fresh storage, the same storage on every call. The handles
    opened are closed after the test. An adapter whose every handle has
    storage of its own (in memory) sets `shares_storage = False`; the tests
    that reopen or read from another handle are then skipped."""

    shares_storage: ClassVar[bool] = True

    @pytest_asyncio.fixture
    async def read_store_handles(
        self, read_store_opener: Opener[ReadStore]
    ) -> AsyncIterator[Handles[ReadStore]]:
        handles = Handles(read_store_opener, shares_storage=self.shares_storage)
        try:
            yield handles
        finally:
            await handles.close_all()

    @pytest_asyncio.fixture
    async def read_store(self, read_store_handles: Handles[ReadStore]) -> ReadStore:
        return await read_store_handles.open()

    @pytest.fixture
    def open_read_store(
        self, read_store_handles: Handles[ReadStore]
    ) -> Opener[ReadStore]:
        """Another handle on the same storage (skips adapters without one)."""
        return read_store_handles.reopener()


class ReadStoreContract(ReadStoreFixtures):
    """What every ReadStore promises."""

    pytestmark = pytest.mark.asyncio

    async def test_get_returns_what_was_committed(self, read_store: ReadStore) -> None:
        assert await read_store.get("product:x") is None

        await read_store.commit(
            "catalog", changes({"product:x": b'{"a":1}', "product:y": b"\x00\xff"}), {}
        )

        many = await read_store.get_many(
            ["product:y", "nope", "product:x", "product:y"]
        )
        assert await read_store.get("product:x") == b'{"a":1}'
        assert many == [b"\x00\xff", None, b'{"a":1}', b"\x00\xff"]
        assert await read_store.get_many([]) == []

    async def test_a_doc_is_replaced_and_deleted(self, read_store: ReadStore) -> None:
        await read_store.commit("catalog", changes({"a": b"1", "b": b"2"}), {})

        await read_store.commit(
            "catalog", changes({"a": b"new", "b": None, "c": None}), {}
        )

        assert await read_store.get_many(["a", "b", "c"]) == [b"new", None, None]

    async def test_index_page_orders_by_sort_key_then_member(
        self, read_store: ReadStore
    ) -> None:
        await put_entries(read_store, "orders:c1", ENTRIES)
        await put_entries(read_store, "orders:c2", [IndexEntry("other", "2024-01-01")])

        forward = await read_store.index_page("orders:c1", after=None, limit=10)
        backward = await page(read_store, "orders:c1", reverse=True)

        assert forward == sorted(ENTRIES, key=lambda e: (e.sort_key, e.member))
        assert [e.member for e in forward] == ["m2", "m1", "m3", "m0"]
        assert backward == ["m0", "m3", "m1", "m2"]
        assert await page(read_store, "orders:c1", limit=2) == ["m2", "m1"]
        assert await page(read_store, "orders:none") == []

    @pytest.mark.parametrize("reverse", [False, True])
    async def test_pages_after_a_cursor_yield_every_entry_once(
        self, read_store: ReadStore, reverse: bool
    ) -> None:
        entries = [IndexEntry(f"m{i:02}", f"k{i % 4}", f"t{i}") for i in range(11)]
        await put_entries(read_store, "idx", entries)
        expected = await page(read_store, "idx", reverse=reverse)

        seen = [
            e.member for e in await walk(paging(read_store, "idx", reverse=reverse), 3)
        ]

        assert seen == expected
        assert sorted(seen) == sorted(e.member for e in entries)

    async def test_a_cursor_need_not_be_an_entry(self, read_store: ReadStore) -> None:
        await put_entries(read_store, "idx", ENTRIES)

        assert await page(read_store, "idx", after=("2024-01-02", "m2")) == ["m3", "m0"]
        assert await page(
            read_store, "idx", after=("2024-01-02", "m2"), reverse=True
        ) == [
            "m1",
            "m2",
        ]

    async def test_index_puts_move_entries_and_removes_drop_them(
        self,
        read_store: ReadStore,
    ) -> None:
        await put_entries(read_store, "idx", ENTRIES)

        await read_store.commit(
            "catalog",
            changes(
                puts={"idx": [IndexEntry("m2", "2024-12-31", "Green Cap")]},
                removes={("idx", "m1"), ("idx", "missing"), ("other", "m3")},
            ),
            {},
        )

        entries = await read_store.index_page("idx", after=None, limit=10)
        assert [(e.member, e.sort_key, e.text) for e in entries] == [
            ("m3", "2024-01-02", "Blue Shirt"),
            ("m0", "2024-01-03", "Black Shoes"),
            ("m2", "2024-12-31", "Green Cap"),
        ]

    async def test_a_remove_and_a_put_of_one_member_leave_the_put(
        self,
        read_store: ReadStore,
    ) -> None:
        await put_entries(read_store, "idx", ENTRIES)

        await read_store.commit(
            "catalog",
            changes(
                puts={"idx": [IndexEntry("m0", "0", "back")]}, removes={("idx", "m0")}
            ),
            {},
        )

        assert await page(read_store, "idx", limit=1) == ["m0"]

    async def test_checkpoints_start_at_zero_and_move_per_projection(
        self,
        read_store: ReadStore,
    ) -> None:
        assert await read_store.stream_versions("catalog", ["p-1", "p-2"]) == {
            "p-1": 0,
            "p-2": 0,
        }

        await read_store.commit("catalog", changes(), {"p-1": VersionMove(0, 3)})
        await read_store.commit("catalog", changes(), {"p-1": VersionMove(3, 5)})
        await read_store.commit("orders", changes(), {"p-2": VersionMove(0, 1)})

        assert await read_store.stream_versions("catalog", ["p-1", "p-2"]) == {
            "p-1": 5,
            "p-2": 0,
        }
        assert await read_store.stream_versions("orders", ["p-1", "p-2"]) == {
            "p-1": 0,
            "p-2": 1,
        }
        assert await read_store.stream_versions("orders", []) == {}

    async def test_a_commit_behind_a_moved_checkpoint_writes_nothing(
        self,
        read_store: ReadStore,
    ) -> None:
        await read_store.commit(
            "catalog",
            changes({"doc": b"old"}, {"idx": [IndexEntry("m", "1", "old")]}),
            {"p-1": VersionMove(0, 2)},
        )
        stale = changes(
            {"doc": b"new", "extra": b"x"},
            {"idx": [IndexEntry("n", "2", "new")]},
            {("idx", "m")},
        )

        with pytest.raises(ConcurrencyError):
            await read_store.commit(
                "catalog", stale, {"p-2": VersionMove(0, 1), "p-1": VersionMove(1, 3)}
            )

        assert await read_store.get_many(["doc", "extra"]) == [b"old", None]
        assert await page(read_store, "idx") == ["m"]
        assert await read_store.stream_versions("catalog", ["p-1", "p-2"]) == {
            "p-1": 2,
            "p-2": 0,
        }

    async def test_views_survive_closing_and_reopening(
        self, read_store: ReadStore, open_read_store: Open
    ) -> None:
        await read_store.commit(
            "catalog",
            changes({"doc": b"v"}, {"idx": ENTRIES}),
            {"p-1": VersionMove(0, 4)},
        )
        await read_store.close()

        reopened = await open_read_store()

        assert await reopened.get("doc") == b"v"
        assert await page(reopened, "idx") == ["m2", "m1", "m3", "m0"]
        assert await reopened.stream_versions("catalog", ["p-1"]) == {"p-1": 4}

    async def test_closing_twice_is_harmless(self, read_store: ReadStore) -> None:
        await read_store.close()
        await read_store.close()

    @PROPERTY_SETTINGS
    @given(entries=indexes, limit=st.integers(1, 5), reverse=st.booleans())
    async def test_paging_matches_a_sorted_list(
        self,
        read_store: ReadStore,
        entries: dict[str, tuple[str, str]],
        limit: int,
        reverse: bool,
    ) -> None:
        index = await fresh_index(read_store, entries)

        pages = await walk(paging(read_store, index, reverse=reverse), limit)

        assert [(e.sort_key, e.member) for e in pages] == sorted_keys(
            entries, reverse=reverse
        )
