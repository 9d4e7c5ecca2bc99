"""Lag metrics for Prometheus, in every process that reads the log: the
relay (head, its position, lag in events and seconds) and the projectors (per
projection and partition: applied position, lag in events and seconds).

The numbers come from the stores (`runtime.status`, the same reading as
`cqrskit status`: the log's entries, not its events), refreshed in the
background every `every` seconds (reading at most `limit` entries of the log,
so a lag past it reads as `limit`), so a scrape never waits on a store. The
refreshing follows the scrapes: it runs from the start and while the metrics
were scraped in the last `idle` seconds, then waits for the next scrape, so a
process nobody scrapes stops reading. That scrape gets no lag figures (they
would be old); the refresh it wakes serves the next one. Every projector
reports every partition of the shared read store: the values agree, so take
`max` across processes.

`SyncStageMetrics` is the other view of lag: how long batches took through
each stage from commit to the read store (`core.stages`), as a histogram.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.ports import EventLog, ReadStore
from cqrskit.core.progress import Lag, age, relay_lag
from cqrskit.core.projection import Projection
from cqrskit.core.relay import Relay
from cqrskit.runtime.status import projection_lags

log = logging.getLogger(__name__)


class LagMetrics(Collector):
    """`relay` and `views` say which parts a process has (None: not this one);
    they are callables because a role opens its adapters after it registers
    its metrics. Scraped on the event loop that runs `watch` (the ops routes)."""

    def __init__(
        self,
        events: Callable[[], EventLog | None],
        *,
        relay: Callable[[], Relay | None] = lambda: None,
        views: Callable[[], ReadStore | None] = lambda: None,
        projections: Sequence[Projection] = (),
        partitions: int = 1,
        every: float = 5.0,
        limit: int = 10_000,
        idle: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._events, self._relay, self._views = events, relay, views
        self._projections = projections
        self._partitions = partitions
        self._every = every
        self._limit = limit
        self._idle, self._clock = idle, clock
        self._scraped = clock()  # refresh from the start
        self._refreshed: float | None = None
        self._wake = asyncio.Event()
        self.head = 0
        self.relay_position = 0
        self.relay_seconds = 0.0
        self.lags: dict[str, dict[int, Lag]] = {}

    async def refresh(self) -> None:
        self._refreshed = self._clock()
        store = self._events()
        if store is None:
            return
        self.head = await store.head()
        relay = self._relay()
        if relay is not None:
            saved = await store.load_position("relay")
            self.relay_position = max(relay.position, saved)
            oldest = await store.read_entries(self.relay_position, 1)
            when = oldest[0].recorded_at if oldest else None
            self.relay_seconds = age(when, datetime.now(UTC))
        views = self._views()
        if views is not None and self._projections:
            self.lags = await projection_lags(
                store,
                views,
                self._projections,
                self._partitions,
                self.head,
                self._limit,
            )

    async def watch(self) -> None:
        """Refresh until cancelled, while scraped; a store that cannot serve is
        tried again."""
        while True:
            if self._clock() - self._scraped > self._idle:
                self._wake.clear()
                await self._wake.wait()
            try:
                await self.refresh()
            except StoreUnavailable as e:
                log.warning("lag metrics not refreshed: %s", e)
            await asyncio.sleep(self._every)

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        self._scraped = now
        self._wake.set()
        if self._refreshed is not None and now - self._refreshed > self._idle:
            return  # left unrefreshed while nobody scraped: the next scrape
        yield from self._families()

    def _families(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "cqrskit_event_store_head_position",
            "Position of the last event a relay may publish now",
            value=self.head,
        )
        if self._relay() is not None:
            yield GaugeMetricFamily(
                "cqrskit_relay_lag_events",
                "Events committed that the relay has yet to publish",
                value=relay_lag(self.head, self.relay_position),
            )
            yield GaugeMetricFamily(
                "cqrskit_relay_lag_seconds",
                "Age of the oldest event not yet published (0 when caught up)",
                value=self.relay_seconds,
            )
        if self._views() is not None and self._projections:
            yield from self._projection_families()

    def _projection_families(self) -> Iterator[Metric]:
        labels = ["projection", "partition"]
        families: list[tuple[GaugeMetricFamily, Callable[[Lag], float]]] = [
            (
                GaugeMetricFamily(
                    "cqrskit_projector_applied_position",
                    "Position of the last event a projection applied in a partition",
                    labels=labels,
                ),
                lambda lag: float(lag.applied),
            ),
            (
                GaugeMetricFamily(
                    "cqrskit_projector_lag_events",
                    "Events of a partition a projection has yet to apply",
                    labels=labels,
                ),
                lambda lag: float(lag.events),
            ),
            (
                GaugeMetricFamily(
                    "cqrskit_projector_lag_seconds",
                    "Age of the oldest event a projection has yet to apply "
                    "in a partition (0 when caught up)",
                    labels=labels,
                ),
                lambda lag: lag.seconds,
            ),
        ]
        for family, reading in families:
            for name, partitions in self.lags.items():
                for partition, lag in sorted(partitions.items()):
                    family.add_metric([name, str(partition)], reading(lag))
            yield family


STAGE_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.03,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


class SyncStageMetrics(Collector):
    """`cqrskit_sync_stage_seconds{stage}`: the StageClock of the relay and
    projector roles. Each process reports the stages it runs; sum the
    histograms across processes."""

    def __init__(self) -> None:
        self._histogram = Histogram(
            "cqrskit_sync_stage_seconds",
            "Time a batch of events spent in a stage of its way from commit "
            "to the read side (per batch, timed by its oldest event)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=None,
        )

    def observe(self, stage: str, seconds: float) -> None:
        self._histogram.labels(stage).observe(seconds)

    def collect(self) -> Iterator[Metric]:
        yield from self._histogram.collect()
