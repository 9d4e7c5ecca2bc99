"""The bank's whole system in one process on in-memory adapters, with its two
HTTP services as clients (alice's token by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cqrskit.adapters.pyjwt import JwtVerifier, mint
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.query_app import create_query_app
from cqrskit.runtime.embedded import System, borrowed, running_system
from cqrskit.runtime.settings import Settings
from examples.bank import app as bank

SECRET = "example-secret-of-the-bank-0123456789abcdef"
SERVER_KEY = b"example-server-key-of-the-bank-0123456789"
SETTINGS = Settings(
    event_store_url="memory://",
    broker_url="memory://",
    read_store_url="memory://",
    partitions=2,
)


def auth(who: str) -> dict[str, str]:
    """Bearer headers of customer `who`, or of an operator for "admin"."""
    subject, roles = ("ops", ["admin"]) if who == "admin" else (who, ["customer"])
    return {"Authorization": f"Bearer {mint(SECRET, subject, roles, 3600)}"}


@dataclass
class Bank:
    command: httpx.AsyncClient
    query: httpx.AsyncClient
    token: str = ""
    """The consistency token of the last command: reads wait for it."""

    async def do(
        self,
        path: str,
        body: dict[str, object] | None = None,
        *,
        who: str = "alice",
        status: int = 202,
        key: str | None = None,
    ) -> dict[str, Any]:
        """A command as `who`; the answer's consistency token is kept."""
        headers = auth(who) | ({"Idempotency-Key": key} if key else {})
        answer = await self.command.post(path, json=body, headers=headers)
        assert answer.status_code == status, answer.text
        result: dict[str, Any] = answer.json()
        if answer.is_success:
            self.token = str(result["consistency_token"])
        return result

    async def read(
        self, path: str, *, who: str = "alice", status: int = 200
    ) -> dict[str, Any]:
        """A read as `who`, once the read side holds the last command."""
        headers = auth(who) | {"Consistency-Token": self.token}
        answer = await self.query.get(path, headers=headers)
        assert answer.status_code == status, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def _client(app: FastAPI, host: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{host}"
        ) as client:
            yield client


@pytest.fixture
async def system() -> AsyncIterator[System]:
    async with running_system(bank, SETTINGS) as running:
        yield running


@pytest.fixture
async def accounts(system: System) -> AsyncIterator[Bank]:
    verifier = JwtVerifier(secret=SECRET)
    command_app = create_command_app(
        bank, lambda: borrowed(system.command), verifier, SERVER_KEY
    )
    query_app = create_query_app(
        bank, lambda: borrowed(system.query), verifier, SERVER_KEY
    )
    async for command in _client(command_app, "command"):
        async for query in _client(query_app, "query"):
            yield Bank(command, query)
