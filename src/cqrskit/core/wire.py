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


def event_to_dict(
    event: RecordedEvent, metadata_seen: dict[Metadata, dict[str, Any]] | None = None
) -> dict[str, Any]:
    if metadata_seen is None:
        metadata = event.metadata.as_dict()
    elif (metadata := metadata_seen.get(event.metadata)) is None:
        metadata = metadata_seen[event.metadata] = event.metadata.as_dict()
    return {
        "stream_id": event.stream_id,
        "version": event.version,
        "position": event.position,
        "type": event.type,
        "schema_version": event.schema_version,
        "recorded_at": event.recorded_at.isoformat(),
        "metadata": metadata,
        "data": event.data,
    }


def event_from_dict(
    raw: dict[str, Any], metadata_seen: dict[bytes, Metadata] | None = None
) -> RecordedEvent:
    if metadata_seen is None:
        metadata = Metadata.from_dict(raw["metadata"])
    else:
        text = orjson.dumps(raw["metadata"])
        if (metadata := metadata_seen.get(text)) is None:
            metadata = metadata_seen[text] = Metadata.from_dict(raw["metadata"])
    return RecordedEvent(
        stream_id=raw["stream_id"],
        version=raw["version"],
        position=raw["position"],
        type=raw["type"],
        schema_version=raw["schema_version"],
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
        metadata=metadata,
        data=raw["data"],
    )


def encode_batch(events: Sequence[RecordedEvent]) -> bytes:
    """The events of a batch usually share their metadata (an append's): each
    distinct one is turned into a dict once (and shared by the events')."""
    seen: dict[Metadata, dict[str, Any]] = {}
    return orjson.dumps([event_to_dict(e, seen) for e in events])


def decode_batch(body: bytes) -> list[RecordedEvent]:
    seen: dict[bytes, Metadata] = {}
    return [event_from_dict(raw, seen) for raw in orjson.loads(body)]
