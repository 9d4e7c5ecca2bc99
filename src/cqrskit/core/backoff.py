"""Capped exponential backoff with full jitter, for every retry loop.

Full jitter (a delay drawn uniformly below the exponential bound) spreads the
retries of many processes that lost the same dependency at the same moment,
so a PostgreSQL that comes back is not met by all of them at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from cqrskit.core.errors import StoreUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)


class Backoff:
    """Delays for attempt 1, 2, 3...: random below first, 2*first, ... up to cap."""

    def __init__(self, first: float = 0.1, cap: float = 5.0) -> None:
        self.first = first
        self.cap = cap
        self.attempts = 0

    def next_delay(self) -> float:
        bound = min(self.cap, self.first * 2 ** min(self.attempts, 32))
        self.attempts += 1
        return random.uniform(0, bound)

    async def wait(self) -> None:
        await asyncio.sleep(self.next_delay())

    def reset(self) -> None:
        self.attempts = 0


async def until_available(
    attempt: Callable[[], Awaitable[T]], what: str, backoff: Backoff | None = None
) -> T:
    """Call `attempt` until it does not raise StoreUnavailable.

    Any other error (a misconfiguration: an unsupported URL, refused
    credentials) goes through: retrying it would only hide it."""
    backoff = backoff or Backoff()
    while True:
        try:
            return await attempt()
        except StoreUnavailable as e:
            delay = backoff.next_delay()
            if backoff.attempts == 1 or backoff.attempts % 10 == 0:
                log.warning("%s is unavailable (%s); retrying", what, e.detail)
            await asyncio.sleep(delay)
