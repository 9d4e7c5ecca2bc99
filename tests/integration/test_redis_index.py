"""Ordered indexes on Redis: lex order equals the tuple order of the contract,
for any sort key and member, any cursor, and filtered pages of any length."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.adapters.redis import RedisReadStore
from cqrskit.adapters.redis import read_store as redis_read_store
from cqrskit.core.ports import IndexEntry, ReadStore, SearchableStore, ViewChanges
from services import REDIS_URL, require

pytestmark = pytest.mark.integration


@pytest.fixture
async def store() -> AsyncIterator[RedisReadStore]:
    url = require(REDIS_URL)
    store = await RedisReadStore.open(url, namespace=f"test-{uuid.uuid4().hex[:12]}")
    yield store
    await store.purge()
    await store.close()


async def put(store: ReadStore, index: str, entries: list[IndexEntry]) -> None:
    puts = {(index, e.member): e for e in entries}
    await store.commit("p", ViewChanges({}, puts, set()), {})


async def test_a_sort_key_sorts_before_the_keys_it_prefixes(
    store: RedisReadStore,
) -> None:
    entries = [
        IndexEntry("z", "a"),
        IndexEntry("a", "ab"),
        IndexEntry("0", "a\x01"),
        IndexEntry("x", ""),
        IndexEntry("m", "a b"),
        IndexEntry("é", "é"),
        IndexEntry("e", "\uffff"),
        IndexEntry("s", "\U0001f600"),
        IndexEntry("b", "a"),
        IndexEntry("b\x01", "a"),
    ]
    await put(store, "idx", entries)
    expected = sorted((e.sort_key, e.member) for e in entries)

    forward = await store.index_page("idx", after=None, limit=100)
    backward = await store.index_page("idx", after=None, limit=100, reverse=True)

    assert [(e.sort_key, e.member) for e in forward] == expected
    assert [(e.sort_key, e.member) for e in backward] == expected[::-1]
    after_a = await store.index_page("idx", after=("a", "z"), limit=2)
    assert [(e.sort_key, e.member) for e in after_a] == [("a\x01", "0"), ("a b", "m")]


async def test_moving_and_removing_entries_leaves_no_stale_key(
    store: RedisReadStore,
) -> None:
    await put(store, "idx", [IndexEntry("m", "1", "one"), IndexEntry("n", "5")])
    await put(store, "idx", [IndexEntry("m", "9", "nine")])
    await put(store, "idx", [IndexEntry("m", "9", "nine again")])

    page = await store.index_page("idx", after=None, limit=10)
    assert [(e.member, e.sort_key, e.text) for e in page] == [
        ("n", "5", ""),
        ("m", "9", "nine again"),
    ]
    assert await store.search("idx", "one", after=None, limit=10) == []

    await store.commit("p", ViewChanges({}, {}, {("idx", "m"), ("idx", "n")}), {})

    client = redis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{store.namespace}:*")]
    await client.aclose()
    assert keys == []


async def test_an_entry_with_nul_in_its_sort_key_is_refused_before_writing(
    store: RedisReadStore,
) -> None:
    with pytest.raises(ValueError, match="NUL"):
        await store.commit(
            "p",
            ViewChanges(
                {"doc": b"x"}, {("idx", "m"): IndexEntry("m", "a\x00b")}, set()
            ),
            {},
        )
    assert await store.get("doc") is None


async def test_a_rare_match_in_a_large_index_is_found_across_calls(
    store: RedisReadStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each page script gives up after the scan budget and hands back where to
    # go on; the page still holds every match, in order, up to the limit.
    monkeypatch.setattr(redis_read_store, "_SCAN_BUDGET", 7)
    monkeypatch.setattr(redis_read_store, "_FILTER_CHUNK", 3)
    entries = [
        IndexEntry(f"m{i:03}", f"{i:03}", "needle" * (i % 17 == 0)) for i in range(200)
    ]
    await put(store, "big", entries)
    memory = InMemoryReadStore()
    await put(memory, "big", entries)

    for reverse, limit in itertools.product((False, True), (1, 3, 50)):
        got = await store.search(
            "big", "NEEDLE", after=None, limit=limit, reverse=reverse
        )
        want = await memory.search(
            "big", "NEEDLE", after=None, limit=limit, reverse=reverse
        )
        assert got == want


_index_names = (f"prop-{i}" for i in itertools.count())
_members = st.text(alphabet="ab\x01é\U0001f600", min_size=0, max_size=3)
_sort_keys = st.text(alphabet="a\x01é ", max_size=2)
_texts = st.text(alphabet="aAÄä%_*[\x00 ", max_size=4)
_cursor_parts = st.text(alphabet="ab\x00\x01é", max_size=3)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    entries=st.dictionaries(_members, st.tuples(_sort_keys, _texts), max_size=10),
    after=st.none() | st.tuples(_cursor_parts, _cursor_parts),
    limit=st.integers(1, 6),
    reverse=st.booleans(),
    needle=st.none() | _texts,
)
async def test_any_page_equals_the_in_memory_stores(
    store: RedisReadStore,
    entries: dict[str, tuple[str, str]],
    after: tuple[str, str] | None,
    limit: int,
    reverse: bool,
    needle: str | None,
) -> None:
    # Cursors may hold NUL (they come from outside); entries never do.
    index = next(_index_names)
    batch = [IndexEntry(m, k, t) for m, (k, t) in entries.items()]
    memory = InMemoryReadStore()
    await put(memory, index, batch)
    await put(store, index, batch)

    async def page(of: SearchableStore) -> list[IndexEntry]:
        if needle is None:
            return await of.index_page(index, after=after, limit=limit, reverse=reverse)
        return await of.search(index, needle, after=after, limit=limit, reverse=reverse)

    assert await page(store) == await page(memory)
