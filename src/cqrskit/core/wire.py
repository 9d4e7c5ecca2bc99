"""The wire form of event batches (broker messages) and the partitioning rule.

A batch is one JSON object, `{"v": 2, "metadata": [...], "events": [...]}`:
each event a row `[stream_id, version, position, type, schema_version,
recorded_at, metadata, data]` whose `metadata` is an index into the batch's
list (the events of one append share theirs), so neither side spells out a
key name or a metadata per event. The first form, a list of one object per
event, is still read: projectors read both, so they can be upgraded before the
relay.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from cqrskit.core.messages import Metadata, RecordedEvent, stream_entity


def partition_for(stream_id: str, partitions: int) -> int:
    """Streams of one entity (`product-X`, `inventory-X`) share a partition, so
    views that combine them are written by a single projector."""
    return zlib.crc32(stream_entity(stream_id).encode()) % partitions


def event_to_dict(event: RecordedEvent) -> dict[str, Any]:
    return {
        "stream_id": event.stream_id,
        "version": event.version,
        "position": event.position,
        "type": event.type,
        "schema_version": event.schema_version,
        "recorded_at": event.recorded_at.isoformat(),
        "metadata": event.metadata.as_dict(),
        "data": event.data,
    }


def event_from_dict(raw: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        stream_id=raw["stream_id"],
        version=raw["version"],
        position=raw["position"],
        type=raw["type"],
        schema_version=raw["schema_version"],
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
        metadata=Metadata.from_dict(raw["metadata"]),
        data=raw["data"],
    )


class Delivered(list[RecordedEvent]):
    """A batch as a broker hands it to a consumer: its events, and when the
    relay published it (seconds since the epoch; None where the broker does
    not carry it), to time the way through the broker."""

    def __init__(
        self, events: Sequence[RecordedEvent], published_at: float | None = None
    ) -> None:
        super().__init__(events)
        self.published_at = published_at


def encode_batch(events: Sequence[RecordedEvent]) -> bytes:
    metadata: dict[int, int] = {}  # by id: a page of the log shares them
    shared: list[Metadata] = []
    rows = []
    for e in events:
        if (index := metadata.get(id(e.metadata))) is None:
            index = metadata[id(e.metadata)] = len(shared)
            shared.append(e.metadata)
        rows.append(
            (
                e.stream_id,
                e.version,
                e.position,
                e.type,
                e.schema_version,
                e.recorded_at.isoformat(),
                index,
                e.data,
            )
        )
    metadata_dicts = [m.as_dict() for m in shared]
    return orjson.dumps({"v": 2, "metadata": metadata_dicts, "events": rows})


def decode_batch(body: bytes, published_at: float | None = None) -> Delivered:
    raw = orjson.loads(body)
    if isinstance(raw, list):  # the first form: one object per event
        return Delivered([event_from_dict(e) for e in raw], published_at)
    metadata = [Metadata.from_dict(m) for m in raw["metadata"]]
    times: dict[str, datetime] = {}
    events = []
    for stream_id, version, position, type_, schema, at, meta, data in raw["events"]:
        if (recorded_at := times.get(at)) is None:
            recorded_at = times[at] = datetime.fromisoformat(at)
        events.append(
            RecordedEvent(
                stream_id,
                version,
                position,
                type_,
                data,
                recorded_at,
                schema,
                metadata[meta],
            )
        )
    return Delivered(events, published_at)
