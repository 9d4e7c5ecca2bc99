"""What the SQLite adapters promise beyond the port contracts: the file itself."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.adapters.sqlite import event_store as event_store_module
from cqrskit.core.errors import ConcurrencyError, Invalid, StoreUnavailable
from cqrskit.core.messages import Metadata, NewEvent, StreamAppend
from cqrskit.core.ports import IndexEntry, VersionMove, ViewChanges

META = Metadata(command_id="c")


def one(stream_id: str, expected: int = 0, **data: object) -> list[StreamAppend]:
    return [StreamAppend(stream_id, expected, [NewEvent("Happened", dict(data))])]


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


async def test_both_stores_share_one_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "one.sqlite"
    for _ in range(2):  # the second round opens an existing schema
        events = await SqliteEventStore.open(path)
        views = await SqliteReadStore.open(path)
        await events.append(one(f"cart-{_}"), metadata=META)
        await views.commit("p", ViewChanges({f"d{_}": b"x"}, {}, set()), {})
        await views.close()
        await events.close()

    assert query(path, "PRAGMA journal_mode") == [("wal",)]
    assert sorted(query(path, "SELECT component, version FROM schema_version")) == [
        ("event_store", 3),
        ("read_store", 1),
    ]
    assert query(path, "SELECT count(*) FROM events") == [(2,)]
    assert query(path, "SELECT count(*) FROM docs") == [(2,)]


async def test_a_schema_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    await (await SqliteEventStore.open(path)).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE schema_version SET version = 99")

    with pytest.raises(StoreUnavailable, match="version 99"):
        await SqliteEventStore.open(path)


async def test_a_path_that_cannot_be_opened_is_store_unavailable(
    tmp_path: Path,
) -> None:
    with pytest.raises(StoreUnavailable):
        await SqliteReadStore.open(tmp_path / "missing-dir" / "x.sqlite")


async def test_a_unique_violation_is_a_concurrency_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SqliteEventStore.open(tmp_path / "e.sqlite")
    try:
        await store.append(one("cart-1"), metadata=META)

        async def stale(*_: object) -> dict[str, int]:
            return {}  # as if another writer had not committed yet

        monkeypatch.setattr(event_store_module, "_stream_versions", stale)
        with pytest.raises(ConcurrencyError, match="cart-1"):
            await store.append(one("cart-2") + one("cart-1"), metadata=META)

        assert [(r.stream_id, r.version) for r in await store.read_all(0, 10)] == [
            ("cart-1", 1)
        ]
    finally:
        await store.close()


async def test_data_that_is_not_json_is_invalid_and_not_stored(
    tmp_path: Path,
) -> None:
    store = await SqliteEventStore.open(tmp_path / "e.sqlite")
    try:
        with pytest.raises(Invalid):
            await store.append(one("cart-1", tags={"a", "b"}), metadata=META)
        assert await store.read_all(0, 10) == []
    finally:
        await store.close()


async def test_recorded_at_is_stored_in_utc_whatever_the_clock_zone(
    tmp_path: Path,
) -> None:
    moment = datetime(2024, 5, 1, 14, 30, 0, 250_000, timezone(timedelta(hours=2)))
    store = await SqliteEventStore.open(tmp_path / "e.sqlite", clock=lambda: moment)
    try:
        (appended,) = await store.append(one("cart-1"), metadata=META)
        (read,) = await store.read_stream("cart-1")
    finally:
        await store.close()

    assert read == appended
    assert read.recorded_at == moment
    assert read.recorded_at.utcoffset() == timedelta(0)
    assert query(tmp_path / "e.sqlite", "SELECT recorded_at FROM events") == [
        ("2024-05-01T12:30:00.250000Z",)
    ]


async def test_private_in_memory_databases_work(tmp_path: Path) -> None:
    events = await SqliteEventStore.open(":memory:")
    views = await SqliteReadStore.open(":memory:")
    try:
        await events.append(one("cart-1"), metadata=META)
        entry = IndexEntry("m", "k", "Text")
        changes = ViewChanges({"d": b"v"}, {("i", "m"): entry}, set())
        await views.commit("p", changes, {"cart-1": VersionMove(0, 1)})

        assert [r.version for r in await events.read_stream("cart-1")] == [1]
        assert await views.get("d") == b"v"
        assert await views.index_page("i", after=None, limit=5) == [entry]
    finally:
        await views.close()
        await events.close()
