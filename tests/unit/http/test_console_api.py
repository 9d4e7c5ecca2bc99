"""The console's JSON API (cqrskit serve console, and /console in cqrskit run):
admin only, streams and their audit trail, a stream's state at any version,
status, and parked events with retry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from shop_http import SETTINGS, Shop, assert_problem

from cqrskit.core.messages import RecordedEvent
from cqrskit.core.projection import ProjectionRunner, View
from cqrskit.entrypoints.http.console import create_console_service
from cqrskit.runtime.console import ConsoleSide
from cqrskit.runtime.embedded import System, borrowed
from cqrskit.shop.app import app as SHOP
from credentials import ADMIN_HEADERS, customer, verifier

API = "/console/api"


async def _console(side: ConsoleSide) -> AsyncIterator[httpx.AsyncClient]:
    app = create_console_service(lambda: borrowed(side), verifier())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://console", headers=ADMIN_HEADERS
        ) as client:
            yield client


@pytest.fixture
async def console(system: System) -> AsyncIterator[httpx.AsyncClient]:
    side = ConsoleSide(SHOP, SETTINGS, system.event_store, system.read_store)
    async for client in _console(side):
        yield client


async def _an_order(shop: Shop) -> str:
    await shop.add_product("MUG-01", stock=5)
    cart_id = await shop.cart(**{"MUG-01": 2})
    return await shop.order(cart_id)


async def test_every_api_route_refuses_a_missing_or_a_customer_token(
    console: httpx.AsyncClient,
) -> None:
    for method, path in [
        ("GET", f"{API}/streams"),
        ("GET", f"{API}/streams/order-x"),
        ("GET", f"{API}/streams/order-x/state"),
        ("GET", f"{API}/status"),
        ("GET", f"{API}/parked"),
        ("POST", f"{API}/parked/orders/order-x/retry"),
    ]:
        anonymous = await console.request(method, path, headers={"Authorization": ""})
        assert_problem(anonymous, 401)
        refused = await console.request(method, path, headers=customer("alice"))
        assert "operators" in assert_problem(refused, 403)["detail"]


async def test_the_page_is_served_at_console_without_a_token(
    console: httpx.AsyncClient,
) -> None:
    page = await console.get("/console/", headers={"Authorization": ""})
    script = await console.get("/console/console.js")

    assert page.status_code == 200 and "cqrskit console" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert script.status_code == 200 and "sessionStorage" in script.text
    assert (await console.get("/", follow_redirects=False)).headers[
        "location"
    ] == "/console/"


async def test_streams_are_listed_by_prefix_a_page_at_a_time(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    for sku in ("A-1", "B-1", "C-1"):
        await shop.add_product(sku)

    first = (await console.get(f"{API}/streams?prefix=product-&limit=2")).json()
    rest = await console.get(
        f"{API}/streams", params={"prefix": "product-", "after": first["next_after"]}
    )

    assert [s["stream_id"] for s in first["items"]] == ["product-A-1", "product-B-1"]
    assert rest.json() == {
        "items": [{"stream_id": "product-C-1", "version": 1}],
        "next_after": None,
    }


async def test_the_audit_trail_shows_who_when_and_the_correlation_id(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    order_id = await _an_order(shop)

    trail = (await console.get(f"{API}/streams/order-{order_id}")).json()

    (placed,) = trail["events"]
    assert (trail["version"], trail["has_state"]) == (1, True)
    assert placed["type"] == "OrderPlaced"
    assert placed["metadata"]["principal"] == {"sub": "ops", "roles": ["admin"]}
    assert placed["metadata"]["correlation_id"]
    assert placed["recorded_at"]


async def test_the_audit_trail_pages_through_a_long_stream(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    await shop.add_product("MUG-01", price=1000)
    for price in (1100, 1200):
        await shop.do("POST", "/products/MUG-01/price", {"price_cents": price})
    trail = f"{API}/streams/product-MUG-01"

    first = (await console.get(trail, params={"limit": 2})).json()
    rest = (
        await console.get(trail, params={"from_version": first["next_from"]})
    ).json()

    assert [e["version"] for e in first["events"]] == [1, 2]
    assert (first["version"], first["next_from"]) == (3, 3)
    assert [e["type"] for e in rest["events"]] == ["PriceChanged"]
    assert rest["next_from"] is None


async def test_the_state_folds_to_the_version_asked(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    await shop.add_product("MUG-01", price=1000)
    await shop.do("POST", "/products/MUG-01/price", {"price_cents": 1500})
    await shop.do("POST", "/products/MUG-01/price", {"price_cents": 2000})

    def price(answer: httpx.Response) -> Any:
        assert answer.status_code == 200, answer.text
        return answer.json()["version"], answer.json()["state"]["price_cents"]

    state = f"{API}/streams/product-MUG-01/state"
    assert price(await console.get(state, params={"version": 1})) == (1, 1000)
    assert price(await console.get(state, params={"version": 2})) == (2, 1500)
    assert price(await console.get(state)) == (3, 2000)
    initial = (await console.get(state, params={"version": 0})).json()
    assert initial["state"]["exists"] is False and initial["last_version"] == 3


async def test_bad_versions_and_streams_are_problems_not_crashes(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    await shop.add_product("MUG-01")
    state = f"{API}/streams/product-MUG-01/state"

    assert (
        "past" in assert_problem(await console.get(f"{state}?version=9"), 422)["detail"]
    )
    assert_problem(await console.get(f"{state}?version=-1"), 422)
    assert_problem(await console.get(f"{state}?version=two"), 422)
    assert_problem(await console.get(f"{API}/streams/product-NOPE/state"), 404)
    assert_problem(await console.get(f"{API}/streams/product-NOPE"), 404)
    assert_problem(await console.get(f"{API}/streams/Not A Stream"), 422)
    assert_problem(await console.get(f"{API}/streams?limit=0"), 422)
    assert_problem(
        await console.get(f"{API}/streams/product-MUG-01?from_version=5"), 422
    )
    assert_problem(
        await console.get(f"{API}/streams/product-MUG-01?from_version=0"), 422
    )
    nothing = f"{API}/parked/catalog/product-MUG-01/retry"
    assert "not parked" in assert_problem(await console.post(nothing), 404)["detail"]
    assert_problem(await console.post(f"{API}/parked/nosuch/product-MUG-01/retry"), 404)


async def test_status_shows_the_head_and_each_projections_partitions(
    shop: Shop, console: httpx.AsyncClient
) -> None:
    await _an_order(shop)

    status = (await console.get(f"{API}/status")).json()

    assert status["head"] == await shop.log_size()
    assert status["relay"]["embedded"] is True
    assert {p["name"] for p in status["projections"]} == {"catalog", "carts", "orders"}
    assert all(
        len(p["partitions"]) == SETTINGS.partitions for p in status["projections"]
    )


class Flaky:
    """Fails on every order event while `broken`."""

    name = "flaky"
    categories = frozenset({"order"})
    prefixes: tuple[str, ...] = ("flaky:",)

    def __init__(self) -> None:
        self.broken = True

    def reads(self, event: RecordedEvent) -> Sequence[str]:
        return ()

    async def apply(self, event: RecordedEvent, view: View) -> None:
        if self.broken:
            raise RuntimeError("the flaky view is broken")
        view.put(f"flaky:{event.stream_id}", b"seen")


async def test_a_parked_event_is_listed_and_a_retry_moves_it_back(
    shop: Shop, system: System
) -> None:
    order_id = await _an_order(shop)
    flaky = Flaky()
    app = replace(SHOP, projections=lambda codec: [flaky])
    runner = ProjectionRunner([flaky], system.read_store, max_failures=1)
    await runner.handle(0, await system.event_store.read_stream(f"order-{order_id}"))
    side = ConsoleSide(app, SETTINGS, system.event_store, system.read_store)
    async for console in _console(side):
        (parked,) = (await console.get(f"{API}/parked")).json()
        assert (parked["stream_id"], parked["type"]) == (
            f"order-{order_id}",
            "OrderPlaced",
        )
        assert "broken" in parked["error"]
        retry = f"{API}/parked/flaky/order-{order_id}/retry"

        again = (await console.post(retry)).json()
        flaky.broken = False
        done = (await console.post(retry)).json()

        assert (again["unparked"], again["failure"]["attempts"]) == (False, 2)
        assert done == {
            "projection": "flaky",
            "stream_id": f"order-{order_id}",
            "unparked": True,
            "failure": None,
        }
        assert (await console.get(f"{API}/parked")).json() == []
        assert await system.read_store.get(f"flaky:order-{order_id}") == b"seen"


async def test_the_console_api_is_in_its_openapi_document(
    console: httpx.AsyncClient,
) -> None:
    document = (await console.get("/console/openapi.json")).json()

    assert set(document["paths"]) == {
        "/api/streams",
        "/api/streams/{stream_id}",
        "/api/streams/{stream_id}/state",
        "/api/status",
        "/api/parked",
        "/api/parked/{projection}/{stream_id}/retry",
    }
    assert document["servers"] == [{"url": "/console"}]
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"401", "403", "503"} <= set(operation["responses"])
