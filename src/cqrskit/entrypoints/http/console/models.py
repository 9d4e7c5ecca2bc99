"""The console API's answers, as its OpenAPI document describes them. The
rest are the kit's own dataclasses (`Status`, `Parked`, `StateAt`), which
pydantic documents as they are."""

from __future__ import annotations

from pydantic import BaseModel

from cqrskit.core.deadletter import Parked
from cqrskit.core.ports import StreamSummary
from cqrskit.entrypoints.http.models import Event


class StreamPage(BaseModel):
    items: list[StreamSummary]
    next_after: str | None
    """Pass as `after` for the next page; null on the last."""


class Trail(BaseModel):
    """A page of a stream's events in order, with who, when and the request."""

    stream_id: str
    version: int
    """The stream's last version."""
    events: list[Event]
    next_from: int | None
    """Pass as `from_version` for the next page; null on the last."""
    has_state: bool
    """Whether the application folds this stream's category (time travel)."""


class RetryAnswer(BaseModel):
    projection: str
    stream_id: str
    unparked: bool
    failure: Parked | None
    """The event that failed again, when it did."""
