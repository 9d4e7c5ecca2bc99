"""/metrics counts requests by route template and status, on both services."""

from __future__ import annotations

import re

import httpx
from shop_http import Shop


def count(metrics: str, method: str, route: str, status: int) -> float:
    pattern = (
        rf'^cqrskit_http_requests_total\{{method="{method}",'
        rf'route="{re.escape(route)}",status="{status}"\}} (\S+)$'
    )
    match = re.search(pattern, metrics, re.M)
    return float(match.group(1)) if match else 0.0


async def test_requests_are_counted_by_route_and_status(
    shop: Shop, command: httpx.AsyncClient, query: httpx.AsyncClient
) -> None:
    await shop.add_product("MUG-1", stock=3)
    await shop.read("/products/MUG-1")
    await query.get("/products/NOPE-1")
    await command.post(
        "/products", json={"sku": "MUG-1", "name": "x", "price_cents": 1}
    )

    reads = (await query.get("/metrics")).text
    writes = (await command.get("/metrics")).text

    assert count(reads, "GET", "/products/{sku}", 200) == 1
    assert count(reads, "GET", "/products/{sku}", 404) == 1
    assert count(writes, "POST", "/products", 201) == 1
    assert count(writes, "POST", "/products", 409) == 1
    assert "process_resident_memory_bytes" in reads
