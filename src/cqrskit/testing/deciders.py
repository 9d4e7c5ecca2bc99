"""Given/when/then for deciders.

    given(decider, *history).when(command).then(*expected_events)
    given(decider, *history).when(command).then_nothing()
    given(decider, *history).when(command).then_raises(NotFound, match="...")

The history is folded with `decider.evolve` from `decider.initial_state`, and the
command is decided against that state: the same path a command handler takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Generic, TypeVar

import pytest

from cqrskit.core.decider import Decider

S = TypeVar("S")
E = TypeVar("E", bound=BaseException)


def given(decider: Decider[S], *history: Any) -> Given[S]:
    return Given(decider, history)


@dataclass(frozen=True)
class Given(Generic[S]):
    decider: Decider[S]
    history: tuple[Any, ...]

    @property
    def state(self) -> S:
        return reduce(self.decider.evolve, self.history, self.decider.initial_state)

    def when(self, command: Any) -> When[S]:
        return When(self, command)


@dataclass(frozen=True)
class When(Generic[S]):
    given: Given[S]
    command: Any

    def _decide(self) -> list[Any]:
        return list(self.given.decider.decide(self.command, self.given.state))

    def then(self, *expected: Any) -> None:
        if not expected:
            raise TypeError("then() needs events; use then_nothing() for none")
        _expect_events(self.command, self._decide(), expected)

    def then_nothing(self) -> None:
        _expect_events(self.command, self._decide(), ())

    def then_raises(self, error: type[E], match: str | None = None) -> E:
        with pytest.raises(error, match=match) as caught:
            decided = self._decide()
            pytest.fail(f"{self.command!r} was accepted, deciding {decided!r}")
        return caught.value


def _expect_events(command: Any, got: Sequence[Any], expected: Sequence[Any]) -> None:
    if list(got) != list(expected):
        pytest.fail(
            f"{command!r} decided\n  {list(got)!r}\nbut expected\n  {list(expected)!r}",
            pytrace=False,
        )
