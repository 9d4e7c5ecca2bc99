"""Runs command handlers: load, decide, append, retry on conflict, idempotently."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from cqrskit.core import errors, tracing
from cqrskit.core.auth import Principal
from cqrskit.core.codec import EventCodec
from cqrskit.core.idempotency import Answer, StoredAnswers, answer_stream
from cqrskit.core.loading import StateLoader
from cqrskit.core.messages import Ack, Metadata, RecordedEvent, StreamAppend
from cqrskit.core.ports import EventStore
from cqrskit.core.session import Session
from cqrskit.core.snapshots import Snapshotter
from cqrskit.core.state_cache import StateCache
from cqrskit.core.turns import StreamTurns

log = logging.getLogger(__name__)

Handler = Callable[[Session], Awaitable[str]]
"""Stages events on the session and returns the id of the stream to acknowledge."""
Effect = Callable[[], Awaitable[None]]

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


@dataclass(frozen=True, slots=True)
class Plan:
    """A command as the dispatcher runs it: its handler, the streams whose turn
    it waits for (`queue_on`), and what it did outside the event store and must
    settle once the outcome is known."""

    handler: Handler
    queue_on: Collection[str] = ()
    committed: Effect | None = None
    """Runs once this call has appended the command's events and answers with
    their ack (not when it replays a stored answer)."""
    abandoned: Effect | None = None
    """Runs when it did not: the command was refused (a refusal recorded with
    events too), failed, was cancelled, or a twin's stored answer came first."""


Prepare = Callable[[], Awaitable[Plan]]
"""Work done before deciding, once the key has no stored answer (authorizing a
payment); returns the plan that decides."""


class Dispatcher:
    """Runs command handlers.

    Handlers load through one `StateLoader` (cache and snapshots), and
    commands that name the streams they will write (`queue_on`), or that lost
    an append to another writer, take turns on those streams in this process
    (core/turns.py): from the first read of one of them until the append.
    `conflict_retries` counts the appends lost to a writer that got there first.

    A command under an Idempotency-Key stores its answer in the same append
    (core/idempotency.py); the dispatcher replays it, in one place, whenever
    the key may have an answer: before anything runs, when the command is
    refused (a twin may have changed the state it refuses), and when its
    append loses (a twin may have answered first)."""

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
        self.codec = codec
        self.loader = StateLoader(store, codec, cache=cache, snapshots=snapshots)
        self.snapshots = snapshots
        self.conflict_retries = 0
        self._answers = StoredAnswers(store, refusals)
        self._turns = StreamTurns()
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._on_append = on_append

    def session(self, *, assume_new: bool = False) -> Session:
        return Session(self.loader, assume_new=assume_new)

    async def dispatch(
        self,
        context: CommandContext,
        handler: Handler,
        *,
        queue_on: Collection[str] = (),
    ) -> Ack:
        """Run `handler` and append what it decided, or replay the key's
        stored answer. `queue_on`: streams the command will write, whose turn
        it waits for."""
        plan = Plan(handler, queue_on)

        async def ready() -> Plan:
            return plan

        return await self.dispatch_prepared(context, ready)

    async def dispatch_prepared(self, context: CommandContext, prepare: Prepare) -> Ack:
        """Replay the key's stored answer if there is one; else `prepare` the
        command and run the plan it returns. A refusal from `prepare` gives way
        to a twin's answer stored meanwhile, as one from the handler does."""
        replayed = await self._replay(context)
        if replayed is not None:
            return replayed
        try:
            plan = await prepare()
        except errors.CqrskitError:
            replayed = await self._replay(context)
            if replayed is None:
                raise
            return replayed
        try:
            ack, fresh = await self._run(context, plan)
        except BaseException:
            if plan.abandoned is not None:
                await plan.abandoned()
            raise
        settle = plan.committed if fresh else plan.abandoned
        if settle is not None:
            await settle()
        return ack

    async def _replay(self, context: CommandContext) -> Ack | None:
        return await self._answers.replay(context.idempotency_key, context.fingerprint)

    async def _run(self, context: CommandContext, plan: Plan) -> tuple[Ack, bool]:
        """The answer, and whether this call appended it (False: a replay)."""
        turns = set(plan.queue_on)
        for attempt in range(1, self._max_attempts + 1):
            async with AsyncExitStack() as held:
                session = self._queued_session(attempt, frozenset(turns), held)
                outcome = await self._attempt(context, plan.handler, session)
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
            if not await self._still_current(context, session):
                return None  # refused on a cached state since moved on: read it
            # A twin request with the same key may have changed the state
            # this one now refuses (the cart it checked out): answer as it.
            replayed = await self._replay(context)
            if replayed is None:
                raise
            return replayed, False
        try:
            return await self._commit(context, session, stream_id), True
        except errors.ConcurrencyError:
            replayed = await self._replay(context)
            if replayed is not None:  # a twin with the same key won the race
                return replayed, False
            return None

    async def _still_current(self, context: CommandContext, session: Session) -> bool:
        """Whether the cached states a decision took without a read are still
        current, when no append of the decision's will check them: an append
        of no events checks their versions alone."""
        if not session.unchecked():
            return True
        try:
            await self.store.append(session.checks(), metadata=_metadata(context))
        except errors.ConcurrencyError:
            return False
        return True

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
        """Append the session's events, with the answer when there is a key."""
        appends = session.appends()
        rejection = session.rejection
        key = context.idempotency_key
        unverified = not appends and (rejection is not None or key is None)
        if unverified and not await self._still_current(context, session):
            raise errors.ConcurrencyError("decided on a cached state moved on")
        if not appends:
            if rejection is not None:
                raise rejection  # a refusal without events is not stored
            if key is None:
                return _ack(stream_id, session, [])
        stored = []
        if key is not None:
            answer = _answer(context.fingerprint, session, stream_id, appends)
            stored.append(answer.stored_under(key))
        traced = _span_attributes(context, appends) if tracing.enabled() else None
        with tracing.span("cqrskit.append", traced):
            records = await self.store.append(
                [*appends, *session.checks(), *stored], metadata=_metadata(context)
            )
        if self._on_append is not None:
            self._on_append()
        own = records if key is None else _without(records, answer_stream(key))
        session.committed(own)
        if rejection is not None:
            raise rejection
        return _ack(stream_id, session, own)


