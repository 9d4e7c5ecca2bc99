"""Leadership of a role that runs once (the relay), fenced on its position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cqrskit.core.ports.events import PositionStore


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a lease (a process's name, host-pid) and since when (RFC 3339)."""

    holder: str
    since: str


class LeaseLost(Exception):
    """This process no longer holds the lease: it must not publish or save."""


class Lease(PositionStore, Protocol):
    """Leadership of a role that must run once (the relay): whoever holds the
    lease is active; the others wait as hot standbys.

    The lease also keeps the leader's position, fenced: `save_position`
    refuses (LeaseLost) unless this process holds the lease at that moment,
    so a deposed leader that wakes up can never move the position back.
    """

    async def acquire(self) -> None:
        """Wait until this process holds the lease (StoreUnavailable if the
        place it lives in cannot be reached)."""
        ...

    async def renew(self) -> bool:
        """Prove the lease is still held and extend its validity; False once
        it is lost (it is then released)."""
        ...

    def valid(self) -> bool:
        """Held, and renewed recently enough that nobody else can hold it yet.
        No I/O: checked before every publish."""
        ...

    async def release(self) -> None:
        """Give the lease up. Safe to repeat."""
        ...
