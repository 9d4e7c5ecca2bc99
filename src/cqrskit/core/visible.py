"""The last sync stage, applied → visible: from a projection's commit to the
read store until the query service is told of it.

The commit time is the store's (the Redis commit script stores its server's
`TIME` with the checkpoint), so the projector's clock plays no part; the
query service reads the age of that commit by the same clock and takes off
what passed on its own (monotonic) clock since the notice, less half the
read's round trip (the moment the store read its clock). No clocks of two
hosts are compared.

Reads are made in the background, never on a request's path, and coalesced:
at most one is in flight, and at most one every `every` s (a sample: under a
stream of commits a worker would otherwise spend a read per notice); notices
that arrive meanwhile are read together next, each projection with its latest
notice. A read that finds a later commit than the one noticed (its notice not
in yet) would come out below zero: it is dropped, not counted as zero.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from cqrskit.core.ports import ChangeListener, CommitTimes
from cqrskit.core.stages import APPLIED_TO_VISIBLE, StageClock

log = logging.getLogger(__name__)


class VisibleClock(ChangeListener):
    """Times `APPLIED_TO_VISIBLE` for each checkpoint change it is told of."""

    def __init__(
        self, store: CommitTimes, stages: StageClock, *, every: float = 0.01
    ) -> None:
        self._store = store
        self._stages = stages
        self._every = every
        self._next = 0.0
        self._noticed: dict[str, float] = {}
        self._reading: asyncio.Task[None] | None = None

    def tracking(self) -> None:
        return None

    def changed(self, docs: Sequence[str] | None, projections: Sequence[str]) -> None:
        if not projections:
            return
        now = time.monotonic()
        for name in projections:
            self._noticed[name] = now
        if self._reading is None:
            self._reading = asyncio.create_task(self._read(), name="applied ages")

    def lost(self) -> None:
        self._noticed.clear()

    async def _read(self) -> None:
        try:
            while self._noticed:
                await asyncio.sleep(max(0.0, self._next - time.monotonic()))
                noticed, self._noticed = self._noticed, {}
                if noticed:  # unless lost meanwhile
                    await self._time(noticed)
        except Exception as e:  # a metric: never worth more than a line
            log.debug("applied ages not read: %r", e)
            self._noticed.clear()
        finally:
            self._reading = None

    async def _time(self, noticed: dict[str, float]) -> None:
        sent = time.monotonic()
        self._next = sent + self._every
        ages = await self._store.applied_ages(list(noticed))
        middle = (sent + time.monotonic()) / 2
        for name, age in ages.items():
            visible = age - (middle - noticed[name])
            if visible >= 0:
                self._stages.observe(APPLIED_TO_VISIBLE, visible)
