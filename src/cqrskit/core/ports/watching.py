"""What a read store tells of its changes: as they happen (to keep a cache of
views correct, to wake a consistency wait) and when each projection last
committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


class ChangeListener(Protocol):
    """Told of changes to a read store as they happen (`Watchable.watch`)."""

    def tracking(self) -> None:
        """From now on every change is told, until `lost`."""

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        """These documents and these projections' checkpoints changed; `docs`
        None: any document may have (the store was emptied)."""

    def lost(self) -> None:
        """Changes may go untold from now on, until `tracking` again."""


@runtime_checkable
class Watchable(Protocol):
    """A read store that tells a listener of its changes (an in-process cache
    of views is kept correct by it; a consistency wait wakes on it)."""

    async def watch(self, listener: ChangeListener) -> None:
        """Tell `listener` of every change made by any writer, from its
        `tracking()` on, until cancelled. A lost connection is `lost()`, then
        healed (with backoff) and `tracking()` again; it never returns."""
        ...


@runtime_checkable
class CommitTimes(Protocol):
    """A read store that records when each projection last committed."""

    async def applied_ages(self, projections: Sequence[str]) -> dict[str, float]:
        """Seconds from each projection's last commit until now, both read by
        the store's own clock (a projection never committed, or committed
        before the store recorded times, is left out)."""
        ...
