"""Dead letters: streams a projection has parked after an event kept failing.

A parked stream is a pseudo-checkpoint `$parked:{stream}` (the version of the
poison event; 0 when not parked), read by the runner with the batch's other
checkpoints in the same round trip and moved under the same guard; and, for
people, a document `dlq/{projection}/{stream}` and an entry of the index
`dlq/{projection}/`. All of it is written in the same commit as the rest of the
batch, so a park is atomic with the work it lets go on. The checkpoint of a
parked stream stays before its poison event; the runner applies none of its
later events until the stream is unparked. Everything lies under the prefix
`dlq/{projection}/`, which a rebuild swaps in with the projection's views.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import orjson

from cqrskit.core.messages import RecordedEvent
from cqrskit.core.ports import IndexEntry, ReadStore

Skip = tuple[str, int]
"""An event an operator skipped: (stream id, version)."""

PARKED = "$parked:"
"""The prefix of the pseudo-checkpoints of parked streams."""


def parked_mark(stream_id: str) -> str:
    return f"{PARKED}{stream_id}"


def dead_letter_prefix(projection: str) -> str:
    return f"dlq/{projection}/"


def parked_index(projection: str) -> str:
    """The index of a projection's parked streams lies under its dead-letter
    prefix: a rebuild, which swaps that prefix in, replaces it with the views."""
    return dead_letter_prefix(projection)


def parked_key(projection: str, stream_id: str) -> str:
    return f"dlq/{projection}/{stream_id}"


@dataclass(frozen=True, slots=True)
class Parked:
    projection: str
    stream_id: str
    version: int
    position: int
    type: str
    error: str
    failed_at: str
    """RFC 3339 UTC."""
    attempts: int

    @classmethod
    def of(
        cls,
        projection: str,
        event: RecordedEvent,
        error: BaseException,
        at_ms: int,
        attempts: int,
    ) -> Parked:
        at = datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(
            timespec="milliseconds"
        )
        return cls(
            projection,
            event.stream_id,
            event.version,
            event.position,
            event.type,
            f"{type(error).__name__}: {error}"[:2000],
            at.replace("+00:00", "Z"),
            attempts,
        )

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> Parked:
        return cls(**orjson.loads(raw))

    def entry(self) -> IndexEntry:
        return IndexEntry(self.stream_id, self.failed_at, self.error)


async def parked(store: ReadStore, projection: str) -> list[Parked]:
    """Every stream `projection` has parked, oldest first."""
    keys: list[str] = []
    after: tuple[str, str] | None = None
    while page := await store.index_page(
        parked_index(projection), after=after, limit=500
    ):
        keys += [parked_key(projection, e.member) for e in page]
        after = (page[-1].sort_key, page[-1].member)
    return [Parked.decode(raw) for raw in await store.get_many(keys) if raw]


def skipped_index(projection: str) -> str:
    """Skips are kept apart from `dead_letter_prefix`: a rebuild, which swaps
    that prefix in, must not forget them."""
    return f"dlq-skipped/{projection}"


def skipped_key(projection: str, stream_id: str, version: int) -> str:
    return f"dlq-skipped/{projection}/{stream_id}/{version}"


async def skipped_events(store: ReadStore, projection: str) -> frozenset[Skip]:
    """The (stream, version) of every event an operator told `projection` to
    skip (`cqrskit dlq skip`): a fresh fold (rebuild, verify) passes over them
    as the live projection did."""
    found: set[Skip] = set()
    after: tuple[str, str] | None = None
    while page := await store.index_page(
        skipped_index(projection), after=after, limit=500
    ):
        for entry in page:
            sid, version = entry.member.rsplit("/", 1)
            found.add((sid, int(version)))
        after = (page[-1].sort_key, page[-1].member)
    return frozenset(found)
