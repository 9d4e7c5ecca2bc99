"""The Lease contract: one holder per name at a time, a released lease passes
to one waiting standby, the next holder goes on from the position the last one
saved, and a lease that is not held (never acquired, released, or taken away
behind its holder's back) refuses to move the position (fencing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from cqrskit.core.ports import Lease, LeaseLost

MakeLease = Callable[[str], Lease]
BreakLease = Callable[[str], Awaitable[None]]
"""Ends the hold on the lease of a name from outside its holder, the way the
lease's storage can (a terminated database session)."""
WAIT = 5.0


async def _still_waiting(task: asyncio.Task[None], seconds: float = 0.3) -> bool:
    await asyncio.sleep(seconds)
    return not task.done()


class LeaseContract:
    """What every Lease promises.

    A subclass defines the fixture `lease_maker`: a function that makes a
    lease of a name on fresh storage (leases of the same name made by it
    exclude each other; each keeps the position in the same place). Every
    lease made is released after the test.

    A lease that can be lost while held (its storage can end the hold behind
    the holder's back) also defines the fixture `break_lease`: a `BreakLease`.
    Without it, the test of a lost lease is skipped (a lock of this process or
    of this machine cannot lapse while its holder lives)."""

    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def make(self, lease_maker: MakeLease) -> AsyncIterator[MakeLease]:
        made: list[Lease] = []

        def tracked(name: str) -> Lease:
            lease = lease_maker(name)
            made.append(lease)
            return lease

        try:
            yield tracked
        finally:
            for lease in made:
                await lease.release()

    @pytest.fixture
    def break_lease(self) -> BreakLease:
        pytest.skip("this lease cannot be lost while its holder lives")

    async def test_a_lease_never_acquired_holds_nothing(self, make: MakeLease) -> None:
        lease = make("relay")

        assert not lease.valid() and not await lease.renew()
        with pytest.raises(LeaseLost):
            await lease.save_position("relay", 1)
        await lease.release()  # nothing to give up: harmless
        assert not lease.valid()

    async def test_one_holder_at_a_time_among_many_standbys(
        self, make: MakeLease
    ) -> None:
        leases = [make("relay") for _ in range(4)]
        waits = [asyncio.create_task(lease.acquire()) for lease in leases]
        released: list[Lease] = []
        try:
            for _ in leases:
                async with asyncio.timeout(WAIT):
                    # valid() is all a lease offers to watch: poll it.
                    while not any(lease.valid() for lease in leases):  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)  # room for a second holder to show up
                holders = [lease for lease in leases if lease.valid()]
                assert len(holders) == 1, f"{len(holders)} holders at once"
                assert holders[0] not in released
                await holders[0].release()
                released.append(holders[0])
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        assert len(released) == len(leases)

    async def test_the_next_holder_goes_on_from_the_saved_position(
        self, make: MakeLease
    ) -> None:
        first, second = make("relay"), make("relay")
        await first.acquire()
        await first.save_position("relay", 42)
        await first.release()

        await asyncio.wait_for(second.acquire(), WAIT)

        assert await second.load_position("relay") == 42

    async def test_a_holder_that_lost_its_lease_is_fenced_and_a_standby_leads(
        self, make: MakeLease, break_lease: BreakLease
    ) -> None:
        first, second = make("relay"), make("relay")
        await first.acquire()
        await first.save_position("relay", 5)
        standby = asyncio.create_task(second.acquire())
        assert await _still_waiting(standby)

        await break_lease("relay")

        await asyncio.wait_for(standby, WAIT)
        assert second.valid()
        assert not await first.renew() and not first.valid()
        with pytest.raises(LeaseLost):
            await first.save_position("relay", 99)
        assert await second.load_position("relay") == 5

    async def test_the_holder_is_valid_and_keeps_the_position(
        self, make: MakeLease
    ) -> None:
        lease = make("relay")
        assert not lease.valid()
        await lease.acquire()
        assert lease.valid() and await lease.renew()
        assert await lease.load_position("relay") == 0
        await lease.save_position("relay", 42)
        assert await lease.load_position("relay") == 42
        await lease.acquire()  # holding already: returns at once
        assert lease.valid()

    async def test_a_standby_waits_and_takes_over_on_release(
        self, make: MakeLease
    ) -> None:
        first, second = make("relay"), make("relay")
        await first.acquire()
        standby = asyncio.create_task(second.acquire())
        assert await _still_waiting(standby)
        assert not second.valid()

        await first.release()
        await first.release()  # safe to repeat

        await asyncio.wait_for(standby, WAIT)
        assert second.valid() and await second.renew()
        assert not first.valid() and not await first.renew()

    async def test_a_lease_not_held_cannot_move_the_position(
        self, make: MakeLease
    ) -> None:
        first, second = make("relay"), make("relay")
        await first.acquire()
        await first.save_position("relay", 10)
        await first.release()
        await second.acquire()

        with pytest.raises(LeaseLost):
            await first.save_position("relay", 5)
        await second.save_position("relay", 11)
        assert await second.load_position("relay") == 11

    async def test_a_cancelled_wait_leaves_no_claim_behind(
        self, make: MakeLease
    ) -> None:
        first, gave_up, third = make("relay"), make("relay"), make("relay")
        await first.acquire()
        waiting = asyncio.create_task(gave_up.acquire())
        assert await _still_waiting(waiting)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

        standby = asyncio.create_task(third.acquire())
        await first.release()
        await asyncio.wait_for(standby, WAIT)
        assert third.valid() and not gave_up.valid()

    async def test_leases_of_different_names_do_not_wait_for_each_other(
        self,
        make: MakeLease,
    ) -> None:
        relay, other = make("relay"), make("other")
        await asyncio.wait_for(relay.acquire(), WAIT)
        await asyncio.wait_for(other.acquire(), WAIT)
        assert relay.valid() and other.valid()
