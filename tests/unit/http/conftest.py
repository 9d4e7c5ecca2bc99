"""Both HTTP services over the whole embedded system on in-memory adapters.

The apps get their sides through `borrowed`, as `cqrskit run` does, and their
lifespans are entered here (httpx's ASGITransport does not run them). App
exceptions are not re-raised, so a crash shows up as the 500 a client would see.
The clients act as an operator (an admin token) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from shop_http import SETTINGS, Shop

from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime.embedded import System, borrowed, running_system
from cqrskit.shop.app import app as SHOP
from credentials import ADMIN_HEADERS, SERVER_KEY, verifier


@pytest.fixture
async def system() -> AsyncIterator[System]:
    async with running_system(SHOP, SETTINGS) as running:
        yield running


async def _client(app: FastAPI, host: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{host}", headers=ADMIN_HEADERS
        ) as client:
            yield client


@pytest.fixture
async def command(system: System) -> AsyncIterator[httpx.AsyncClient]:
    app = create_command_app(
        SHOP, lambda: borrowed(system.command), verifier(), SERVER_KEY
    )
    async for client in _client(app, "command"):
        yield client


@pytest.fixture
async def query(system: System) -> AsyncIterator[httpx.AsyncClient]:
    app = create_query_app(SHOP, lambda: borrowed(system.query), verifier(), SERVER_KEY)
    async for client in _client(app, "query"):
        yield client


@pytest.fixture
def shop(system: System, command: httpx.AsyncClient, query: httpx.AsyncClient) -> Shop:
    return Shop(system, command, query)
