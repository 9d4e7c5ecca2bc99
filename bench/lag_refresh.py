"""What one refresh of the lag metrics costs, beside reading the same events whole.

    .venv/bin/python bench/lag_refresh.py DATABASE_URL [--limit N] [--rounds R]

bench/pipeline.py calls `measure` on its loaded log, before any projector ran:
every event is pending, so a refresh reads its whole window (`limit`, 10,000 as
in the processes). Side by side, alternating, in one run: the refresh the
relay and projector processes run (`runtime.lag.LagMetrics`: head, relay
position, log entries counted per projection and partition), and the anchor:
the same window read with `read_all` (decoded events, as the refresh read the
log before `read_entries`) and counted by the same `progress.lags`. Medians of
`rounds` of each, in CPU ms of this process (the cost a projector pays) and
wall ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.adapters.postgres import PostgresEventStore
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.progress import lags
from cqrskit.runtime.lag import LagMetrics
from cqrskit.shop.app import app

PARTITIONS = 8
PAGE = 5_000


async def _timed(step: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await step()
    return time.process_time() - cpu, time.perf_counter() - wall


async def measure(url: str, limit: int = 10_000, rounds: int = 7) -> dict[str, Any]:
    store = await PostgresEventStore.open(url)
    projections = app.projection_list()
    views = InMemoryReadStore()  # nothing applied: the whole window is pending
    metrics = LagMetrics(
        lambda: store,
        views=lambda: views,
        projections=projections,
        partitions=PARTITIONS,
        limit=limit,
    )

    async def decoded() -> None:
        events: list[RecordedEvent] = []
        while len(events) < limit:
            after = events[-1].position if events else 0
            page = await store.read_all(after, min(PAGE, limit - len(events)))
            if not page:
                break
            events += page
        now = datetime.now(UTC)
        for p in projections:
            lags({}, PARTITIONS, p.categories, events, now)

    try:
        await metrics.refresh()  # warm the connection and the statements
        await decoded()
        refresh, anchor = [], []
        for _ in range(rounds):
            refresh.append(await _timed(metrics.refresh))
            anchor.append(await _timed(decoded))
    finally:
        await store.close()
    figures = {
        "refresh_cpu_ms": statistics.median(c for c, _ in refresh) * 1e3,
        "refresh_wall_ms": statistics.median(w for _, w in refresh) * 1e3,
        "decoded_cpu_ms": statistics.median(c for c, _ in anchor) * 1e3,
        "decoded_wall_ms": statistics.median(w for _, w in anchor) * 1e3,
    }
    return {"key": "lag_refresh", "events": limit, **figures}


def describe(figures: dict[str, Any]) -> str:
    return (
        f"lag refresh over {figures['events']:,} pending events: "
        f"CPU {figures['refresh_cpu_ms']:.1f} ms, wall {figures['refresh_wall_ms']:.1f}"
        f" ms; the same window read whole (read_all): CPU "
        f"{figures['decoded_cpu_ms']:.1f} ms, wall {figures['decoded_wall_ms']:.1f}"
        f" ms; CPU ratio {figures['refresh_cpu_ms'] / figures['decoded_cpu_ms']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(describe(asyncio.run(measure(args.url, args.limit, args.rounds))))


if __name__ == "__main__":
    main()
