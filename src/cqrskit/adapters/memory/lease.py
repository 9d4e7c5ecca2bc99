"""The lease among the relays of one process (tests, the embedded mode).

Leases of the same name in one process exclude each other like the
PostgreSQL one does across processes, so the same contract holds."""

from __future__ import annotations

import asyncio

from cqrskit.core.ports import LeaseLost, PositionStore

_HOLDERS: dict[str, InProcessLease] = {}


class LocalLease:
    """What a lease that cannot lapse while held (a lock in this process or
    on this machine) shares: renewing is looking, and the position is kept
    in a store beside it, saved only while the lease is held."""

    def __init__(self, name: str, positions: PositionStore) -> None:
        self._name = name
        self._positions = positions

    def valid(self) -> bool:
        raise NotImplementedError

    async def renew(self) -> bool:
        return self.valid()

    async def load_position(self, name: str) -> int:
        return await self._positions.load_position(name)

    async def save_position(self, name: str, position: int) -> None:
        if not self.valid():
            raise LeaseLost(f"not holding the {self._name} lease")
        await self._positions.save_position(name, position)


class InProcessLease(LocalLease):
    def __init__(
        self, name: str, positions: PositionStore, poll_interval: float = 0.02
    ) -> None:
        super().__init__(name, positions)
        self._poll_interval = poll_interval

    async def acquire(self) -> None:
        # Polled rather than woken: the holder may be on another event loop.
        while True:
            if _HOLDERS.setdefault(self._name, self) is self:
                return
            await asyncio.sleep(self._poll_interval)

    def valid(self) -> bool:
        return _HOLDERS.get(self._name) is self

    async def release(self) -> None:
        if self.valid():
            del _HOLDERS[self._name]
