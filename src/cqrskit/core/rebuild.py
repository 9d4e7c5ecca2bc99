"""Rebuilding read models straight from the event store (not through the broker),
while live projectors keep running.

The projections are replayed into a scratch store beside the live one without
stopping anything. Then the projections are paused (`core.pause`), the scratch
catches up to the head of the log, and each projection's views are swapped in
atomically, with a fence: the swap happens only if the live generation is still
the pause we set, and it resumes the projection with a fresh generation. While
paused, nothing writes the live views; a live batch that read before the swap
fails its commit guard afterwards and is applied again on the new views.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cqrskit.core.deadletter import dead_letter_prefix, skipped_events
from cqrskit.core.errors import ConcurrencyError
from cqrskit.core.messages import RecordedEvent
from cqrskit.core.pause import PauseBroken, Pauses
from cqrskit.core.ports import EventStore, Rebuildable
from cqrskit.core.projection import Projection, ProjectionRunner
from cqrskit.core.wire import partition_for

Progress = Callable[[int, int], None]
"""Called with (events applied so far, log position reached)."""


async def _after(
    before: asyncio.Future[None] | None,
    then: Callable[[int, list[RecordedEvent]], Awaitable[None]],
    partition: int,
    share: list[RecordedEvent],
) -> None:
    """`then(partition, share)` once `before` is done (not if it failed)."""
    if before is not None:
        await before
    await then(partition, share)


RebuildableStore = Rebuildable
"""What a rebuild writes to: a read store that makes scratch stores and adopts them."""


class Rebuild:
    """The steps of one rebuild, in order: `replay`, `pause`, `catch_up`, `swap`
    (then `close`, always). Apart so that tests can interleave live work."""

    def __init__(
        self,
        store: EventStore,
        target: RebuildableStore,
        projections: Sequence[Projection],
        pauses: Pauses,
        *,
        page: int = 5000,
        progress: Progress = lambda done, position: None,
        partitions: int = 1,
    ) -> None:
        self._store = store
        self._partitions = partitions
        self._target = target
        self._projections = projections
        self._pauses = pauses
        self._page = page
        self._progress = progress
        self._scratch: RebuildableStore | None = None
        self.done = 0
        self.position = 0

    async def replay(self) -> None:
        """Fold the log, as far as it goes now, into the scratch store."""
        if self._scratch is None:
            self._scratch = await self._target.scratch()
        skips = {
            p.name: await skipped_events(self._target, p.name)
            for p in self._projections
        }
        runner = ProjectionRunner(
            self._projections,
            self._scratch,
            self._store,
            max_failures=1,
            skips=skips,
        )
        # The next page is read while this one is applied, and a page's
        # partitions start as soon as theirs is done with the page before: the
        # event store's and the read store's round trips overlap, and no page
        # waits for the slowest partition of the one before.
        chains: dict[int, asyncio.Future[None]] = {}
        applying: deque[tuple[list[asyncio.Future[None]], RecordedEvent, int]] = deque()
        ahead = asyncio.ensure_future(self._store.read_all(self.position, self._page))
        try:
            while events := await ahead:
                last = events[-1]
                ahead = asyncio.ensure_future(
                    self._store.read_all(last.position, self._page)
                )
                applying.append(
                    (self._start(runner, events, chains), last, len(events))
                )
                if len(applying) > 1:
                    await self._finish(applying.popleft())
            while applying:
                await self._finish(applying.popleft())
        finally:
            # After a failure, what still runs is stopped before leaving: the
            # last share of each partition waits for the ones before, and
            # cancelling it cancels those.
            pending: list[asyncio.Future[Any]] = [ahead, *chains.values()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _start(
        self,
        runner: ProjectionRunner,
        events: list[RecordedEvent],
        chains: dict[int, asyncio.Future[None]],
    ) -> list[asyncio.Future[None]]:
        """Apply each partition's share of a page beside the others', after
        its share of the page before: their views do not overlap (the streams
        of an entity share a partition), so their round trips can overlap."""
        shares: dict[int, list[RecordedEvent]] = defaultdict(list)
        for event in events:
            shares[partition_for(event.stream_id, self._partitions)].append(event)
        tasks = []
        for partition, share in shares.items():
            after = chains.get(partition)
            chains[partition] = asyncio.ensure_future(
                _after(after, runner.handle, partition, share)
            )
            tasks.append(chains[partition])
        return tasks

    async def _finish(
        self, page: tuple[list[asyncio.Future[None]], RecordedEvent, int]
    ) -> None:
        """Wait for a page to be applied, then count it."""
        tasks, last, count = page
        await asyncio.gather(*tasks)
        self.position = last.position
        self.done += count
        self._progress(self.done, self.position)
        await self._pauses.refresh()

    async def pause(self) -> None:
        await self._pauses.pause([p.name for p in self._projections])

    async def catch_up(self) -> None:
        """Fold into the scratch what was appended since; nothing more comes in
        to the paused projections meanwhile, so this reaches the live head."""
        await self.replay()

    async def swap(self) -> None:
        """Swap each projection's views in and resume it; raise PauseBroken if a
        runner broke an expired pause (that projection is then left as it was)."""
        if self._scratch is None:
            raise RuntimeError("replay before swapping")
        broken: list[str] = []
        for projection in self._projections:
            await self._pauses.refresh()
            try:
                await self._target.adopt(
                    self._scratch,
                    projection.name,
                    (*projection.prefixes, dead_letter_prefix(projection.name)),
                    self._pauses.resume_move(projection.name),
                )
            except ConcurrencyError:
                broken.append(projection.name)
            self._pauses.released(projection.name)
        if broken:
            raise PauseBroken(
                f"{', '.join(broken)}: the pause expired and a projector resumed; "
                "nothing swapped in for it, run the rebuild again"
            )

    async def close(self) -> None:
        """Resume whatever is still paused and discard the scratch store."""
        try:
            await self._pauses.resume()
        finally:
            if self._scratch is not None:
                await self._scratch.close()


async def rebuild(
    store: EventStore,
    target: RebuildableStore,
    projections: Sequence[Projection],
    *,
    page: int = 5000,
    progress: Progress = lambda done, position: None,
    pauses: Pauses | None = None,
    partitions: int = 1,
) -> int:
    """Rebuild `projections` on `target` beside live projectors; return how many
    events were read. Raises PauseBroken if a swap was refused."""
    steps = Rebuild(
        store,
        target,
        projections,
        pauses or Pauses(target),
        page=page,
        progress=progress,
        partitions=partitions,
    )
    try:
        await steps.replay()
        await steps.pause()
        await steps.catch_up()
        await steps.swap()
    finally:
        await steps.close()
    return steps.done
