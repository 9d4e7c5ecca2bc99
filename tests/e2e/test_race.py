"""Customers race for stock with concurrent POST /orders.

Twenty customers race for five units: exactly five win, the rest get a 409
about the stock. Meanwhile a reader watches the product's `available`, which
must never go below zero and ends at zero once the read side reflects every
winning order. And while stock lasts, nobody is turned away.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from credentials import ADMIN_HEADERS

if TYPE_CHECKING:
    from harness import CqrskitProcess

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"
CARD = {"card_number": "4242424242424242", "expiry": "12/2099", "cvc": "123"}


async def prepare(command: httpx.AsyncClient, sku: str, stock: int, carts: int) -> None:
    """A product with `stock` units and `carts` carts holding one unit each."""
    product = {"sku": sku, "name": f"Scarce {sku}", "price_cents": 5900}
    assert (await command.post("/products", json=product)).status_code == 201
    restock = await command.post(f"/inventory/{sku}/restock", json={"quantity": stock})
    assert restock.status_code == 202, restock.text
    for n in range(carts):
        cart = {"customer_id": f"racer-{n}", "cart_id": f"{sku}-{n}"}
        assert (await command.post("/carts", json=cart)).status_code == 201
        line = {"sku": sku, "quantity": 1}
        added = await command.post(f"/carts/{sku}-{n}/items", json=line)
        assert added.status_code == 202, added.text


async def order_all(
    command: httpx.AsyncClient, sku: str, carts: int
) -> list[httpx.Response]:
    """Every cart's POST /orders at once."""
    return await asyncio.gather(
        *(
            command.post("/orders", json={"cart_id": f"{sku}-{n}", "payment": CARD})
            for n in range(carts)
        )
    )


async def reserved_for(command: httpx.AsyncClient, sku: str) -> list[dict[str, Any]]:
    """The StockReserved events of the SKU's inventory stream (the audit trail)."""
    trail = (await command.get(f"/streams/inventory-{sku}")).json()["events"]
    return [e for e in trail if e["type"] == "StockReserved"]


async def watch_available(
    query: httpx.AsyncClient, sku: str, readings: list[int], done: asyncio.Event
) -> None:
    """Record every `available` the read side shows until the race settles."""
    while not done.is_set():
        answer = await query.get(f"/products/{sku}")
        if answer.status_code == 200:
            readings.append(answer.json()["available"])
        await asyncio.sleep(0.01)


async def available_after(
    query: httpx.AsyncClient, sku: str, answers: list[httpx.Response]
) -> int:
    """`available` once the read side reflects every given answer's write."""
    shown = -1
    for answer in answers:
        token = {"Consistency-Token": answer.headers["Consistency-Token"]}
        read = await query.get(f"/products/{sku}", headers=token)
        assert read.status_code == 200, read.text
        shown = read.json()["available"]
    return shown


async def test_five_units_go_to_exactly_five_of_twenty_customers(
    cqrskit: CqrskitProcess,
) -> None:
    sku, stock, customers = "LAST-UNITS", 5, 20
    async with (
        httpx.AsyncClient(
            base_url=cqrskit.command_url, timeout=30.0, headers=ADMIN_HEADERS
        ) as command,
        httpx.AsyncClient(
            base_url=cqrskit.query_url, timeout=30.0, headers=ADMIN_HEADERS
        ) as query,
    ):
        await prepare(command, sku, stock, customers)
        readings: list[int] = []
        done = asyncio.Event()
        watcher = asyncio.create_task(watch_available(query, sku, readings, done))

        answers = await order_all(command, sku, customers)
        winners = [a for a in answers if a.status_code == 201]
        final = await available_after(query, sku, winners)
        done.set()
        await watcher

        codes = sorted(a.status_code for a in answers)
        assert codes == [201] * stock + [409] * (customers - stock), codes
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.headers["content-type"].startswith(PROBLEM)
            assert "stock" in refused.json()["detail"], refused.text
        assert final == 0
        assert readings and min(readings) >= 0, readings
        reserved = await reserved_for(command, sku)
        assert len(reserved) == stock
        orders = {w.json()["order_id"] for w in winners}
        assert {e["data"]["order_id"] for e in reserved} == orders


async def test_while_stock_lasts_every_customer_is_served(
    cqrskit: CqrskitProcess,
) -> None:
    sku, customers = "PLENTY", 20
    async with httpx.AsyncClient(
        base_url=cqrskit.command_url, timeout=30.0, headers=ADMIN_HEADERS
    ) as command:
        await prepare(command, sku, stock=customers, carts=customers)

        answers = await order_all(command, sku, customers)

        refused = [a.json() for a in answers if a.status_code != 201]
        assert refused == []
        assert len(await reserved_for(command, sku)) == customers
