"""/metrics counts requests by route template and status, on both services."""

from __future__ import annotations

import re

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
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


async def test_metrics_follow_prometheus_conventions(
    shop: Shop, command: httpx.AsyncClient, query: httpx.AsyncClient
) -> None:
    """Counters end in `_total` and no series has a `_created` twin."""
    await shop.add_product("MUG-2", stock=1)
    await query.get("/products/MUG-2")
    for client in (command, query):
        text = (await client.get("/metrics")).text
        assert "_created" not in text
        counted = [
            sample.name
            for family in text_string_to_metric_families(text)
            if family.type == "counter"
            for sample in family.samples
        ]
        assert "cqrskit_http_requests_total" in counted
        assert all(name.endswith("_total") for name in counted), counted


def test_a_worker_counter_reads_its_source_at_scrape_time() -> None:

    from cqrskit.entrypoints.http.metrics import CountersOf, new_registry

    class Relay:
        published = 0

    source: list[Relay] = []
    registry = new_registry()
    counted = [("cqrskit_test_published_events", "Events", "published")]
    registry.register(CountersOf(lambda: source[0] if source else None, counted))
    assert registry.get_sample_value("cqrskit_test_published_events_total") == 0
    source.append(Relay())
    source[0].published = 7
    assert registry.get_sample_value("cqrskit_test_published_events_total") == 7
    text = generate_latest(registry).decode()
    [family] = [
        f for f in text_string_to_metric_families(text) if "published" in f.name
    ]
    assert family.type == "counter"
    assert [s.name for s in family.samples] == ["cqrskit_test_published_events_total"]
