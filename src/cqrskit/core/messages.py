"""The messages that cross the core's boundaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Metadata:
    """Where an event came from: the command, the request chain, its cause,
    and who issued the command (`principal`, the token's `sub`, with its
    `roles`; None for the system itself, such as the demo loader).
    `traceparent`: the W3C trace context of the append, when traces are on
    (core/tracing.py)."""

    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    principal: str | None = None
    roles: tuple[str, ...] = ()
    traceparent: str | None = None

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "command_id": self.command_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "traceparent": self.traceparent,
        }
        if self.principal is not None:
            values["principal"] = {"sub": self.principal, "roles": list(self.roles)}
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Metadata:
        principal = raw.get("principal") or {}
        return cls(
            command_id=raw.get("command_id"),
            correlation_id=raw.get("correlation_id"),
            causation_id=raw.get("causation_id"),
            principal=principal.get("sub"),
            roles=tuple(principal.get("roles", ())),
            traceparent=raw.get("traceparent"),
        )


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event decided but not yet stored."""

    type: str
    data: JsonDict
    schema_version: int = 1


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, written only if the stream is at `expected_version`.

    `expected_version` 0 means the stream must not exist yet.
    """

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """The envelope of a stored event."""

    stream_id: str
    version: int
    position: int
    type: str
    data: JsonDict
    recorded_at: datetime
    schema_version: int = 1
    metadata: Metadata = field(default_factory=Metadata)

    @property
    def category(self) -> str:
        return stream_category(self.stream_id)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """Where an event sits in the log, and when it was recorded: what measuring
    lag needs, read without the event's data or metadata."""

    position: int
    stream_id: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Ack:
    """The whole answer of a command handler (CQS): where its events landed."""

    stream_id: str
    version: int
    position: int
    written: tuple[tuple[str, int], ...] = ()
    """Every stream the command wrote and its new version (for consistency tokens)."""


CATEGORY_PATTERN = r"[a-z][a-z0-9_]{0,31}"
ENTITY_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
STREAM_ID_PATTERN = rf"^{CATEGORY_PATTERN}-{ENTITY_PATTERN}$"
"""A stream id is `{category}-{id}`: a lower-case category (no `-`, so the
first `-` splits it off) and an entity id (a SKU or another id)."""


def stream_category(stream_id: str) -> str:
    """`order-42` belongs to the category `order`."""
    return stream_id.split("-", 1)[0]


def stream_entity(stream_id: str) -> str:
    """`order-42` names the entity `42`."""
    return stream_id.split("-", 1)[-1]
