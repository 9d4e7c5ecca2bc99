"""`cqrskit dlq retry` and `skip`: a parked stream taken up again.

Both pause the projection (`core.pause`), so that nothing else writes its views,
read the stream from the event store past its checkpoint, and end with one
guarded commit: the views, the checkpoint, the unparking (or the new failure)
and the fresh generation that resumes the projection, all or nothing.
"""

from __future__ import annotations

from dataclasses import replace

from cqrskit.core.deadletter import (
    Parked,
    parked_index,
    parked_key,
    parked_mark,
    skipped_index,
    skipped_key,
)
from cqrskit.core.errors import NotFound
from cqrskit.core.pause import GENERATION, Clock, Pauses, now_ms
from cqrskit.core.ports import EventStore, IndexEntry, ReadStore, VersionMove
from cqrskit.core.projection import Projection, View


async def _record(store: ReadStore, projection: str, stream_id: str) -> Parked:
    raw = await store.get(parked_key(projection, stream_id))
    if raw is None:
        raise NotFound(f"{projection} has not parked {stream_id}")
    return Parked.decode(raw)


async def _take_up(
    events: EventStore,
    store: ReadStore,
    projection: Projection,
    record: Parked,
    pauses: Pauses,
    *,
    skip: bool,
    clock: Clock,
) -> Parked | None:
    """Under a held pause: apply the stream past its checkpoint (past the poison
    event when skipping) and commit; the new failure if one event failed."""
    name, sid, mark = projection.name, record.stream_id, parked_mark(record.stream_id)
    versions = await store.stream_versions(name, [sid, mark])
    seen = versions[sid]
    view = View(store)
    reached, failure = seen, None
    if skip:
        reached = record.version
        view.put(skipped_key(name, sid, record.version), record.encode())
        entry = IndexEntry(f"{sid}/{record.version}", record.failed_at, record.error)
        view.index_put(skipped_index(name), entry)
    for event in await events.read_stream(sid, from_version=reached + 1):
        try:
            await projection.apply(event, view)
        except Exception as e:
            failure = Parked.of(name, event, e, clock(), 1)
            break
        reached = event.version
    if failure is not None and failure.version == record.version:
        failure = replace(failure, attempts=record.attempts + 1)
    if failure is None:
        view.delete(parked_key(name, sid))
        view.index_remove(parked_index(name), sid)
    else:
        view.put(parked_key(name, sid), failure.encode())
        view.index_put(parked_index(name), failure.entry())
    moves = {GENERATION: pauses.resume_move(name)}
    moves[mark] = VersionMove(versions[mark], 0 if failure is None else failure.version)
    if reached != seen:
        moves[sid] = VersionMove(seen, reached)
    await store.commit(name, view.changes, moves)
    pauses.released(name)
    return failure


async def take_up(
    events: EventStore,
    store: ReadStore,
    projection: Projection,
    stream_id: str,
    *,
    skip: bool,
    pauses: Pauses | None = None,
    clock: Clock = now_ms,
) -> Parked | None:
    """Retry (or skip the poison event of) a parked stream; None when the
    stream is unparked, else the record of the event that failed again.
    NotFound if the stream is not parked; ConcurrencyError if the pause was
    broken meanwhile (then nothing was written)."""
    await _record(store, projection.name, stream_id)
    pauses = pauses or Pauses(store)
    await pauses.pause([projection.name])
    try:
        record = await _record(store, projection.name, stream_id)
        return await _take_up(
            events, store, projection, record, pauses, skip=skip, clock=clock
        )
    finally:
        await pauses.resume()
