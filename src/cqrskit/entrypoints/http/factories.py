"""App factories for `cqrskit serve` (uvicorn imports these by name, once per
worker), for the application CQRSKIT_APP names. Each service opens only the
store it is given: the command service the event store, the query service
the read store (DESIGN.md rule 5). The
apps open them in the background of their lifespan and answer 503 until then
(entrypoints/http/lifespan.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime import adapters, bootstrap
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
        store = await adapters.open_event_store(settings.event_store_url)
        memory = bootstrap.FoldMemory.from_settings(settings)
        side = bootstrap.command_side(application, store, memory=memory)
        try:
            yield side
        finally:
            await side.drain()
            await store.close()

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
        store = await adapters.open_read_store(settings.read_store_url)
        try:
            yield bootstrap.query_side(
                application, store, consistency_timeout=settings.consistency_timeout
            )
        finally:
            await store.close()

    return create_query_app(application, provide, verifier, server_key)
