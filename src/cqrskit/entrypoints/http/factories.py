"""App factories for `cqrskit serve` (uvicorn imports these by name, once per
worker), for the application CQRSKIT_APP names. Each service opens only the
store it is given: the command service the event store, the query service
the read store (DESIGN.md rule 5); the console both. The
apps open them in the background of their lifespan and answer 503 until then
(entrypoints/http/lifespan.py)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI

from cqrskit.core.application import Application
from cqrskit.core.auth import TokenVerifier
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.console import create_console_service
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.entrypoints.http.traced import traced
from cqrskit.runtime import adapters, console, roles
from cqrskit.runtime.applications import load_application
from cqrskit.runtime.lag import SyncStageMetrics
from cqrskit.runtime.settings import Settings

S = TypeVar("S")
Role = Callable[[Application[Any, Any], Settings, AsyncExitStack], Awaitable[S]]


@dataclass(frozen=True)
class _Service:
    """What a service's factory reads from the environment, once."""

    application: Application[Any, Any]
    settings: Settings
    verifier: TokenVerifier
    server_key: bytes

    @classmethod
    def from_env(cls, store: str, url: Callable[[Settings], str]) -> _Service:
        """Refuses an unsupported URL of the one store the service opens."""
        settings = Settings.from_env()
        application = load_application(settings.app)
        adapters.check_url(store, url(settings))
        verifier = adapters.token_verifier(settings)
        return cls(application, settings, verifier, settings.hmac_key())

    def provider(self, role: Role[S]) -> Callable[[], AbstractAsyncContextManager[S]]:
        """What an app's lifespan opens (and closes): the role's side."""

        @asynccontextmanager
        async def provide() -> AsyncIterator[S]:
            async with AsyncExitStack() as stack:
                yield await role(self.application, self.settings, stack)

        return provide


def command_app() -> FastAPI:
    s = _Service.from_env("event store", lambda settings: settings.event_store_url)
    app = create_command_app(
        s.application,
        s.provider(roles.command_role),
        s.verifier,
        s.server_key,
        rate_limit=s.settings.rate_limit,
    )
    return traced(app, "command")


def query_app() -> FastAPI:
    s = _Service.from_env("read store", lambda settings: settings.read_store_url)
    stages = SyncStageMetrics()
    provide = s.provider(functools.partial(roles.query_role, stages=stages))
    app = create_query_app(
        s.application, provide, s.verifier, s.server_key, collectors=[stages]
    )
    return traced(app, "query")


def console_app() -> FastAPI:
    """The console needs both stores (a role of its own, not the query
    service's: DESIGN.md rule 5)."""
    s = _Service.from_env("event store", lambda settings: settings.event_store_url)
    adapters.check_url("read store", s.settings.read_store_url)
    return create_console_service(s.provider(console.console_role), s.verifier)
