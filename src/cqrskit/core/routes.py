"""Routes as data: what an application declares, and the kit serves over HTTP.

A command route says how a request (path parameters, a validated body, the
verified principal) becomes a call on the application's command handlers; a
query route how it becomes a read on its queries object. Building the call may
refuse (`Forbidden`, `NotFound`) before anything is dispatched or waited for.
The kit's HTTP layer builds one FastAPI route per entry (entrypoints/http);
nothing here knows HTTP frameworks.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

from cqrskit.core.auth import Access, Principal
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.messages import Ack, stream_entity

H = TypeVar("H")
Q = TypeVar("Q")
B = TypeVar("B", bound=BaseModel)

_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True, slots=True)
class CommandInput:
    """What a command route was given: path parameters, body, caller."""

    path: Mapping[str, str]
    body: BaseModel | None
    principal: Principal

    def body_as(self, model: type[B]) -> B:
        """The body as the route's model (a route with a body always has one)."""
        if not isinstance(self.body, model):
            raise TypeError(f"expected a {model.__name__} body")
        return self.body


@dataclass(frozen=True, slots=True)
class QueryInput:
    """What a query route was given; `principal` is None on a public route."""

    path: Mapping[str, str]
    query: BaseModel | None
    principal: Principal | None

    @property
    def owner(self) -> str | None:
        """Whose documents the caller may read: its own, or (admin, public
        route) anyone's."""
        if self.principal is None or self.principal.is_admin:
            return None
        return self.principal.subject

    def query_as(self, model: type[B]) -> B:
        if not isinstance(self.query, model):
            raise TypeError(f"expected a {model.__name__} query string")
        return self.query


Call = Callable[[H, CommandContext], Awaitable[Ack]]
"""A call on the command handlers, run by the kit with the request's context."""
Fetch = Callable[[Q], Awaitable[bytes]]
"""A read on the queries object: the answer's bytes, sent as they are."""
Ids = Callable[[CommandInput, Ack], Mapping[str, str]]
"""The extra ids an answer carries besides stream, version and position."""


def no_ids(_: CommandInput, __: Ack) -> Mapping[str, str]:
    return {}


def id_from_path(name: str) -> Ids:
    """The answer names the path parameter `name` (`sku` of /products/{sku})."""
    return lambda given, _: {name: given.path[name]}


def id_from_body(name: str) -> Ids:
    """The answer names the body's field `name` (the new product's `sku`)."""
    return lambda given, _: {name: str(getattr(given.body, name))}


def id_from_stream(name: str) -> Ids:
    """The answer names the entity of the acknowledged stream (a new cart's id)."""
    return lambda _, ack: {name: stream_entity(ack.stream_id)}


def _check_parameters(path: str, params: Mapping[str, str]) -> None:
    named = set(_PARAMETER.findall(path))
    if named != set(params):
        raise ValueError(f"{path}: give a pattern for each of {sorted(named)}")


@dataclass(frozen=True)
class CommandRoute(Generic[H]):
    """One command over HTTP. `name` is the operation id (and what logs call
    the command); `command` labels the commands metric."""

    name: str
    command: str
    method: str
    path: str
    call: Callable[[CommandInput], Call[H]]
    body: type[BaseModel] | None = None
    body_required: bool = True
    params: Mapping[str, str] = field(default_factory=dict)
    """Each path parameter's pattern."""
    status: int = 202
    access: Access = Access.CUSTOMER
    lean: bool = False
    """Also served by a plain Starlette route ahead of the FastAPI one, for
    hot commands (the FastAPI route answers what it does not take on)."""
    ids: Ids = no_ids
    problems: tuple[int, ...] = ()
    """Statuses it may answer besides those the kit derives (400 with a
    body; 401, 403 and 429 by access; 404 with path parameters; 409, 413,
    422 and 503 always): a 404 for an id in the body, an application's own
    (402)."""
    summary: str = ""
    description: str = ""
    tag: str = ""

    def __post_init__(self) -> None:
        _check_parameters(self.path, self.params)


@dataclass(frozen=True)
class QueryRoute(Generic[Q]):
    """One read over HTTP (GET). `lean`: also served by a plain Starlette
    route ahead of the FastAPI one, for hot single-document reads (only
    without a query-string model)."""

    name: str
    path: str
    fetch: Callable[[QueryInput], Fetch[Q]]
    response: type[BaseModel]
    params: Mapping[str, str] = field(default_factory=dict)
    query: type[BaseModel] | None = None
    access: Access = Access.CUSTOMER
    problems: tuple[int, ...] = ()
    """Statuses it may answer besides 422 and 503 (a document's 404)."""
    lean: bool = False
    summary: str = ""
    description: str = ""
    tag: str = ""

    def __post_init__(self) -> None:
        _check_parameters(self.path, self.params)
        if self.lean and self.query is not None:
            raise ValueError(f"{self.path}: a lean route takes no query string")
