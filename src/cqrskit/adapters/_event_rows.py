"""What the SQL event stores (SQLite, PostgreSQL) share: the clock's time in
UTC, event data as JSON text, and an event read back from a row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from cqrskit.core.errors import Invalid
from cqrskit.core.messages import Metadata, RecordedEvent


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # a naive clock is taken to tell UTC
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as e:
        raise Invalid(f"cannot store as JSON: {e}") from e


def event_from_row(
    row: Iterable[Any], metadata_seen: dict[str, Metadata] | None = None
) -> RecordedEvent:
    """An event from `(position, stream_id, version, type, schema_version, data,
    metadata, recorded_at, ...)`: data and metadata as JSON text, the time as a
    datetime or in ISO 8601 (as SQLite keeps it); further columns are ignored.

    `metadata_seen` maps metadata text already decoded to its value: the events
    of one append share it, so a page of the log decodes it once per append."""
    position, stream_id, version, type_, schema_version, data, metadata, at, *_ = row
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    seen = metadata_seen.get(metadata) if metadata_seen is not None else None
    meta = seen or Metadata.from_dict(orjson.loads(metadata))
    if metadata_seen is not None and seen is None:
        metadata_seen[metadata] = meta
    return RecordedEvent(
        stream_id=stream_id,
        version=version,
        position=position,
        type=type_,
        data=orjson.loads(data),
        recorded_at=at if at.tzinfo is UTC else as_utc(at),
        schema_version=schema_version,
        metadata=meta,
    )


def events_from_rows(rows: Iterable[Iterable[Any]]) -> list[RecordedEvent]:
    """The events of rows read together (metadata decoded once per text).

    As `event_from_row` for each row, in one loop with no call per row but the
    event's own and its data's decoding: a page of the log (a rebuild, the
    relay) spends most of its decoding time here."""
    seen: dict[str, Metadata] = {}
    loads = orjson.loads
    events: list[RecordedEvent] = []
    append = events.append
    for position, stream_id, version, type_, schema_version, data, meta, at, *_ in rows:
        metadata = seen.get(meta)
        if metadata is None:
            metadata = seen[meta] = Metadata.from_dict(loads(meta))
        if at.__class__ is str:
            at = datetime.fromisoformat(at)
        if at.tzinfo is not UTC:
            at = as_utc(at)
        decoded = loads(data)
        event = RecordedEvent(
            stream_id, version, position, type_, decoded, at, schema_version, metadata
        )
        append(event)
    return events
