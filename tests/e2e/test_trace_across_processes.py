"""One trace across the processes of `cqrskit up` on the real services.

Every process exports its spans with the `jsonl` exporter (turned on by the
standard OTEL_TRACES_EXPORTER, as an operator would) into one file; the test
sends a command with a W3C `traceparent` and follows that trace through the
command service, the relay and a projector."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from topology import ServicesTopology

from credentials import ADMIN_HEADERS

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
WAIT = 30.0


@dataclass
class TracedTopology(ServicesTopology):
    traces: Path = field(default_factory=lambda: Path("traces.jsonl"))

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            OTEL_TRACES_EXPORTER="jsonl",
            CQRSKIT_TRACES_FILE=str(self.traces),
            OTEL_BSP_SCHEDULE_DELAY="100",  # milliseconds: spans leave promptly
        )
        env.pop("OTEL_SERVICE_NAME", None)  # each role names itself
        return env


@pytest.fixture
def system(tmp_path: Path) -> Iterator[TracedTopology]:
    topology = TracedTopology(tmp_path, traces=tmp_path / "traces.jsonl")
    topology.start()
    try:
        yield topology
    finally:
        if topology.running:
            topology.stop()


def _spans(path: Path, trace_id: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    spans = [json.loads(line) for line in path.read_text().splitlines() if line]
    return [s for s in spans if s["context"]["trace_id"] == f"0x{trace_id}"]


def _wait_for(path: Path, trace_id: str, names: set[str]) -> list[dict[str, Any]]:
    """The trace's spans once every one of `names` is among them."""
    deadline = time.monotonic() + WAIT
    while True:
        spans = _spans(path, trace_id)
        if names <= {s["name"] for s in spans}:
            return spans
        if time.monotonic() > deadline:
            pytest.fail(f"spans {names} not all exported: {spans}")
        time.sleep(0.1)


def _service(span: dict[str, Any]) -> str:
    service: str = span["resource"]["attributes"]["service.name"]
    return service


def _one(spans: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [s for s in spans if s["name"] == name]
    return found


def test_one_trace_runs_from_the_command_to_the_read_model(
    system: TracedTopology,
) -> None:
    headers = {
        **ADMIN_HEADERS,
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        "X-Correlation-Id": "traced-order",
    }
    product = {"sku": "TRACE-1", "name": "Traced mug", "price_cents": 900}
    response = httpx.post(
        f"{system.command_url}/products", json=product, headers=headers, timeout=10
    )
    assert response.status_code == 201, response.text

    spans = _wait_for(
        system.traces,
        CALLER_TRACE,
        {"cqrskit.append", "cqrskit.relay.publish", "cqrskit.project"},
    )
    append = _one(spans, "cqrskit.append")
    published = _one(spans, "cqrskit.relay.publish")
    projected = _one(spans, "cqrskit.project")

    # Each in its own process, named by its role.
    assert _service(append) == "cqrskit-command"
    assert _service(published) == "cqrskit-relay"
    assert _service(projected) == "cqrskit-projector"
    by_id = {s["context"]["span_id"]: s for s in spans}

    # The request is the caller's child; the append runs inside it and writes
    # to PostgreSQL in its own spans.
    server = by_id[append["parent_id"]]
    while server["kind"] != "SpanKind.SERVER":
        server = by_id[server["parent_id"]]
    assert server["parent_id"] == f"0x{CALLER_SPAN}"
    assert server["attributes"]["cqrskit.correlation_id"] == "traced-order"
    statements = [s for s in spans if s["parent_id"] == append["context"]["span_id"]]
    assert any(s["attributes"].get("db.system") == "postgresql" for s in statements)

    # The relay and the projector are children of the append, through the
    # event's metadata; the relay's publish to RabbitMQ is its child, and the
    # projector's writes to Redis are the projector's.
    append_id = append["context"]["span_id"]
    assert published["parent_id"] == append_id
    assert projected["parent_id"] == append_id
    assert projected["attributes"]["cqrskit.correlation_id"] == "traced-order"
    sent = [s for s in spans if s["parent_id"] == published["context"]["span_id"]]
    assert [s["kind"] for s in sent] == ["SpanKind.PRODUCER"]
    writes = [s for s in spans if s["parent_id"] == projected["context"]["span_id"]]
    assert any(s["attributes"].get("db.system") == "redis" for s in writes)
