"""Given/when/then for command handlers, through a real `Dispatcher` over the
in-memory event store:

    await given_streams(codec, {"cart-c1": [CartCreated(...)]}).when(
        lambda dispatcher: commands_on(dispatcher).add_item(...)
    ).then({"cart-c1": [ItemAdded(...)]})

`when` takes what runs the command on a dispatcher (a domain's command service
built on it, or `handling(handler)` for a bare handler). `then` expects exactly
the events appended by it, by stream, in order, and returns its answer;
`then_raises` expects an error, and that nothing was appended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from cqrskit.adapters.memory import InMemoryEventStore
from cqrskit.core.codec import EventCodec
from cqrskit.core.dispatcher import CommandContext, Dispatcher, Handler
from cqrskit.core.messages import Ack, Metadata, StreamAppend

E = TypeVar("E", bound=BaseException)
Act = Callable[[Dispatcher], Awaitable[Any]]
History = Mapping[str, Sequence[Any]]

CONTEXT = CommandContext(command_id="cmd-test", correlation_id="corr-test")


def handling(handler: Handler, context: CommandContext = CONTEXT) -> Act:
    """Dispatch a bare handler."""

    async def act(dispatcher: Dispatcher) -> Ack:
        return await dispatcher.dispatch(context, handler)

    return act


def given_streams(codec: EventCodec, history: History | None = None) -> GivenStreams:
    return GivenStreams(codec, dict(history or {}))


@dataclass(frozen=True)
class GivenStreams:
    codec: EventCodec
    history: dict[str, Sequence[Any]] = field(default_factory=dict)

    def when(self, act: Act) -> WhenHandled:
        return WhenHandled(self, act)

    async def dispatcher(self) -> tuple[Dispatcher, int]:
        """A dispatcher over a store holding the history; the log's end."""
        store = InMemoryEventStore()
        for stream_id, events in self.history.items():
            batch = [self.codec.encode(event) for event in events]
            await store.append([StreamAppend(stream_id, 0, batch)], metadata=Metadata())
        log = await store.read_all(0, 1_000_000)
        return Dispatcher(store, self.codec), log[-1].position if log else 0


@dataclass(frozen=True)
class WhenHandled:
    given: GivenStreams
    act: Act

    async def _run(self) -> tuple[Any, dict[str, list[Any]]]:
        dispatcher, end = await self.given.dispatcher()
        try:
            answer = await self.act(dispatcher)
        finally:
            appended = await self._appended(dispatcher, end)
        return answer, appended

    async def _appended(self, dispatcher: Dispatcher, end: int) -> dict[str, list[Any]]:
        by_stream: dict[str, list[Any]] = {}
        for record in await dispatcher.store.read_all(end, 1_000_000):
            event = self.given.codec.decode(record)
            by_stream.setdefault(record.stream_id, []).append(event)
        return by_stream

    async def then(self, expected: History) -> Any:
        """Exactly these events were appended; returns the command's answer."""
        answer, appended = await self._run()
        want = {stream: list(events) for stream, events in expected.items() if events}
        if appended != want:
            pytest.fail(
                f"appended\n  {appended!r}\nbut expected\n  {want!r}", pytrace=False
            )
        return answer

    async def then_nothing(self) -> Any:
        return await self.then({})

    async def then_raises(self, error: type[E], match: str | None = None) -> E:
        """The command failed with `error` and appended nothing."""
        dispatcher, end = await self.given.dispatcher()
        with pytest.raises(error, match=match) as caught:
            answer = await self.act(dispatcher)
            pytest.fail(f"the command was accepted, answering {answer!r}")
        appended = await self._appended(dispatcher, end)
        if appended:
            pytest.fail(f"refused, yet appended {appended!r}", pytrace=False)
        return caught.value
