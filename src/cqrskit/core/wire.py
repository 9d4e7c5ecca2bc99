"""The wire form of event batches (broker messages) and the partitioning rule."""

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
    return orjson.dumps([event_to_dict(e) for e in events])


def decode_batch(body: bytes, published_at: float | None = None) -> Delivered:
    return Delivered([event_from_dict(raw) for raw in orjson.loads(body)], published_at)
