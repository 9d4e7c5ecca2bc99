"""Sharing the partitions out: every partition has exactly one live owner,
shares are even, the sharing depends only on who is alive, and a projector
joining or leaving moves little."""

from __future__ import annotations

import asyncio
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from cqrskit.adapters.memory.membership import InMemoryMembership
from cqrskit.core.sharing import Shares, assign, keep_sharing

names = st.text(min_size=1, max_size=12)
member_sets = st.lists(names, min_size=1, max_size=9, unique=True)
partition_counts = st.integers(min_value=1, max_value=64)


def loads(owners: dict[int, str], members: list[str]) -> list[int]:
    return [sum(1 for m in owners.values() if m == member) for member in members]


def moved(before: dict[int, str], after: dict[int, str]) -> int:
    return sum(1 for p, owner in after.items() if before[p] != owner)


@given(member_sets, partition_counts)
def test_every_partition_has_one_live_owner_and_shares_are_even(
    members: list[str], partitions: int
) -> None:
    owners = assign(members, partitions)

    assert sorted(owners) == list(range(partitions))
    assert set(owners.values()) <= set(members)
    shares = loads(owners, members)
    assert max(shares) - min(shares) <= 1


@given(member_sets, partition_counts, st.randoms())
def test_the_sharing_depends_only_on_who_is_alive(
    members: list[str], partitions: int, random: Random
) -> None:
    shuffled = list(members) * 2
    random.shuffle(shuffled)

    assert assign(shuffled, partitions) == assign(members, partitions)


@given(member_sets, names, partition_counts)
def test_a_join_or_a_leave_moves_the_newcomers_share_and_few_more(
    members: list[str], newcomer: str, partitions: int
) -> None:
    if newcomer in members:
        return
    before = assign(members, partitions)
    after = assign([*members, newcomer], partitions)
    taken = sum(1 for owner in after.values() if owner == newcomer)

    assert taken in (
        partitions // (len(members) + 1),
        -(-partitions // (len(members) + 1)),
    )
    assert taken <= moved(before, after) <= partitions // 2 + 2
    assert moved(after, before) == moved(before, after)  # leaving undoes joining
    if len(members) == 1:  # the second projector takes exactly its half
        assert moved(before, after) == taken


def test_the_second_of_two_projectors_takes_half_of_8_partitions() -> None:
    alone = assign(["a"], 8)
    two = assign(["a", "b"], 8)

    assert set(alone.values()) == {"a"}
    assert sorted(loads(two, ["a", "b"])) == [4, 4]


async def test_shares_change_only_when_the_live_members_do() -> None:
    shares = Shares("a", 8)
    assert shares.owned == frozenset(range(8))  # before any sharing: all of them
    woken = asyncio.create_task(shares.changed(shares.version))

    shares.share_out(["b"])  # itself is always counted in
    await asyncio.wait_for(woken, 1)
    version = shares.version
    shares.share_out(["b", "a", "b"])

    assert shares.members == ("a", "b")
    assert shares.version == version
    assert shares.owned == {p for p, m in assign(["a", "b"], 8).items() if m == "a"}


async def test_keep_sharing_announces_and_leaves_on_the_way_out() -> None:
    membership = InMemoryMembership()
    await membership.heartbeat("b", 60)
    shares = Shares("a", 8)
    task = asyncio.create_task(keep_sharing(membership, shares, interval=0.01))
    async with asyncio.timeout(5):
        await shares.changed(0)
    assert shares.members == ("a", "b")

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert await membership.heartbeat("b", 60) == ["b"]
