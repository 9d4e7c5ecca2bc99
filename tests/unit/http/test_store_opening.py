"""A service whose store is not reachable yet still starts: it answers
/healthz, and 503 with Retry-After everywhere else, until the store opens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from cqrskit.core.errors import Misconfigured, StoreUnavailable
from cqrskit.entrypoints.http import lifespan
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.runtime.bootstrap import CommandSide
from cqrskit.runtime.embedded import System
from cqrskit.shop.app import app as SHOP
from credentials import ADMIN_HEADERS, SERVER_KEY, verifier


class Gate:
    """A provider whose store is unreachable until `open` is set."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.open = False
        self.attempts = 0

    @asynccontextmanager
    async def provide(self) -> AsyncIterator[CommandSide]:
        self.attempts += 1
        if not self.open:
            raise StoreUnavailable("connection refused")
        yield self.system.command


async def _until(client: httpx.AsyncClient, path: str, status: int) -> None:
    for _ in range(200):
        if (await client.get(path)).status_code == status:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{path} never answered {status}")


async def test_routes_answer_503_until_the_store_opens(
    system: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifespan, "FIRST_WAIT", 0.05)
    gate = Gate(system)
    app = create_command_app(SHOP, gate.provide, verifier(), SERVER_KEY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://c", headers=ADMIN_HEADERS
        ) as c:
            assert (await c.get("/healthz")).status_code == 200
            assert (await c.get("/readyz")).status_code == 503
            answer = await c.post("/carts", json={"customer_id": "alice"})
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"] == "1"

            gate.open = True
            await _until(c, "/readyz", 200)
            answer = await c.post("/carts", json={"customer_id": "alice"})
            assert answer.status_code == 201, answer.text
    assert gate.attempts >= 2


async def test_a_misconfiguration_stops_the_start(system: System) -> None:
    @asynccontextmanager
    async def refused() -> AsyncIterator[CommandSide]:
        raise Misconfigured("password authentication failed")
        yield system.command  # pragma: no cover

    app = create_command_app(SHOP, refused, verifier(), SERVER_KEY)
    with pytest.raises(Misconfigured):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover
