"""What the HTTP services accept, validated at the edge: the kit's part
(the patterns, the base of every body, the command answer and the audit
trail); an application's own models build on these.

Every constraint here is also what the OpenAPI documents say, so a client
that follows the documents is never refused and nothing the documents refuse
reaches a store. Strings refuse control characters (NUL above all: PostgreSQL
cannot store it and some read stores use it as a separator); free text keeps
tab and line breaks. Integers accept an integral float (`1046.0`) because JSON
Schema's `integer` does; fractions, booleans and strings stay refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
)
from pydantic.config import JsonDict

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

_CONTROL = r"\x00-\x1f\x7f"
# Every character str.strip() removes that is not a control character.
_SPACE = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_PATTERN = rf"^[^{_CONTROL}]*$"
"""One line of text: no control characters."""
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Free text: no control characters but tab, line feed and carriage return."""
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
"""One line with at least one character that is not white space."""

PLAIN_WORDS = {
    LINE_PATTERN: "should be one line without control characters",
    TEXT_PATTERN: "should hold no control characters but tab and line breaks",
    NAME_PATTERN: "should be one line, not blank, without control characters",
}
"""What a refusal by one of the text patterns tells a client, instead of the
pattern itself."""


def integral(value: object) -> object:
    """`1046.0` is the integer 1046 to JSON Schema; hand it on as one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_TRAIL: JsonDict = {
    "stream_id": "order-o1",
    "version": 1,
    "events": [
        {
            "stream_id": "order-o1",
            "version": 1,
            "position": 42,
            "type": "OrderPlaced",
            "schema_version": 1,
            "recorded_at": "2026-11-30T17:48:43Z",
            "metadata": {"correlation_id": "5f2b9c1e7a4d4e0f9b3c2a1d0e9f8a7b"},
            "data": {"order_id": "o1", "customer_id": "alice"},
        }
    ],
}


class Caller(BaseModel):
    sub: str
    roles: list[str]


class Metadata(BaseModel):
    # What the command service records with each event; the system's own
    # events (a demo catalog) name no principal.
    model_config = ConfigDict(extra="allow")

    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    principal: Caller | None = None


class Event(BaseModel):
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    recorded_at: str
    metadata: Metadata
    data: dict[str, Any]


class AuditTrail(BaseModel):
    """A stream's events in order (documents the answer; not built per call)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TRAIL]})

    stream_id: str
    version: int
    events: list[Event]


class CommandAnswer(BaseModel):
    # Every command's answer; an application's subclass adds its ids.

    stream_id: str
    version: int
    position: int
    consistency_token: str
