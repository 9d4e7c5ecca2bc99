"""Carrying the log's events to the projectors: the broker, its partitions,
and who among the consumers alive now owns which."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from cqrskit.core.messages import RecordedEvent

BatchHandler = Callable[[int, Sequence[RecordedEvent]], Awaitable[None]]


class Ownership(Protocol):
    """The partitions a consumer should be active for, as shared out among the
    consumers alive now. The broker consults it and reports what it does."""

    @property
    def version(self) -> int:
        """Grows each time the partitions are shared out anew."""
        ...

    def owns(self, partition: int) -> bool: ...

    async def changed(self, since: int) -> None:
        """Return once `version` has grown past `since`."""
        ...

    def activity(self, partition: int, active: bool) -> None:
        """The broker reports that this consumer receives a partition's
        batches (it is the active one), or no longer does."""
        ...


class Membership(Protocol):
    """Who is alive among the processes that share work: each announces itself
    with a heartbeat that holds for `ttl` seconds."""

    async def heartbeat(self, member: str, ttl: float) -> list[str]:
        """Mark `member` alive for `ttl` seconds more; return the live
        members, sorted (those whose time ran out are forgotten)."""
        ...

    async def leave(self, member: str) -> None: ...

    async def members(self) -> list[str]:
        """The live members, sorted, as an onlooker sees them (`cqrskit
        status`): nobody is marked alive."""
        ...

    async def close(self) -> None: ...


class Broker(Protocol):
    """Carries batches of events, partitioned, in order per partition."""

    @property
    def partitions(self) -> int: ...

    async def publish(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        """Return only once the broker holds the batch durably."""
        ...

    async def consume(
        self, handler: BatchHandler, *, ownership: Ownership | None = None
    ) -> None:
        """Deliver batches to `handler` until cancelled, at least once, in order.

        A batch is acknowledged only after `handler` returns; if it raises, the
        same batch comes again. When several consumers share the partitions, a
        consumer active on a partition that `ownership` says is not its own
        hands it on (after the batch in hand) to the next consumer, and stands
        by for it from then on.
        """
        ...

    async def subscribed(self) -> None:
        """Wait until `consume` is subscribed to every partition (active or
        standing by)."""
        ...

    async def close(self) -> None: ...
