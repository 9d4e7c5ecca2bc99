"""Deciders: pure `decide(command, state) -> events` and `evolve(state, event)`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cqrskit.core.messages import JsonDict

S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[S]):
    """One stream type's behaviour. `decide` raises a domain error to refuse.

    A decider whose streams grow long declares how its state is snapshotted:
    `dump_state`/`load_state` (JSON), the `events` it folds and a
    `fold_version` to raise whenever `evolve` or the state's shape changes, so
    that snapshots folded by older code are never read (see core/snapshots.py).
    `evolve` must never need more than the state to go on: folding events in
    chunks, from a snapshot or a cached state, must equal folding them at once.
    """

    initial_state: S
    evolve: Callable[[S, Any], S]
    decide: Callable[[Any, S], Sequence[Any]]
    name: str = ""
    fold_version: int = 1
    events: tuple[type[Any], ...] = ()
    dump_state: Callable[[S], JsonDict] | None = None
    load_state: Callable[[JsonDict], S] | None = None

    def fold(self, events: Iterable[Any], state: S | None = None) -> S:
        current = self.initial_state if state is None else state
        evolve = self.evolve
        for event in events:
            current = evolve(current, event)
        return current

    @property
    def snapshots(self) -> bool:
        return self.dump_state is not None and self.load_state is not None
