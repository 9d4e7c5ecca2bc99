"""The application object: everything the kit needs to know of a domain.

A domain builds one `Application` and the kit runs it in every role (the
command and query services, the relay, projectors, rebuild and verify),
loaded by name (`cqrskit run --app package.module:attr`). The kit never
imports a domain; a domain imports the kit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from cqrskit.core.codec import EventCodec
from cqrskit.core.dispatcher import REFUSALS, Dispatcher
from cqrskit.core.errors import CqrskitError
from cqrskit.core.history import StateView
from cqrskit.core.ports import SearchableStore
from cqrskit.core.projection import Projection
from cqrskit.core.routes import CommandRoute, QueryRoute

H = TypeVar("H")
Q = TypeVar("Q")


@dataclass(frozen=True)
class Kit:
    """What the kit hands an application's command handlers."""

    dispatcher: Dispatcher
    clock: Callable[[], datetime]
    """The time now, in UTC (a test passes a fixed one)."""
    new_id: Callable[[], str]
    """A fresh id for a new entity."""


@dataclass(frozen=True)
class ErrorKind:
    """A domain's own refusal and the HTTP answer it becomes. A refusal a
    handler records with `Session.reject` is replayed by its class name."""

    error: type[CqrskitError]
    status: int
    title: str
    meaning: str
    """What the status means on a route that documents it (OpenAPI)."""


@dataclass(frozen=True)
class BenchTarget:
    """A running system to measure, as `cqrskit bench` hands it to a workload."""

    command_url: str
    query_url: str
    token: str
    """An admin's bearer token (a workload sets up its own data)."""
    concurrency: int


@dataclass(frozen=True)
class BenchPhase:
    """A phase of a benchmark: `clients` callers repeat `step` (one request
    or a chain of them) for the phase's time; a step says whether it
    succeeded (timed whole), or gives the seconds its timed part took."""

    name: str
    clients: int
    step: Callable[[], Awaitable[bool | float]]


Workload = Callable[[BenchTarget], AbstractAsyncContextManager[Sequence[BenchPhase]]]
"""Sets up its data on the target, then hands over the phases to time."""


@dataclass(frozen=True)
class Application(Generic[H, Q]):
    """A domain as the kit runs it.

    `commands` builds the command handlers (`H`) the command routes call;
    `queries` the queries object (`Q`) over a read store that the query
    routes read; `projections` the read models from the codec; `demo`, if
    given, loads demo data through the handlers and says how many items it
    added (`cqrskit run --demo`, `up --demo`, `demo-data`); `states`, per
    stream category, how the console folds and shows a stream's state at any
    version (core/history.py; a category without one shows only its events)."""

    name: str
    codec: EventCodec
    commands: Callable[[Kit], H]
    command_routes: Sequence[CommandRoute[H]]
    projections: Callable[[EventCodec], Sequence[Projection]]
    queries: Callable[[SearchableStore], Q]
    query_routes: Sequence[QueryRoute[Q]] = ()
    errors: Sequence[ErrorKind] = ()
    demo: Callable[[H], Awaitable[int]] | None = None
    answer_model: type[BaseModel] | None = None
    """Documents a command's answer (default: the kit's, without extra ids)."""
    states: Mapping[str, StateView[Any]] = field(default_factory=dict)
    bench: Workload | None = None
    """What `cqrskit bench` drives over HTTP, through the application's client."""

    def refusals(self) -> dict[str, type[CqrskitError]]:
        """Every refusal a stored answer may replay, by name: the kit's and
        the application's own."""
        return {**REFUSALS, **{k.error.__name__: k.error for k in self.errors}}

    def projection_list(self) -> list[Projection]:
        return list(self.projections(self.codec))
