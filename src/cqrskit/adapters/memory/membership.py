"""Membership in this process's memory: for a projector that shares with
nobody, and as the reference of the Membership contract."""

from __future__ import annotations

import time
from collections.abc import Callable


class InMemoryMembership:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiries: dict[str, float] = {}

    async def heartbeat(self, member: str, ttl: float) -> list[str]:
        now = self._clock()
        self._expiries = {m: t for m, t in self._expiries.items() if t > now}
        self._expiries[member] = now + ttl
        return sorted(self._expiries)

    async def members(self) -> list[str]:
        now = self._clock()
        return sorted(m for m, t in self._expiries.items() if t > now)

    async def leave(self, member: str) -> None:
        self._expiries.pop(member, None)

    async def close(self) -> None:
        return None
