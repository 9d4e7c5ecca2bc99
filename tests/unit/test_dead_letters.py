"""Poison events: after N failures of one event a projection parks its stream,
and the rest of the partition goes on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from cqrskit.adapters.memory import InMemoryReadStore
from cqrskit.core.deadletter import parked, parked_mark
from cqrskit.core.errors import NotFound, StoreUnavailable
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.projection import ProjectionRunner, View
from cqrskit.core.redrive import take_up
from cqrskit.runtime.deadletters import DeadLetterGauges, skipped

AT = datetime(2030, 1, 1, tzinfo=UTC)


def event(
    stream: str, version: int, position: int, kind: str = "Counted"
) -> RecordedEvent:
    return RecordedEvent(stream, version, position, kind, {}, AT)


class Counter:
    """Counts each stream's events in a document; raises on `Poison` events."""

    name = "counter"
    categories = frozenset({"a", "b"})
    prefixes: tuple[str, ...] = ("count:",)

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or ValueError("cannot handle this")

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        return (f"count:{event.stream_id}",)

    async def apply(self, event: RecordedEvent, view: View) -> None:
        if event.type == "Poison":
            raise self.error
        raw = await view.get(f"count:{event.stream_id}")
        view.put(f"count:{event.stream_id}", str(int(raw or b"0") + 1).encode())


BATCH = [
    event("a-1", 1, 1),
    event("b-1", 1, 2),
    event("a-1", 2, 3, "Poison"),
    event("b-1", 2, 4),
    event("a-1", 3, 5),
]


async def test_an_event_that_keeps_failing_parks_its_stream_and_the_rest_goes_on() -> (
    None
):
    store = InMemoryReadStore()
    runner = ProjectionRunner([Counter()], store, max_failures=3, clock=lambda: 0)
    for _ in range(2):
        with pytest.raises(ValueError, match="cannot handle"):
            await runner.handle(0, BATCH)
        assert await store.get("count:b-1") is None, "a failed batch commits nothing"

    await runner.handle(0, BATCH)  # the third failure parks a-1

    assert await store.get_many(["count:a-1", "count:b-1"]) == [b"1", b"2"]
    assert await store.stream_versions("counter", ["a-1", "b-1"]) == {
        "a-1": 1,
        "b-1": 2,
    }
    mark = parked_mark("a-1")
    assert await store.stream_versions("counter", [mark]) == {mark: 2}
    (record,) = await parked(store, "counter")
    assert (record.stream_id, record.version, record.position) == ("a-1", 2, 3)
    assert record.type == "Poison"
    assert record.error == "ValueError: cannot handle this"
    assert record.attempts == 3
    assert record.failed_at == "1970-01-01T00:00:00.000Z"

    # Later events of the parked stream are held back; other streams go on.
    await runner.handle(0, [event("a-1", 4, 6), event("b-1", 3, 7)])
    assert await store.get_many(["count:a-1", "count:b-1"]) == [b"1", b"3"]
    assert await store.stream_versions("counter", ["a-1"]) == {"a-1": 1}


async def test_a_store_that_cannot_serve_is_retried_never_parked() -> None:
    store = InMemoryReadStore()
    runner = ProjectionRunner(
        [Counter(StoreUnavailable("redis is down"))], store, max_failures=1
    )
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            await runner.handle(0, BATCH)
    assert await parked(store, "counter") == []
    assert await store.get("count:b-1") is None


class Log:
    """The event store as the redrive reads it: streams by version."""

    def __init__(self, events: Sequence[RecordedEvent]) -> None:
        self._events = events

    async def read_stream(
        self, stream_id: str, from_version: int = 1
    ) -> list[RecordedEvent]:
        return [
            e
            for e in self._events
            if e.stream_id == stream_id and e.version >= from_version
        ]


class Fixable(Counter):
    """Raises on `Poison` events until fixed."""

    fixed = False

    async def apply(self, event: RecordedEvent, view: View) -> None:
        if self.fixed and event.type == "Poison":
            event = event.__class__(
                event.stream_id, event.version, 0, "Counted", {}, AT
            )
        await super().apply(event, view)


async def parked_store(projection: Counter) -> InMemoryReadStore:
    store = InMemoryReadStore()
    runner = ProjectionRunner([projection], store, max_failures=1)
    await runner.handle(0, BATCH)
    assert [r.stream_id for r in await parked(store, "counter")] == ["a-1"]
    return store


async def test_retry_after_a_fix_applies_the_stream_and_unparks_it() -> None:
    projection = Fixable()
    store = await parked_store(projection)
    log = Log([*BATCH, event("a-1", 4, 6)])

    failure = await take_up(log, store, projection, "a-1", skip=False)  # type: ignore[arg-type]
    assert failure is not None and failure.attempts == 2
    assert failure.error == "ValueError: cannot handle this"
    assert (await parked(store, "counter"))[0].attempts == 2
    assert await store.stream_versions("counter", ["a-1"]) == {"a-1": 1}

    projection.fixed = True
    assert await take_up(log, store, projection, "a-1", skip=False) is None  # type: ignore[arg-type]
    assert await parked(store, "counter") == []
    mark = parked_mark("a-1")
    assert await store.stream_versions("counter", [mark]) == {mark: 0}
    assert await store.get("count:a-1") == b"4"
    assert await store.stream_versions("counter", ["a-1"]) == {"a-1": 4}

    runner = ProjectionRunner([projection], store)  # live work goes on
    await runner.handle(0, [event("a-1", 5, 7)])
    assert await store.get("count:a-1") == b"5"


async def test_skip_records_the_poison_event_and_applies_the_rest() -> None:
    projection = Counter()
    store = await parked_store(projection)
    log = Log([*BATCH, event("a-1", 4, 6)])

    assert await take_up(log, store, projection, "a-1", skip=True) is None  # type: ignore[arg-type]

    assert await parked(store, "counter") == []
    (record,) = await skipped(store, "counter")
    assert (record.stream_id, record.version, record.type) == ("a-1", 2, "Poison")
    assert await store.get("count:a-1") == b"3"  # v1, v3 and v4
    assert await store.stream_versions("counter", ["a-1"]) == {"a-1": 4}


async def test_taking_up_a_stream_that_is_not_parked_is_refused() -> None:
    store = InMemoryReadStore()
    with pytest.raises(NotFound):
        await take_up(Log([]), store, Counter(), "a-1", skip=False)  # type: ignore[arg-type]


async def test_the_gauges_count_parked_streams_and_skipped_events() -> None:
    projection = Counter()
    store = await parked_store(projection)
    registry = CollectorRegistry()
    gauges = DeadLetterGauges(registry)
    await gauges.refresh(store, [projection])  # type: ignore[list-item]
    labels = {"projection": "counter"}
    assert registry.get_sample_value("cqrskit_projector_parked_streams", labels) == 1
    assert registry.get_sample_value("cqrskit_projector_skipped_events", labels) == 0

    await take_up(Log(BATCH), store, projection, "a-1", skip=True)  # type: ignore[arg-type]
    await gauges.refresh(store, [projection])  # type: ignore[list-item]
    assert registry.get_sample_value("cqrskit_projector_parked_streams", labels) == 0
    assert registry.get_sample_value("cqrskit_projector_skipped_events", labels) == 1
