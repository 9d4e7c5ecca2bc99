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


def events_from_rows(rows: Iterable[Iterable[Any]]) -> list[RecordedEvent]:
    """The events of rows `(position, stream_id, version, type, schema_version,
    data, metadata, recorded_at, ...)` read together: data and metadata as JSON
    text (metadata decoded once per text: the events of one append share it),
    the time as a datetime or in ISO 8601 (as SQLite keeps it); further columns
    are ignored. One loop with no call per row but the event's own and its
    data's decoding: a page of the log (a rebuild, the relay) spends most of its
    decoding time here."""
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
