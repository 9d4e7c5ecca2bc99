"""The SQLite adapters under the kit's contract suites (cqrskit.testing), and
what their rebuild adds: a scratch store is a file beside the live one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cqrskit.adapters.sqlite import SqliteEventStore, SqliteReadStore
from cqrskit.adapters.sqlite.lease import FileLease
from cqrskit.adapters.sqlite.membership import SqliteMembership
from cqrskit.core.ports import EventLog, Membership, ReadStore, VersionMove, ViewChanges
from cqrskit.testing import (
    EventStoreContract,
    InspectableContract,
    LeaseContract,
    MakeLease,
    MembershipContract,
    Opener,
    ReadStoreContract,
    RebuildContract,
    SnapshotStoreContract,
    StreamCatalogContract,
    TextSearchContract,
)


@pytest.fixture
def event_store_opener(tmp_path: Path) -> Opener[EventLog]:
    async def opener() -> EventLog:
        return await SqliteEventStore.open(tmp_path / "events.sqlite")

    return opener


@pytest.fixture
def read_store_opener(tmp_path: Path) -> Opener[ReadStore]:
    async def opener() -> ReadStore:
        return await SqliteReadStore.open(tmp_path / "views.sqlite")

    return opener


class TestSqliteEventStore(EventStoreContract):
    pass


class TestSqliteSnapshots(SnapshotStoreContract):
    pass


class TestSqliteStreams(StreamCatalogContract):
    pass


class TestSqliteReadStore(ReadStoreContract):
    pass


class TestSqliteSearch(TextSearchContract):
    pass


class TestSqliteRebuild(RebuildContract):
    pass


class TestSqliteInspection(InspectableContract):
    pass


class TestFileLease(LeaseContract):
    @pytest.fixture
    async def lease_maker(self, tmp_path: Path) -> AsyncIterator[MakeLease]:
        positions = await SqliteEventStore.open(tmp_path / "events.sqlite")
        yield lambda name: FileLease(tmp_path / f"{name}.lock", positions)
        await positions.close()


class TestSqliteMembership(MembershipContract):
    @pytest.fixture
    def membership_opener(self, tmp_path: Path) -> Opener[Membership]:
        async def opener() -> Membership:
            return await SqliteMembership.open(tmp_path / "read.db")

        return opener


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


RESUME = VersionMove(0, 7)


def one_cart() -> ViewChanges:
    return ViewChanges({"cart:1": b"x"}, {}, set())


async def test_a_sqlite_scratch_is_a_file_beside_the_live_one(tmp_path: Path) -> None:
    live = await SqliteReadStore.open(tmp_path / "views.sqlite")
    scratch = await live.scratch()
    try:
        await scratch.commit("carts", one_cart(), {"c-1": VersionMove(0, 1)})
        files = await asyncio.to_thread(names, tmp_path)
        assert any(
            name.startswith("views.rebuild-") and name.endswith(".db") for name in files
        ), files
        await live.adopt(scratch, "carts", ("cart:",), RESUME)
    finally:
        await scratch.close()
        await live.close()

    left = await asyncio.to_thread(names, tmp_path)
    assert not [name for name in left if "rebuild" in name], left


async def test_a_private_sqlite_store_has_a_private_scratch() -> None:
    live = await SqliteReadStore.open(":memory:")
    scratch = await live.scratch()
    try:
        await scratch.commit("carts", one_cart(), {"c-1": VersionMove(0, 1)})
        await live.adopt(scratch, "carts", ("cart:",), RESUME)
        assert await live.get("cart:1") == b"x"
    finally:
        await scratch.close()
        await live.close()
