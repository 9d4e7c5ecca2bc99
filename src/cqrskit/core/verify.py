"""Checking that live read models equal a fresh fold of the event store.

The log is folded afresh into an empty store with the same projections and the
same runner. The live projections are then paused (`core.pause`), so their
views hold still at one point per stream: their checkpoints. The fresh fold goes
on with only the events at or below those checkpoints, and every document, index
entry and checkpoint under the projection's prefixes is compared both ways.
If the live side is behind what was already folded, it is resumed and given a
moment to catch up before trying again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cqrskit.core.deadletter import Skip, skipped_events
from cqrskit.core.pause import GENERATION, PauseBroken, Pauses
from cqrskit.core.ports import EventStore, IndexEntry, Inspectable, ReadStore
from cqrskit.core.progress import APPLIED
from cqrskit.core.projection import Projection, ProjectionRunner
from cqrskit.core.rebuild import Progress


class InspectableStore(ReadStore, Inspectable, Protocol):
    pass


@dataclass(frozen=True, slots=True)
class Difference:
    key: str
    """What differs: `doc KEY`, `index NAME MEMBER` or `checkpoint P STREAM`."""
    live: str | None
    expected: str | None


Wait = Callable[[float], Awaitable[None]]


class _Fold:
    """The fresh fold, as far as it has read the log."""

    def __init__(
        self, store: EventStore, fresh: InspectableStore, page: int, progress: Progress
    ) -> None:
        self._store = store
        self.fresh = fresh
        self._page = page
        self._progress = progress
        self.position = 0
        self.done = 0
        self.skipped: dict[str, frozenset[Skip]] = {}
        """The events operators told each projection to skip, as the live
        side has them (read before the first fold)."""

    def skips(self, projection: str) -> frozenset[Skip]:
        return self.skipped.get(projection, frozenset())

    async def run(
        self,
        projections: Sequence[Projection],
        limits: dict[str, dict[str, int]] | None = None,
        pauses: Pauses | None = None,
    ) -> None:
        """Fold on to the head; with `limits`, only events at or below each
        projection's checkpoint of their stream."""
        runners = {
            p.name: ProjectionRunner(
                [p], self.fresh, max_failures=1, skips={p.name: self.skips(p.name)}
            )
            for p in projections
        }
        while events := await self._store.read_all(self.position, self._page):
            for projection in projections:
                seen = None if limits is None else limits[projection.name]
                batch = [
                    e
                    for e in events
                    if seen is None or e.version <= seen.get(e.stream_id, 0)
                ]
                await runners[projection.name].handle(0, batch)
            self.position = events[-1].position
            self.done += len(events)
            self._progress(self.done, self.position)
            if pauses is not None:
                await pauses.refresh()


async def verify(
    store: EventStore,
    target: InspectableStore,
    fresh: InspectableStore,
    projections: Sequence[Projection],
    pauses: Pauses,
    *,
    page: int = 1000,
    progress: Progress = lambda done, position: None,
    wait: Wait,
    tries: int = 10,
) -> list[Difference]:
    """The differences between the live views of `projections` on `target` and
    a fresh fold into the empty store `fresh`. Raises PauseBroken if a runner
    broke our pause meanwhile (then the comparison is not at one point)."""
    fold = _Fold(store, fresh, page, progress)
    fold.skipped = {p.name: await skipped_events(target, p.name) for p in projections}
    await fold.run(projections)
    names = [p.name for p in projections]
    for attempt in range(tries):
        await pauses.pause(names)
        live = {name: await target.checkpoints(name) for name in names}
        behind = await _behind(fresh, live)
        if not behind or attempt == tries - 1:
            break
        await _resume(pauses)
        await wait(0.5)
        await fold.run(projections)
    try:
        if behind:
            return behind
        await fold.run(projections, live, pauses)
        differences: list[Difference] = []
        for projection in projections:
            differences += await _compare(target, fresh, projection)
        return differences
    finally:
        await _resume(pauses)


async def _resume(pauses: Pauses) -> None:
    broken = await pauses.resume()
    if broken:
        raise PauseBroken(f"{', '.join(broken)}: the pause expired; verify again")


async def _behind(
    fresh: InspectableStore, live: dict[str, dict[str, int]]
) -> list[Difference]:
    """The streams the fresh fold has taken further than the live side."""
    found: list[Difference] = []
    for name, seen in live.items():
        for stream, version in sorted((await fresh.checkpoints(name)).items()):
            if not stream.startswith("$") and version > seen.get(stream, 0):
                key = f"checkpoint {name} {stream} (live is behind)"
                found.append(Difference(key, str(seen.get(stream, 0)), str(version)))
    return found


async def _compare(
    target: InspectableStore, fresh: InspectableStore, projection: Projection
) -> list[Difference]:
    found: list[Difference] = []
    prefixes = projection.prefixes
    found += _diff(
        "doc ", await target.documents(prefixes), await fresh.documents(prefixes)
    )
    found += _diff(
        "index ",
        _flat(await target.index_entries(prefixes)),
        _flat(await fresh.index_entries(prefixes)),
    )
    live_cp = await target.checkpoints(projection.name)
    fresh_cp = await fresh.checkpoints(projection.name)
    for cp in (live_cp, fresh_cp):
        cp.pop(GENERATION, None)
    # Where each partition stands depends on how the log was cut into
    # batches, not on what the views hold.
    found += _diff(
        f"checkpoint {projection.name} ",
        {k: str(v) for k, v in live_cp.items() if v and not k.startswith(APPLIED)},
        {k: str(v) for k, v in fresh_cp.items() if v and not k.startswith(APPLIED)},
    )
    return found


def _flat(indexes: dict[str, list[IndexEntry]]) -> dict[str, str]:
    return {
        f"{name} {e.member}": f"sort_key={e.sort_key!r} text={e.text!r}"
        for name, entries in indexes.items()
        for e in entries
    }


def _diff(
    kind: str,
    live: dict[str, bytes] | dict[str, str],
    expected: dict[str, bytes] | dict[str, str],
) -> list[Difference]:
    return [
        Difference(kind + key, _show(live.get(key)), _show(expected.get(key)))
        for key in sorted(live.keys() | expected.keys())
        if live.get(key) != expected.get(key)
    ]


def _show(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value
