"""Runs command handlers: load, decide, append, retry on conflict, idempotently."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass

from cqrskit.core import errors
from cqrskit.core.auth import Principal
from cqrskit.core.codec import EventCodec
from cqrskit.core.loading import StateLoader
from cqrskit.core.messages import Ack, Metadata, ack_for
from cqrskit.core.ports import (
    EventStore,
    IdempotencyClaim,
    IdempotencyKeyTaken,
    IdempotencyRecord,
)
from cqrskit.core.session import Session
from cqrskit.core.snapshots import Snapshotter
from cqrskit.core.state_cache import StateCache
from cqrskit.core.turns import StreamTurns

log = logging.getLogger(__name__)

Handler = Callable[[Session], Awaitable[str]]
"""Stages events on the session and returns the id of the stream to acknowledge."""

REFUSALS: Mapping[str, type[errors.CqrskitError]] = {
    "RuleViolated": errors.RuleViolated,
}
"""The kit's refusals a stored answer replays by name; an application adds
its own (core/application.py)."""


@dataclass(frozen=True, slots=True)
class CommandContext:
    command_id: str
    correlation_id: str
    idempotency_key: str | None = None
    fingerprint: str = ""
    principal: Principal | None = None
    """Who issued the command; None for the system itself (the demo loader)."""


class Dispatcher:
    """Runs command handlers.

    Handlers load through one `StateLoader` (cache and snapshots), and
    commands that name the streams they will write (`queue_on`), or that lost
    an append to another writer, take turns on those streams in this process
    (core/turns.py): from the first read of one of them until the append.
    `conflict_retries` counts the appends lost to a writer that got there first."""

    def __init__(
        self,
        store: EventStore,
        codec: EventCodec,
        *,
        max_attempts: int = 60,
        max_backoff: float = 0.05,
        on_append: Callable[[], None] | None = None,
        cache: StateCache | None = None,
        snapshots: Snapshotter | None = None,
        refusals: Mapping[str, type[errors.CqrskitError]] = REFUSALS,
    ) -> None:
        """`refusals`: the refusals a stored answer may replay, by name (any
        other replays as RuleViolated)."""
        self.store = store
        self._refusals = refusals
        self.codec = codec
        self.loader = StateLoader(store, codec, cache=cache, snapshots=snapshots)
        self.snapshots = snapshots
        self.conflict_retries = 0
        self._turns = StreamTurns()
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._on_append = on_append

    def session(self, *, assume_new: bool = False) -> Session:
        return Session(self.loader, assume_new=assume_new)

    async def replay(self, context: CommandContext) -> Ack | None:
        """The stored answer for the context's idempotency key, if there is one."""
        if context.idempotency_key is None:
            return None
        record = await self.store.idempotency_record(context.idempotency_key)
        return None if record is None else _replay(record, context, self._refusals)

    async def dispatch(
        self,
        context: CommandContext,
        handler: Handler,
        *,
        checked: bool = False,
        queue_on: Collection[str] = (),
    ) -> Ack:
        """Run `handler` and append what it decided. `checked`: the caller has
        just looked for the key's stored answer itself (see `replay`);
        `queue_on`: streams the command will write, whose turn it waits for."""
        ack, _ = await self.dispatch_fresh(
            context, handler, checked=checked, queue_on=queue_on
        )
        return ack

    async def dispatch_fresh(
        self,
        context: CommandContext,
        handler: Handler,
        *,
        checked: bool = False,
        queue_on: Collection[str] = (),
    ) -> tuple[Ack, bool]:
        """Like dispatch; also says whether this call appended (False: a replay)."""
        if not checked:
            replayed = await self.replay(context)
            if replayed is not None:
                return replayed, False
        turns = set(queue_on)
        for attempt in range(1, self._max_attempts + 1):
            async with AsyncExitStack() as held:
                session = self._queued_session(attempt, frozenset(turns), held)
                outcome = await self._attempt(context, handler, session)
            if outcome is not None:
                return outcome
            if attempt == self._max_attempts:
                raise errors.ConcurrencyError(
                    f"gave up after {attempt} attempts: other writers kept "
                    "changing the same streams"
                )
            self.conflict_retries += 1
            # From now on this command waits for its turn on what it writes.
            turns.update(a.stream_id for a in session.appends())
            log.debug("conflict on attempt %d, retrying", attempt)
            await asyncio.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, context: CommandContext, handler: Handler, session: Session
    ) -> tuple[Ack, bool] | None:
        """One try: the answer and whether it appended, or None after a conflict."""
        try:
            stream_id = await handler(session)
        except errors.CqrskitError:
            # A twin request with the same key may have changed the state
            # this one now refuses (the cart it checked out): answer as it.
            replayed = await self.replay(context)
            if replayed is not None:
                return replayed, False
            raise
        try:
            return await self._commit(context, session, stream_id), True
        except errors.ConcurrencyError:
            replayed = await self.replay(context)
            if replayed is not None:  # a twin with the same key won the race
                return replayed, False
            return None
        except IdempotencyKeyTaken:
            replayed = await self.replay(context)
            if replayed is None:  # pragma: no cover - store broke its contract
                raise
            return replayed, False

    def _queued_session(
        self, attempt: int, turns: frozenset[str], held: AsyncExitStack
    ) -> Session:
        """A session that takes the turns of `turns`, held until `held` closes."""

        async def take_turn() -> None:
            await held.enter_async_context(self._turns.take(turns))

        return Session(
            self.loader, assume_new=attempt == 1, queued=turns, take_turn=take_turn
        )

    def _backoff(self, attempt: int) -> float:
        """Full jitter: writers that collided spread out instead of colliding again."""
        return random.uniform(0, min(self._max_backoff, 0.001 * 2**attempt))

    async def _commit(
        self, context: CommandContext, session: Session, stream_id: str
    ) -> Ack:
        appends = session.appends()
        rejection = session.rejection
        unchanged = None
        if not appends:
            if rejection is not None:
                raise rejection
            unchanged = Ack(
                stream_id, session.version(stream_id), session.position(stream_id)
            )
            if context.idempotency_key is None:
                return unchanged
        claim = None
        if context.idempotency_key is not None:
            claim = IdempotencyClaim(
                key=context.idempotency_key,
                fingerprint=context.fingerprint,
                stream_id=stream_id,
                outcome=type(rejection).__name__ if rejection else None,
                detail=rejection.detail if rejection else None,
                ack=unchanged,
            )
        who = context.principal
        metadata = Metadata(
            command_id=context.command_id,
            correlation_id=context.correlation_id,
            causation_id=context.command_id,
            principal=who.subject if who else None,
            roles=tuple(sorted(who.roles)) if who else (),
        )
        records = await self.store.append(appends, metadata=metadata, idempotency=claim)
        session.committed(records)
        if unchanged is not None:
            return unchanged
        if self._on_append is not None:
            self._on_append()
        if rejection is not None:
            raise rejection
        return ack_for(stream_id, records)


def _replay(
    record: IdempotencyRecord,
    context: CommandContext,
    refusals: Mapping[str, type[errors.CqrskitError]],
) -> Ack:
    if record.fingerprint != context.fingerprint:
        raise errors.IdempotencyMismatch(
            "this Idempotency-Key was already used with a different request"
        )
    if record.outcome is not None:
        error_type = refusals.get(record.outcome, errors.RuleViolated)
        raise error_type(record.detail or record.outcome)
    return record.ack
