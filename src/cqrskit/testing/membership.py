"""The Membership contract: every membership adapter runs it (in memory,
SQLite, Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from cqrskit.core.ports import Membership
from cqrskit.testing._handles import Handles, Opener


class MembershipContract:
    """What every Membership promises.

    A subclass defines the fixture `membership_opener`: an `Opener` of handles
    that share one fresh storage (it may hand out the same object each time
    where the storage is the object). The handles are closed after the test."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def open_membership(
        self, membership_opener: Opener[Membership]
    ) -> AsyncIterator[Opener[Membership]]:
        handles = Handles(membership_opener, shares_storage=True)
        try:
            yield handles.open
        finally:
            await handles.close_all()

    async def test_a_heartbeat_answers_the_live_members_sorted(
        self,
        open_membership: Opener[Membership],
    ) -> None:
        first, second = await open_membership(), await open_membership()

        assert await first.heartbeat("b", 30) == ["b"]
        assert await second.heartbeat("a", 30) == ["a", "b"]
        assert await first.heartbeat("b", 30) == ["a", "b"]

    async def test_an_onlooker_sees_the_live_members_without_joining(
        self,
        open_membership: Opener[Membership],
    ) -> None:
        member, onlooker = await open_membership(), await open_membership()
        assert await onlooker.members() == []
        await member.heartbeat("a", 0.05)
        await member.heartbeat("b", 30)
        await asyncio.sleep(0.3)

        assert await onlooker.members() == ["b"]
        assert await member.heartbeat("c", 30) == ["b", "c"]

    async def test_a_member_that_stops_beating_is_forgotten(
        self,
        open_membership: Opener[Membership],
    ) -> None:
        membership = await open_membership()
        await membership.heartbeat("gone", 0.05)
        await membership.heartbeat("stays", 30)
        await asyncio.sleep(0.3)

        assert await membership.heartbeat("stays", 30) == ["stays"]

    async def test_a_member_that_leaves_is_gone_at_once(
        self, open_membership: Opener[Membership]
    ) -> None:
        first, second = await open_membership(), await open_membership()
        await first.heartbeat("a", 30)
        await second.heartbeat("b", 30)

        await second.leave("b")

        assert await first.heartbeat("a", 30) == ["a"]
