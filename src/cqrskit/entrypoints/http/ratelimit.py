"""Commands per second per caller, with a burst: a token bucket per key.

Per process: with N command services behind a balancer a caller gets N times
the rate; a gateway in front does global limits (docs/security.md). The
buckets live in a bounded LRU, so many callers cost bounded memory.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from cqrskit.core.errors import RateLimited

MAX_CALLERS = 100_000


class RateLimiter:
    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = burst if burst is not None else max(1.0, 2 * rate)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def check(self, caller: str) -> None:
        """Take one token from `caller`'s bucket, or RateLimited."""
        now = self._clock()
        tokens, then = self._buckets.pop(caller, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        if tokens < 1:
            self._buckets[caller] = (tokens, now)
            wait = math.ceil((1 - tokens) / self._rate)
            raise RateLimited(
                f"more than {self._rate:g} commands per second; retry in {wait} s",
                wait,
            )
        self._buckets[caller] = (tokens - 1, now)
        if len(self._buckets) > MAX_CALLERS:
            self._buckets.popitem(last=False)
