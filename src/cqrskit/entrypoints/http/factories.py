"""App factories for `cqrskit serve` (uvicorn imports these by name, once per
worker), for the application CQRSKIT_APP names. Each service opens only the
store it is given: the command service the event store, the query service
the read store (DESIGN.md rule 5). The
apps open them in the background of their lifespan and answer 503 until then
(entrypoints/http/lifespan.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime import adapters, roles
from cqrskit.runtime.applications import load_application
from cqrskit.runtime.bootstrap import CommandSide, QuerySide
from cqrskit.runtime.settings import Settings


def command_app() -> FastAPI:
    settings = Settings.from_env()
    application = load_application(settings.app)
    adapters.check_url("event store", settings.event_store_url)
    verifier, server_key = adapters.token_verifier(settings), settings.hmac_key()

    @asynccontextmanager
    async def provide() -> AsyncIterator[CommandSide[Any]]:
        async with AsyncExitStack() as stack:
            yield await roles.command_role(application, settings, stack)

    return create_command_app(
        application, provide, verifier, server_key, rate_limit=settings.rate_limit
    )


def query_app() -> FastAPI:
    settings = Settings.from_env()
    application = load_application(settings.app)
    adapters.check_url("read store", settings.read_store_url)
    verifier, server_key = adapters.token_verifier(settings), settings.hmac_key()

    @asynccontextmanager
    async def provide() -> AsyncIterator[QuerySide[Any]]:
        async with AsyncExitStack() as stack:
            yield await roles.query_role(application, settings, stack)

    return create_query_app(application, provide, verifier, server_key)
