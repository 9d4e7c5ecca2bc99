"""Commits heard within one process: the CommitFeed of the embedded stores.

An append calls `committed()`; every reader listening through `commits()`
wakes. Appends in another process (a second `cqrskit` on the same SQLite
file) are not heard: the reader's poll finds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class CommitSignal:
    def __init__(self) -> None:
        self._listeners: set[asyncio.Event] = set()

    def committed(self) -> None:
        for listener in self._listeners:
            listener.set()

    async def commits(self) -> AsyncIterator[None]:
        heard = asyncio.Event()
        self._listeners.add(heard)
        try:
            yield  # listening from here on
            while True:
                await heard.wait()
                heard.clear()
                yield
        finally:
            self._listeners.discard(heard)
