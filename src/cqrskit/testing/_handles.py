"""Handles on one adapter's storage, opened by the test's own opener and all
closed when the test ends (in the reverse order of opening)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import pytest


class Closable(Protocol):
    async def close(self) -> None: ...


H = TypeVar("H", bound=Closable)

Opener = Callable[[], Awaitable[H]]
"""Opens a new handle on the storage under test (the same storage each call)."""


class Handles(Generic[H]):
    def __init__(self, opener: Opener[H], *, shares_storage: bool) -> None:
        self._opener = opener
        self.shares_storage = shares_storage
        """Whether a handle opened later sees what earlier ones wrote (a real
        file or server), so reopening and several writers can be tested."""
        self._opened: list[H] = []

    async def open(self) -> H:
        handle = await self._opener()
        self._opened.append(handle)
        return handle

    def reopener(self) -> Opener[H]:
        """`open`, for a test that needs another handle on the same storage;
        skips the test if each handle has storage of its own."""
        if not self.shares_storage:
            pytest.skip("each handle of this adapter has storage of its own")
        return self.open

    async def close_all(self) -> None:
        for handle in reversed(self._opened):
            await handle.close()
