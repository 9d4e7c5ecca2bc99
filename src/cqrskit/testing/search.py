"""The TextSearch contract: every read store adapter of the kit that searches
(in memory, SQLite, Redis) runs it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cqrskit.core.ports import IndexEntry, SearchableStore
from cqrskit.testing.read_store import (
    PROPERTY_SETTINGS,
    Fetch,
    ReadStoreFixtures,
    fresh_index,
    indexes,
    put_entries,
    sorted_keys,
    texts,
    walk,
)


def searching(store: SearchableStore, index: str, text: str, reverse: bool) -> Fetch:
    async def fetch(after: tuple[str, str] | None, limit: int) -> list[IndexEntry]:
        return await store.search(
            index, text, after=after, limit=limit, reverse=reverse
        )

    return fetch


async def found(
    store: SearchableStore,
    index: str,
    text: str,
    *,
    after: tuple[str, str] | None = None,
    reverse: bool = False,
) -> list[str]:
    entries = await store.search(index, text, after=after, limit=100, reverse=reverse)
    return [e.member for e in entries]


class TextSearchContract(ReadStoreFixtures):
    """What every TextSearch (on a ReadStore) promises. A subclass defines the
    fixture `read_store_opener`, as for `ReadStoreContract`."""

    pytestmark = pytest.mark.asyncio

    async def test_search_is_a_literal_case_insensitive_substring(
        self, read_store: SearchableStore
    ) -> None:
        await put_entries(
            read_store,
            "catalog",
            [
                IndexEntry("a", "1", "Sale: 50% off"),
                IndexEntry("b", "2", "500 items"),
                IndexEntry("c", "3", "snake_case"),
                IndexEntry("d", "4", "snakeXcase"),
                IndexEntry("e", "5", "GRÜNER ÄPFEL"),
                IndexEntry("f", "6", "red shirt"),
            ],
        )

        assert await found(read_store, "catalog", "50%") == ["a"]
        assert await found(read_store, "catalog", "e_c") == ["c"]
        assert await found(read_store, "catalog", "%") == ["a"]
        assert await found(read_store, "catalog", "SHIRT") == ["f"]
        assert await found(read_store, "catalog", "äpf") == ["e"]
        assert await found(read_store, "catalog", "") == list("abcdef")
        assert await found(read_store, "catalog", "50", reverse=True) == ["b", "a"]
        assert await found(read_store, "catalog", "CASE", after=("3", "c")) == ["d"]
        assert await found(read_store, "nothing", "a") == []

    async def test_search_sees_moved_and_removed_entries(
        self, read_store: SearchableStore
    ) -> None:
        await put_entries(
            read_store,
            "catalog",
            [IndexEntry("a", "1", "Blue Mug"), IndexEntry("b", "2", "Red Mug")],
        )
        await put_entries(read_store, "catalog", [IndexEntry("a", "3", "Blue Cup")])

        assert await found(read_store, "catalog", "mug") == ["b"]
        assert await found(read_store, "catalog", "cup") == ["a"]

    @PROPERTY_SETTINGS
    @given(
        entries=indexes,
        limit=st.integers(1, 5),
        reverse=st.booleans(),
        needle=texts,
    )
    async def test_search_pages_match_a_sorted_filtered_list(
        self,
        read_store: SearchableStore,
        entries: dict[str, tuple[str, str]],
        limit: int,
        reverse: bool,
        needle: str,
    ) -> None:
        index = await fresh_index(read_store, entries)

        pages = await walk(searching(read_store, index, needle, reverse), limit)

        assert [(e.sort_key, e.member) for e in pages] == sorted_keys(
            entries, reverse=reverse, needle=needle
        )
