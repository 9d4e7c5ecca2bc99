"""Commands per caller are limited (429 with Retry-After); reads are not;
one caller's flood does not limit another; without a token, the address
is the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from shop_http import assert_problem

from cqrskit.core.errors import RateLimited
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.ratelimit import RateLimiter
from cqrskit.runtime.embedded import System, borrowed
from cqrskit.shop.app import app as SHOP
from credentials import SERVER_KEY, customer, verifier

SLOW = 0.01
"""One command per 100 s, a burst of one: nothing refills during a test."""


@pytest.fixture
async def limited(system: System) -> AsyncIterator[httpx.AsyncClient]:
    app = create_command_app(
        SHOP, lambda: borrowed(system.command), verifier(), SERVER_KEY, rate_limit=SLOW
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as c:
            yield c


async def test_a_caller_over_its_rate_gets_429_with_retry_after(
    limited: httpx.AsyncClient,
) -> None:
    alice, bob = customer("alice"), customer("bob")
    assert (await limited.post("/carts", json={}, headers=alice)).status_code == 201
    refused = await limited.post("/carts", json={}, headers=alice)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 100
    assert (await limited.post("/carts", json={}, headers=bob)).status_code == 201
    assert (await limited.get("/openapi.json")).status_code == 200


async def test_without_a_token_the_address_is_limited(
    limited: httpx.AsyncClient,
) -> None:
    assert_problem(await limited.post("/carts", json={}), 401)
    assert_problem(await limited.post("/carts", json={}), 429)


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, burst=4, clock=lambda: now[0])
    for _ in range(4):
        limiter.check("a")
    with pytest.raises(RateLimited, match="commands per second"):
        limiter.check("a")
    now[0] += 1.0  # two more
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited, match="retry in 1 s"):
        limiter.check("a")
    limiter.check("b")
