"""`cqrskit dlq`: list, retry and skip the streams projections have parked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Gauge

from cqrskit.core.application import Application
from cqrskit.core.deadletter import Parked, parked, skipped_index, skipped_key
from cqrskit.core.errors import StoreUnavailable
from cqrskit.core.ports import ReadStore
from cqrskit.core.projection import Projection
from cqrskit.core.redrive import take_up
from cqrskit.runtime import adapters
from cqrskit.runtime.rebuilding import both_stores, chosen_projections
from cqrskit.runtime.settings import Settings

log = logging.getLogger(__name__)


async def skipped(store: ReadStore, projection: str) -> list[Parked]:
    """Every event `projection` was told to skip, oldest first."""
    keys: list[str] = []
    after: tuple[str, str] | None = None
    while page := await store.index_page(
        skipped_index(projection), after=after, limit=500
    ):
        for entry in page:
            sid, version = entry.member.rsplit("/", 1)
            keys.append(skipped_key(projection, sid, int(version)))
        after = (page[-1].sort_key, page[-1].member)
    return [Parked.decode(raw) for raw in await store.get_many(keys) if raw]


async def dead_letter_counts(
    store: ReadStore, projections: list[Projection]
) -> dict[str, tuple[int, int]]:
    """Per projection, how many streams are parked and how many events were
    skipped (for the projector's gauges)."""
    return {
        p.name: (len(await parked(store, p.name)), len(await skipped(store, p.name)))
        for p in projections
    }


async def list_dead_letters(
    app: Application[Any, Any],
    settings: Settings,
    name: str | None,
    *,
    as_json: bool,
    show_skipped: bool,
    out: Callable[[str], None] = print,
) -> int:
    """Print the parked (or skipped) streams; return how many."""
    store = await adapters.open_read_store(settings.read_store_url)
    try:
        records: list[Parked] = []
        for projection in chosen_projections(app, name):
            find = skipped if show_skipped else parked
            records += await find(store, projection.name)
    finally:
        await store.close()
    if as_json:
        out(orjson.dumps([asdict(r) for r in records]).decode())
    for r in [] if as_json else records:
        out(
            f"{r.projection}  {r.stream_id}  v{r.version} ({r.type}, position "
            f"{r.position})  {r.attempts} attempts, {r.failed_at}\n    {r.error}"
        )
    if not as_json:
        out(f"{len(records)} {'skipped' if show_skipped else 'parked'}")
    return len(records)


async def take_up_stream(
    app: Application[Any, Any],
    settings: Settings,
    stream_id: str,
    name: str | None,
    *,
    skip: bool,
    out: Callable[[str], None] = print,
) -> bool:
    """Retry or skip `stream_id` in each projection that parked it; whether
    every one of them is unparked now."""
    async with both_stores(settings) as (events, store):
        chosen = [
            p
            for p in chosen_projections(app, name)
            if any(r.stream_id == stream_id for r in await parked(store, p.name))
        ]
        if not chosen:
            out(f"{stream_id} is not parked")
            return False
        unparked = True
        for projection in chosen:
            failure = await take_up(events, store, projection, stream_id, skip=skip)
            if failure is None:
                verb = "skipped its poison event" if skip else "retried"
                out(f"{projection.name}: {stream_id} {verb}; unparked")
            else:
                unparked = False
                out(
                    f"{projection.name}: {stream_id} failed again at "
                    f"v{failure.version} ({failure.attempts} attempts): "
                    f"{failure.error}"
                )
        return unparked


class DeadLetterGauges:
    """`cqrskit_projector_parked_streams` and `cqrskit_projector_skipped_events`
    per projection, read from the read store every `every` seconds."""

    def __init__(self, registry: CollectorRegistry, every: float = 15.0) -> None:
        self._every = every
        self._parked = Gauge(
            "cqrskit_projector_parked_streams",
            "Streams a projection parked after an event kept failing",
            ["projection"],
            registry=registry,
        )
        self._skipped = Gauge(
            "cqrskit_projector_skipped_events",
            "Poison events skipped for good (cqrskit dlq skip)",
            ["projection"],
            registry=registry,
        )

    async def refresh(self, store: ReadStore, projections: list[Projection]) -> None:
        counts = await dead_letter_counts(store, projections)
        for name, (parked_now, skipped_now) in counts.items():
            self._parked.labels(name).set(parked_now)
            self._skipped.labels(name).set(skipped_now)

    async def watch(self, store: ReadStore, projections: list[Projection]) -> None:
        """Refresh until cancelled; a store that cannot serve is tried again."""
        while True:
            try:
                await self.refresh(store, projections)
            except StoreUnavailable as e:
                log.warning("dead-letter gauges not refreshed: %s", e)
            await asyncio.sleep(self._every)
