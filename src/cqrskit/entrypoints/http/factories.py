"""App factories for `cqrskit serve` (uvicorn imports these by name, once per
worker), for the application CQRSKIT_APP names. Each service opens only the
store it is given: the command service the event store, the query service
the read store (DESIGN.md rule 5). The
apps open them in the background of their lifespan and answer 503 until then
(entrypoints/http/lifespan.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI

from cqrskit.core.application import Application
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime import adapters, roles
from cqrskit.runtime.applications import load_application
from cqrskit.runtime.settings import Settings

S = TypeVar("S")
Role = Callable[[Application[Any, Any], Settings, AsyncExitStack], Awaitable[S]]


def _provider(
    role: Role[S], application: Application[Any, Any], settings: Settings
) -> Callable[[], AbstractAsyncContextManager[S]]:
    """What an app's lifespan opens (and closes): the role's side."""

    @asynccontextmanager
    async def provide() -> AsyncIterator[S]:
        async with AsyncExitStack() as stack:
            yield await role(application, settings, stack)

    return provide


def command_app() -> FastAPI:
    settings = Settings.from_env()
    application = load_application(settings.app)
    adapters.check_url("event store", settings.event_store_url)
    verifier, server_key = adapters.token_verifier(settings), settings.hmac_key()
    provide = _provider(roles.command_role, application, settings)
    return create_command_app(
        application, provide, verifier, server_key, rate_limit=settings.rate_limit
    )


def query_app() -> FastAPI:
    settings = Settings.from_env()
    application = load_application(settings.app)
    adapters.check_url("read store", settings.read_store_url)
    verifier, server_key = adapters.token_verifier(settings), settings.hmac_key()
    provide = _provider(roles.query_role, application, settings)
    return create_query_app(application, provide, verifier, server_key)
