"""Idempotency-Keys: a command's answer kept as an event, and replayed from it.

The answer to a command run under a key is one event, `CommandAnswered`, the
only event of the stream `idempotency-{key}`, appended at expected version 0 in
the same append as the command's own events: it is stored if and only if they
are. Of two twins (the same key at once) one append wins; the other fails on
that stream with a ConcurrencyError, and the loser then finds and replays the
winner's answer. So the event store needs nothing of its own for idempotency:
the answer is an ordinary event, relayed and published like any other, and
projections pass over the category, which none of them reads.

The event holds the request's fingerprint (to tell a replay from another
request under the same key), the acknowledged stream and its version, every
stream written with its new version, and for a refusal recorded with events
(a declined card) the error's kind and detail. It does not hold the ack's
position: that is known only once the append has committed (PostgreSQL hands
positions out as it inserts), so a replay reads it off the acknowledged stream,
as the position of its event at that version (0 for a stream not begun). The
read is of the events since the answer, few for a client's retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cqrskit.core import errors
from cqrskit.core.messages import Ack, NewEvent, StreamAppend
from cqrskit.core.ports import EventStore

CATEGORY = "idempotency"
ANSWERED = "CommandAnswered"


def answer_stream(key: str) -> str:
    """The stream that holds the answer given under `key`."""
    return f"{CATEGORY}-{key}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a command answered: its ack (short of the position) or a refusal
    recorded with its events, for the request of `fingerprint`."""

    fingerprint: str
    stream_id: str
    version: int
    written: tuple[tuple[str, int], ...] = ()
    refusal: errors.CqrskitError | None = None

    def stored_under(self, key: str) -> StreamAppend:
        """The append that keeps this answer under `key`; it fails with a
        ConcurrencyError if an answer is kept there already."""
        refused = None
        if (refusal := self.refusal) is not None:
            refused = {"kind": type(refusal).__name__, "detail": refusal.detail}
        data: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "stream_id": self.stream_id,
            "version": self.version,
            "written": [list(pair) for pair in self.written],
            "refused": refused,
        }
        return StreamAppend(answer_stream(key), 0, [NewEvent(ANSWERED, data)])


class StoredAnswers:
    """Looks answers up by key and replays them: the ack again, or the same
    refusal raised again. `refusals` names the error type of each kind of
    refusal that is stored (others replay as RuleViolated)."""

    def __init__(
        self, store: EventStore, refusals: Mapping[str, type[errors.CqrskitError]]
    ) -> None:
        self._store = store
        self._refusals = refusals

    async def replay(self, key: str | None, fingerprint: str) -> Ack | None:
        """The answer stored under `key`, if any; IdempotencyMismatch if it
        answered another request."""
        if key is None:
            return None
        stored = await self._store.read_stream(answer_stream(key))
        if not stored:
            return None
        data = stored[0].data
        if data["fingerprint"] != fingerprint:
            raise errors.IdempotencyMismatch(
                "this Idempotency-Key was already used with a different request"
            )
        if refused := data.get("refused"):
            kind = refused["kind"]
            raise self._refusals.get(kind, errors.RuleViolated)(
                refused.get("detail") or kind
            )
        stream_id, version = data["stream_id"], data["version"]
        written = tuple((sid, v) for sid, v in data["written"])
        position = await self._position(stream_id, version)
        return Ack(stream_id, version, position, written)

    async def _position(self, stream_id: str, version: int) -> int:
        if version == 0:
            return 0
        events = await self._store.read_stream(stream_id, version)
        if not events or events[0].version != version:  # versions are never lost
            raise RuntimeError(
                f"{stream_id} lacks version {version}, which a stored answer names"
            )
        return events[0].position