def _metadata(context: CommandContext) -> Metadata:
    who = context.principal
    return Metadata(
        command_id=context.command_id,
        correlation_id=context.correlation_id,
        causation_id=context.command_id,
        principal=who.subject if who else None,
        roles=tuple(sorted(who.roles)) if who else (),
        traceparent=tracing.traceparent(),
    )


def _span_attributes(
    context: CommandContext, appends: Sequence[StreamAppend]
) -> dict[str, str | list[str]]:
    return {
        "cqrskit.command_id": context.command_id,
        "cqrskit.correlation_id": context.correlation_id,
        "cqrskit.streams": [a.stream_id for a in appends],
    }


def _answer(
    fingerprint: str, session: Session, stream_id: str, appends: list[StreamAppend]
) -> Answer:
    """The answer the session's append will give, short of its position."""
    written = tuple((a.stream_id, a.expected_version + len(a.events)) for a in appends)
    versions = dict(written)
    version = versions.get(stream_id, 0) or session.version(stream_id)
    return Answer(fingerprint, stream_id, version, written, session.rejection)


def _without(records: Sequence[RecordedEvent], stream_id: str) -> list[RecordedEvent]:
    return [r for r in records if r.stream_id != stream_id]


def _ack(stream_id: str, session: Session, records: Sequence[RecordedEvent]) -> Ack:
    """The ack of `stream_id` after an append that recorded `records` (none: a
    command that changed nothing), with every stream it wrote."""
    last = {r.stream_id: r for r in records}
    written = tuple((sid, r.version) for sid, r in last.items())
    if stream_id in last:
        ours = last[stream_id]
        return Ack(stream_id, ours.version, ours.position, written)
    return Ack(
        stream_id, session.version(stream_id), session.position(stream_id), written
    )
