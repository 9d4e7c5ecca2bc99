"""Both services against their own OpenAPI documents, with every schemathesis
check: what the documents admit is accepted, what they refuse is refused, and
every answer (status, media type, body, headers) is one they document.

Both apps share the whole embedded system on in-memory adapters, opened in
their lifespans (schemathesis drives ASGI apps on an event loop of its own),
with the demo catalog loaded so that reads find documents to check.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
)
from typing import Any, TypeVar

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from shop_http import SETTINGS as EMBEDDED

from cqrskit.core.consistency import token_for
from cqrskit.core.messages import Ack
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime.embedded import System, running_system
from cqrskit.shop.app import app as SHOP
from cqrskit.shop.demo import load_demo_data
from credentials import ADMIN_HEADERS, SERVER_KEY, verifier

T = TypeVar("T")

# Tokens from no command name versions that never come: answer 503 quickly.
SETTINGS = dataclasses.replace(EMBEDDED, consistency_timeout=0.05)
COMMON: dict[str, Any] = {
    "seed": 20261130,
    "generation": {"max-examples": 30, "mode": "all"},
    "checks": {"enabled": True},
    "output": {"sanitization": {"enabled": False}},
}
COMMAND_CONFIG = SchemathesisConfig.from_dict(
    {
        **COMMON,
        # A card number of the documented shape may fail the Luhn check (422)
        # or be declined (402): both documented, neither expressible in JSON
        # Schema. Only this operation's acceptance check allows them.
        "operations": [
            {
                "include-path": "/orders",
                "include-method": "POST",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "402", "404", "409", "422"]
                    }
                },
            }
        ],
    }
)
QUERY_CONFIG = SchemathesisConfig.from_dict(
    {
        **COMMON,
        # The coverage phase's "default positive" case sends an optional header
        # the value `0` whatever the header's pattern says: it is not valid
        # data, so a refusal is right (the fuzzing phase checks real tokens).
        "phases": {
            "coverage": {"checks": {"positive_data_acceptance": {"enabled": False}}}
        },
    }
)


class SharedSystem:
    """One embedded system for both apps, with the demo catalog in it: opened
    by the first lifespan to start, closed by the last to stop."""

    def __init__(self) -> None:
        self._users = 0
        self._stack = AsyncExitStack()
        self._system: System | None = None

    def side(
        self, pick: Callable[[System], T]
    ) -> Callable[[], AbstractAsyncContextManager[T]]:
        @asynccontextmanager
        async def provide() -> AsyncIterator[T]:
            async with self._lease() as system:
                yield pick(system)

        return provide

    @asynccontextmanager
    async def _lease(self) -> AsyncIterator[System]:
        if self._system is None:
            self._system = await self._stack.enter_async_context(
                running_system(SHOP, SETTINGS)
            )
            await load_demo_data(self._system.command.commands)
        self._users += 1
        try:
            yield self._system
        finally:
            self._users -= 1
            if not self._users:
                self._system = None
                await self._stack.aclose()


def conformance(app: FastAPI, config: SchemathesisConfig) -> Any:
    """The app's own document, to be tested against the app; its lifespan
    starts with the first request, not at import."""
    schema = schemathesis.openapi.from_dict(app.openapi(), config=config)
    schema.app = app
    return schema


@pytest.fixture(scope="module", autouse=True)
def stop_apps() -> Iterator[None]:
    """Close the embedded systems the apps' lifespans opened."""
    yield
    asgi.shutdown_lifespans()


SHARED = SharedSystem()
SIGNED_TOKEN = token_for(Ack("product-MUG-01", 1, 0), SERVER_KEY)
"""The demo catalog's first product at its first version: reached at once."""
command = conformance(
    create_command_app(SHOP, SHARED.side(lambda s: s.command), verifier(), SERVER_KEY),
    COMMAND_CONFIG,
)
query = conformance(
    create_query_app(SHOP, SHARED.side(lambda s: s.query), verifier(), SERVER_KEY),
    QUERY_CONFIG,
)


@command.parametrize()
def test_command_service(case: Any) -> None:
    # As an operator (the contract holds for an admin); the ignored_auth check
    # also sends each protected route without the token and with a bad one.
    # A key names one request: the same key with another body is a 422 by
    # design (documented), which no schema can say. One key per request.
    positive = case.meta.generation.mode is GenerationMode.POSITIVE
    if positive and "Idempotency-Key" in (case.headers or {}):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    call_as_admin(case)


@query.parametrize()
def test_query_service(case: Any) -> None:
    call_as_admin(case)


def call_as_admin(case: Any) -> None:
    """Whatever token schemathesis made up becomes an operator's; a case
    that leaves the token out on purpose goes without (and must be a 401).
    A made-up Consistency-Token of the documented shape fails its signature
    (a 422 by design, which no schema can say): a positive case gets a real
    one, signed as the command service signs them."""
    positive = case.meta.generation.mode is GenerationMode.POSITIVE
    if positive and "Consistency-Token" in (case.headers or {}):
        case.headers["Consistency-Token"] = SIGNED_TOKEN
    if "Authorization" in (case.headers or {}):
        case.call_and_validate(headers=ADMIN_HEADERS)
    else:
        case.call_and_validate()


def test_every_route_documents_the_problems_it_can_answer() -> None:
    """Invalid input and an unavailable store anywhere; a body that is too big
    wherever one is read; a body that is not JSON wherever one is parsed."""
    for app in (command.app, query.app):
        for path, operations in app.openapi()["paths"].items():
            for method, operation in operations.items():
                expected = {"422", "503"}
                expected |= {"413"} if method != "get" else set()
                expected |= {"400"} if "requestBody" in operation else set()
                assert expected <= set(operation["responses"]), (method, path)
