"""Lean routes: plain Starlette routes ahead of the FastAPI routes they stand
in for, for the hot paths of both services.

A FastAPI route spends much of a short request on its per-request parameter
machinery (dependencies, the body's JSON decoded, then validated). A lean
route checks the same things directly: the path parameters against the same
patterns, the body by `model_validate_json` on the raw bytes, under the same
access rule. The FastAPI route stays, for the OpenAPI document and, for a
command, for every request the lean route does not take on at once.

A lean command route answers only a request it can see is well formed (JSON
content type, a body its model accepts, path parameters and Idempotency-Key
that match their patterns); any other request, it hands as it came to the
FastAPI route, so a refusal is FastAPI's own: the same problem answer, in the
same order (bad JSON, then the access rule, then every invalid field at once).
Nothing observable happens before the hand-over: the access rule (and so the
rate limit) is checked once, by whichever route answers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cqrskit.core.auth import Access, Principal
from cqrskit.core.routes import CommandRoute
from cqrskit.entrypoints.http.access import admin_only, signed_in
from cqrskit.entrypoints.http.middleware import replaying

Guard = Callable[[Request], Awaitable[Principal]]
_GUARDS: dict[Access, Guard] = {Access.CUSTOMER: signed_in, Access.ADMIN: admin_only}
IDEMPOTENCY_HEADER = "idempotency-key"
IDEMPOTENCY_PATTERN = r"^[!-~]{1,255}$"
"""Visible ASCII: it is stored with the events."""
_JSON = "application/json"


def guard_of(access: Access) -> Guard | None:
    """What enforces `access` on a lean route (None: a public route)."""
    return _GUARDS.get(access)


class PathCheck:
    """A route's path parameters against their patterns, as FastAPI checks them."""

    def __init__(self, patterns: Mapping[str, str]) -> None:
        self._valid = {name: re.compile(p) for name, p in patterns.items()}

    def matches(self, path: Mapping[str, str]) -> bool:
        return all(p.fullmatch(path[name]) for name, p in self._valid.items())

    def check(self, path: Mapping[str, str]) -> None:
        """Refuse, as FastAPI does, the first parameter that does not match."""
        for name, pattern in self._valid.items():
            if not pattern.fullmatch(path[name]):
                raise _mismatch(name, pattern.pattern, path[name])


def _mismatch(name: str, pattern: str, value: str) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "string_pattern_mismatch",
                "loc": ("path", name),
                "msg": f"String should match pattern '{pattern}'",
                "input": value,
            }
        ]
    )


Endpoint = Callable[..., Awaitable[Any]]
"""A command route's FastAPI endpoint: `(request, key=, body=, **path)`."""


class LeanCommand:
    """The ASGI app of a lean command route (see the module's docstring)."""

    def __init__(self, route: CommandRoute[Any], fallback: APIRoute) -> None:
        self._fallback = fallback
        self._endpoint: Endpoint = fallback.endpoint
        self._path = PathCheck(route.params)
        self._key = re.compile(IDEMPOTENCY_PATTERN)
        self._model = route.body
        self._guard = guard_of(route.access)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        inputs = self._inputs(request, raw)
        scope["route"] = self._fallback  # what FastAPI's route would have set
        if inputs is None:
            await self._fallback.handle(scope, replaying(raw, receive), send)
            return
        key, body = inputs
        if self._guard is not None:
            await self._guard(request)
        response = await self._endpoint(
            request, key=key, body=body, **request.path_params
        )
        await response(scope, receive, send)

    def _inputs(
        self, request: Request, raw: bytes
    ) -> tuple[str | None, BaseModel | None] | None:
        """The Idempotency-Key and the body, or None unless both, and the
        path, are plainly valid."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and not self._key.fullmatch(key):
            return None
        if not self._path.matches(request.path_params):
            return None
        if self._model is None:
            return key, None
        if not raw or request.headers.get("content-type") != _JSON:
            return None
        try:
            return key, self._model.model_validate_json(raw)
        except ValidationError:
            return None


def add_command_routes(app: FastAPI, routes: Sequence[CommandRoute[Any]]) -> None:
    """A lean route ahead of the FastAPI route built for each entry marked
    lean, handing what it does not take on to that route."""
    built = {r.name: r for r in app.router.routes if isinstance(r, APIRoute)}
    app.router.routes[0:0] = [
        Route(
            route.path,
            LeanCommand(route, built[route.name]),
            methods=[route.method],
            name=route.name,
            include_in_schema=False,
        )
        for route in routes
        if route.lean
    ]
