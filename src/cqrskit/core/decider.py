"""Deciders: pure `decide(command, state) -> events` and `evolve(state, event)`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Decider(Generic[S]):
    """One stream type's behaviour. `decide` raises a domain error to refuse."""

    initial_state: S
    evolve: Callable[[S, Any], S]
    decide: Callable[[Any, S], Sequence[Any]]

    def fold(self, events: Iterable[Any], state: S | None = None) -> S:
        current = self.initial_state if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current
