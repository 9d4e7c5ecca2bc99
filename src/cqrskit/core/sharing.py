"""Sharing a broker's partitions out among the projectors alive now.

Each projector announces itself in a `Membership` (a heartbeat about once a
second, forgotten after a few seconds without one) and computes who owns what
from the sorted live members alone, with `assign`: everyone who sees the same
members computes the same owners, with nothing to negotiate.

The broker keeps each partition applied by one consumer at a time (RabbitMQ's
single-active-consumer); this module only says where it should be. Every
projector stays subscribed to every partition, so a dead one's partitions are
taken over at once by the next consumer in line. A consumer that is not the
owner hands a partition on (it finishes and acks the batch in hand, then
closes its channel, so the unacked batches return in order to the queue and
the next consumer in line becomes active), and subscribes again at the back of
the line.

Why this converges, without ping-pong: while the live members stay the same,
the owner of a partition never hands it on, and a non-owner hands it on at
most once per sharing (`version`). Each hand-on sends a non-owner to the back
of the queue's line, so once every non-owner ahead of the owner has handed on
once, the owner is active and stays so: at most one hand-on per projector and
partition. If the owner is not in line (it died and has not expired yet), the
partition comes back to a non-owner that already handed it on this version,
and that one keeps applying it until the members change. A projector
subscribes to every partition before it first announces itself, so it is in
line by the time the others hand its share to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence

from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.ports import BatchHandler, Broker, Membership

log = logging.getLogger(__name__)


def _score(member: str, partition: int) -> bytes:
    return hashlib.blake2b(f"{member}\x00{partition}".encode(), digest_size=8).digest()


def assign(members: Sequence[str], partitions: int) -> dict[int, str]:
    """Each partition's owner among `members` (order and repeats ignored).

    Rendezvous hashing with bounded loads: every (member, partition) pair has
    a pseudo-random score, and pairs are taken best first, each member up to
    its even share (⌊P/n⌋, and ⌊P/n⌋+1 for the first P mod n members to reach
    it). Loads differ by at most one, so a projector that joins gets its share
    (pure rendezvous hashing moves fewer partitions, but with 8 partitions it
    often leaves one projector with none). A join or a leave moves the
    newcomer's or the leaver's share, and keeping loads even may move a few
    more: with 8 partitions and up to 5 projectors, under one more on average
    and at most 3 more in our samples; going from one projector to two moves
    exactly half. No pure function can be both even and minimal for every
    set of members; even shares are what an operator sees.
    """
    live = sorted(set(members))
    if not live:
        return {}
    floor, extra = divmod(partitions, len(live))
    pairs = sorted(
        ((_score(m, p), m, p) for m in live for p in range(partitions)), reverse=True
    )
    owners: dict[int, str] = {}
    load = dict.fromkeys(live, 0)
    for _, member, partition in pairs:
        if partition in owners or load[member] > floor:
            continue
        if load[member] == floor:
            if not extra:
                continue
            extra -= 1
        owners[partition] = member
        load[member] += 1
    return owners


class Shares:
    """The Ownership a broker consults: this member's partitions under the
    latest sharing, and which of them the broker is active for."""

    def __init__(self, member: str, partitions: int) -> None:
        self.member = member
        self.partitions = partitions
        self.members: tuple[str, ...] = ()
        self.active: set[int] = set()
        self._owned = frozenset(range(partitions))
        self._version = 0
        self._changed = asyncio.Event()

    @property
    def version(self) -> int:
        return self._version

    @property
    def owned(self) -> frozenset[int]:
        return self._owned

    def owns(self, partition: int) -> bool:
        return partition in self._owned

    async def changed(self, since: int) -> None:
        while self._version <= since:
            await self._changed.wait()

    def activity(self, partition: int, active: bool) -> None:
        if active:
            self.active.add(partition)
        else:
            self.active.discard(partition)

    def share_out(self, members: Sequence[str]) -> None:
        """Share the partitions out among `members` (a no-op if they are the
        ones of the last sharing)."""
        live = tuple(sorted(set(members) | {self.member}))
        if live == self.members:
            return
        self.members = live
        owners = assign(live, self.partitions)
        self._owned = frozenset(p for p, m in owners.items() if m == self.member)
        self._version += 1
        log.info(
            "%d live projectors; %s owns partitions %s",
            len(live),
            self.member,
            sorted(self._owned),
        )
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()


async def keep_sharing(
    membership: Membership,
    shares: Shares,
    *,
    interval: float = 1.0,
    ttl: float = 3.0,
) -> None:
    """Heartbeat every `interval` and share out anew when the live members
    change, until cancelled; then leave, so the others take over at once.

    While the membership store cannot be reached, the last sharing holds: the
    broker still lets one consumer at a time apply a partition.
    """
    try:
        while True:
            try:
                shares.share_out(await membership.heartbeat(shares.member, ttl))
            except StoreUnavailable as error:
                log.warning("cannot announce %s (%s)", shares.member, error)
            await asyncio.sleep(interval)
    finally:
        with contextlib.suppress(StoreUnavailable):
            await asyncio.shield(membership.leave(shares.member))


async def consume_share(
    broker: Broker,
    handler: BatchHandler,
    membership: Membership,
    shares: Shares,
    *,
    interval: float = 1.0,
    ttl: float = 3.0,
) -> None:
    """Consume `shares`' partitions until cancelled, standing by for the rest.

    The projector announces itself only once it is in line on every
    partition, so the share the others hand it finds it there.
    """
    async with asyncio.TaskGroup() as group:
        group.create_task(broker.consume(handler, ownership=shares))
        await broker.subscribed()
        group.create_task(keep_sharing(membership, shares, interval=interval, ttl=ttl))
