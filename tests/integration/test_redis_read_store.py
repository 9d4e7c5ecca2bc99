"""What the Redis read store adds to the ReadStore contract: one round trip per
commit, all or nothing, namespaces that do not see each other, bytes untouched."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import redis.asyncio as redis

from cqrskit.adapters.redis import RedisReadStore
from cqrskit.core.errors import ConcurrencyError, StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import IndexEntry, VersionMove, ViewChanges
from cqrskit.core.projection import ProjectionRunner, View
from services import REDIS_URL, require

pytestmark = pytest.mark.integration

OpenStore = Callable[[str], Awaitable[RedisReadStore]]


class CountingRedis(redis.Redis):
    """Remembers the name of every command it sends: one per round trip."""

    sent: list[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]))
        # redis-py leaves execute_command untyped.
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


@pytest.fixture
def url() -> str:
    return require(REDIS_URL)


@pytest.fixture
async def open_store(url: str) -> AsyncIterator[OpenStore]:
    """Stores on namespaces of this test's own; their keys go at teardown."""
    run = uuid.uuid4().hex[:12]
    opened: list[RedisReadStore] = []

    async def open_(name: str) -> RedisReadStore:
        store = await RedisReadStore.open(url, namespace=f"test-{run}-{name}")
        opened.append(store)
        return store

    yield open_
    for store in opened:
        cleaner = await RedisReadStore.open(url, namespace=store.namespace)
        await cleaner.purge()
        await cleaner.close()
        await store.close()


@pytest.fixture
async def raw(url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(url)
    yield client
    await client.aclose()


async def snapshot(raw: redis.Redis, namespace: str) -> dict[bytes, bytes | None]:
    """Every key of a namespace and its serialized value."""
    keys = [k async for k in raw.scan_iter(match=f"{namespace}:*")]
    return {k: await raw.dump(k) for k in keys}


def entries_changes(n: int, tag: str) -> ViewChanges:
    changes = ViewChanges.empty()
    for i in range(n):
        changes.docs[f"doc:{i}"] = f"{tag}{i}".encode()
        entry = IndexEntry(f"m{i}", f"{tag}-{i:04}", f"{tag} text {i}")
        changes.index_puts[("idx", entry.member)] = entry
    return changes


async def test_a_commit_behind_a_moved_checkpoint_changes_no_key(
    open_store: OpenStore, raw: redis.Redis
) -> None:
    store = await open_store("main")
    first = entries_changes(20, "old")
    first.docs["gone-later"] = b"still here"
    await store.commit("p", first, {"s-1": VersionMove(0, 1), "s-2": VersionMove(0, 7)})
    before = await snapshot(raw, store.namespace)

    stale = entries_changes(30, "new")
    stale.docs["gone-later"] = None
    stale.index_removes = {("idx", "m1"), ("idx", "m2")}
    moves = {f"s-{i}": VersionMove(0, 1) for i in range(3, 50)}
    moves["s-1"] = VersionMove(1, 2)  # these match ...
    moves["s-2"] = VersionMove(6, 8)  # ... but this one, checked last, does not
    with pytest.raises(ConcurrencyError, match="s-2 is at version 7, expected 6"):
        await store.commit("p", stale, moves)

    assert await snapshot(raw, store.namespace) == before
    assert len(before) == 25  # 21 docs, the index's 3 keys, 1 checkpoint hash


async def test_a_500_event_batch_is_one_round_trip(url: str) -> None:
    client = cast(CountingRedis, CountingRedis.from_url(url))
    client.sent = []
    store = RedisReadStore(client, namespace=f"test-{uuid.uuid4().hex[:12]}")
    try:
        await store.load_scripts()
        events = [
            RecordedEvent(
                f"thing-{n % 50}", n // 50 + 1, n + 1, "Counted", {"n": n}, NOW
            )
            for n in range(500)
        ]
        client.sent.clear()

        runner = ProjectionRunner([Counted()], store)
        await runner.handle(0, events)

        assert client.sent == ["HMGET", "EVALSHA"]  # the checkpoints, the commit
        assert runner.applied == 500
        stream_ids = [f"thing-{s}" for s in range(50)]
        assert set((await store.stream_versions("counted", stream_ids)).values()) == {
            10
        }
        page = await store.index_page("counted", after=None, limit=1000, reverse=True)
        assert [e.member for e in page] == [f"n{n}" for n in reversed(range(500))]
        assert await store.get("counted:499") == b"499"
    finally:
        await store.purge()
        await store.close()


NOW = datetime(2024, 1, 1, tzinfo=UTC)


class Counted:
    """Writes a document and an index entry per event, and reads nothing."""

    name = "counted"
    categories = frozenset({"thing"})
    prefixes = ("counted",)

    def reads(self, event: RecordedEvent) -> tuple[str, ...]:
        return ()

    async def apply(self, event: RecordedEvent, view: View) -> None:
        n = event.data["n"]
        view.put(f"counted:{n}", str(n).encode())
        view.index_put("counted", IndexEntry(f"n{n}", f"{event.position:06}"))


async def test_namespaces_do_not_see_each_other(
    open_store: OpenStore, raw: redis.Redis
) -> None:
    # A namespace that starts with another's name must not share its keys.
    blue, blue_2 = await open_store("blue"), await open_store("blue-2")
    for store, colour in ((blue, b"blue"), (blue_2, b"blue-2")):
        await store.commit(
            "p",
            ViewChanges(
                {"doc": colour}, {("idx", "m"): IndexEntry("m", colour.decode())}, set()
            ),
            {"s": VersionMove(0, len(colour))},
        )

    assert await blue.get("doc") == b"blue"
    assert await blue_2.get("doc") == b"blue-2"
    assert (await blue.index_page("idx", after=None, limit=5))[0].sort_key == "blue"
    assert await blue_2.stream_versions("p", ["s"]) == {"s": 6}

    assert await blue.purge() == 5  # doc, 3 index keys, checkpoints
    assert await blue.get("doc") is None
    assert await blue_2.get("doc") == b"blue-2"
    assert len(await snapshot(raw, blue_2.namespace)) == 5


@pytest.mark.parametrize("namespace", ["", "a:b", "a*", "{tag}", "x" * 65])
async def test_a_namespace_that_could_overlap_another_is_refused(
    url: str, namespace: str
) -> None:
    with pytest.raises(ValueError, match="namespace"):
        await RedisReadStore.open(url, namespace=namespace)


async def test_documents_are_served_byte_for_byte(open_store: OpenStore) -> None:
    store = await open_store("main")
    docs = {
        "all-bytes": bytes(range(256)),
        "empty": b"",
        "not-utf8": b"\xff\xfe\xc3(",
        "large": os.urandom(1 << 20),
        "json": '{"name":"Grüner Äpfel ☕","n":1}'.encode(),
        "key with spaces:ünïcode\x00nul": b"odd key",
    }
    await store.commit("p", ViewChanges(dict(docs), {}, set()), {})

    for key, value in docs.items():
        assert await store.get(key) == value
    assert await store.get_many([*docs, "missing"]) == [*docs.values(), None]


async def test_an_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await RedisReadStore.open("redis://127.0.0.1:1/0")

    store = RedisReadStore(redis.Redis.from_url("redis://127.0.0.1:1/0"))
    with pytest.raises(StoreUnavailable) as caught:
        await store.get("doc")
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    await store.close()


async def test_a_client_that_decodes_replies_is_refused(url: str) -> None:
    client = redis.Redis.from_url(url, decode_responses=True)
    with pytest.raises(ValueError, match="bytes"):
        RedisReadStore(client)
    await client.aclose()
