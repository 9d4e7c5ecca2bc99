"""What the read store suites write and how they page an index: the helpers
their tests share, and the data of the property tests
(cqrskit.testing.read_store exports them)."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cqrskit.core.ports import IndexEntry, ReadStore, ViewChanges
from cqrskit.testing._handles import Opener

Open = Opener[ReadStore]


def changes(
    docs: Mapping[str, bytes | None] | None = None,
    puts: Mapping[str, list[IndexEntry]] | None = None,
    removes: set[tuple[str, str]] | None = None,
) -> ViewChanges:
    index_puts = {
        (index, e.member): e for index, entries in (puts or {}).items() for e in entries
    }
    return ViewChanges(dict(docs or {}), index_puts, set(removes or ()))


async def put_entries(store: ReadStore, index: str, entries: list[IndexEntry]) -> None:
    await store.commit("catalog", changes(puts={index: entries}), {})


async def page(
    store: ReadStore,
    index: str,
    *,
    after: tuple[str, str] | None = None,
    limit: int = 100,
    reverse: bool = False,
) -> list[str]:
    entries = await store.index_page(index, after=after, limit=limit, reverse=reverse)
    return [e.member for e in entries]


Fetch = Callable[[tuple[str, str] | None, int], Awaitable[list[IndexEntry]]]
"""A page of one index: at most so many entries after a cursor."""


def paging(store: ReadStore, index: str, *, reverse: bool = False) -> Fetch:
    async def fetch(after: tuple[str, str] | None, limit: int) -> list[IndexEntry]:
        return await store.index_page(index, after=after, limit=limit, reverse=reverse)

    return fetch


async def walk(fetch: Fetch, limit: int) -> list[IndexEntry]:
    """Every page from the start, each after the last entry of the one before."""
    seen: list[IndexEntry] = []
    cursor: tuple[str, str] | None = None
    for _ in range(100):
        batch = await fetch(cursor, limit)
        if not batch:
            return seen
        assert len(batch) <= limit
        seen.extend(batch)
        cursor = (batch[-1].sort_key, batch[-1].member)
    raise AssertionError("paging never came to an end")


def sorted_keys(
    entries: dict[str, tuple[str, str]], *, reverse: bool, needle: str = ""
) -> list[tuple[str, str]]:
    """(sort_key, member) of the entries {member: (sort_key, text)} whose text
    contains `needle` (case-insensitive), in index order."""
    found = ((k, m) for m, (k, t) in entries.items() if needle.lower() in t.lower())
    return sorted(found, reverse=reverse)


PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    # One store for all examples (each takes a fresh index); each adapter's
    # subclass is an executor of its own, as intended.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.differing_executors,
    ],
)
index_names = (f"prop-{i}" for i in itertools.count())


async def fresh_index(store: ReadStore, entries: Mapping[str, tuple[str, str]]) -> str:
    """A new index holding `entries` (member: (sort key, text)): the property
    tests share one store across examples, so each example takes an index of
    its own."""
    index = next(index_names)
    await put_entries(
        store, index, [IndexEntry(m, k, t) for m, (k, t) in entries.items()]
    )
    return index


texts = st.text(alphabet="aAbB%_ äÄ", max_size=4)
indexes = st.dictionaries(
    st.text(alphabet="xyz", min_size=1, max_size=3),
    st.tuples(st.text(alphabet="012", max_size=2), texts),
    max_size=12,
)
"""An index as {member: (sort_key, text)}."""


ENTRIES = [
    IndexEntry("m3", "2024-01-02", "Blue Shirt"),
    IndexEntry("m1", "2024-01-02", "Red Shirt"),
    IndexEntry("m2", "2024-01-01", "Green Hat"),
    IndexEntry("m0", "2024-01-03", "Black Shoes"),
]
