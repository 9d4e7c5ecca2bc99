"""A stream's state at any version (the console's time travel).

The kit knows no domain: an application names, per stream category, the
decider whose `evolve` folds that category's events and how a state becomes
JSON (`Application.states`). Folding up to version `v` reads the stream's
first `v` events (not the rest of it) and folds them from the decider's
initial state, the same pure fold a command handler uses; nothing is cached
or written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import to_jsonable_python

from cqrskit.core.codec import EventCodec
from cqrskit.core.decider import Decider
from cqrskit.core.errors import Invalid, NotFound
from cqrskit.core.messages import stream_category
from cqrskit.core.ports import StreamCatalog

S = TypeVar("S")


@dataclass(frozen=True)
class StateView(Generic[S]):
    """How a category's state is shown: folded by `decider`, rendered by
    `render` (default: the decider's `dump_state`, else pydantic's JSON form
    of the state, which serves frozen dataclasses)."""

    decider: Decider[S]
    render: Callable[[S], Any] | None = None

    def as_json(self, state: S) -> Any:
        if self.render is not None:
            return self.render(state)
        if self.decider.dump_state is not None:
            return self.decider.dump_state(state)
        return to_jsonable_python(state)


@dataclass(frozen=True, slots=True)
class StateAt:
    stream_id: str
    version: int
    """The version the state was folded to (0: the initial state)."""
    last_version: int
    """The stream's last version now."""
    state: Any
    """The state as JSON."""


async def last_version(store: StreamCatalog, stream_id: str) -> int:
    """The stream's last version; NotFound for a stream without events."""
    found = await store.streams(stream_id, None, 1)
    if not found or found[0].stream_id != stream_id:
        raise NotFound(f"stream {stream_id} has no events")
    return found[0].version


async def state_at(
    store: StreamCatalog,
    codec: EventCodec,
    views: Mapping[str, StateView[Any]],
    stream_id: str,
    version: int | None = None,
) -> StateAt:
    """`stream_id`'s state after its event `version` (None: its last);
    NotFound for a stream without events or a category without a view,
    Invalid for a version past the stream's end."""
    category = stream_category(stream_id)
    view = views.get(category)
    if view is None:
        raise NotFound(f"the application shows no state of {category} streams")
    last = await last_version(store, stream_id)
    upto = last if version is None else version
    if upto > last:
        raise Invalid(f"stream {stream_id} ends at version {last}; {upto} is past it")
    records = await store.read_stream_page(stream_id, 1, upto) if upto else []
    state = view.decider.fold(codec.decode(r) for r in records)
    return StateAt(stream_id, upto, last, view.as_json(state))
