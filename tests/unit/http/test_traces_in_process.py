"""Traces in the one-process mode: one trace from the HTTP command through
the append, the relay and the projector, kept in memory by the test."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from shop_http import SETTINGS

from cqrskit.adapters.memory import InMemoryBroker
from cqrskit.core import tracing
from cqrskit.core.messages import Metadata, RecordedEvent
from cqrskit.entrypoints.http.command_app import create_command_app
from cqrskit.entrypoints.http.traced import instrument
from cqrskit.runtime import tracing as runtime_tracing
from cqrskit.runtime.embedded import borrowed, running_system
from cqrskit.runtime.logs import JsonFormatter
from cqrskit.runtime.tracing import exporter_names
from cqrskit.shop.app import app as SHOP
from credentials import ADMIN_HEADERS, SERVER_KEY, verifier

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
PRODUCT = {"sku": "MUG-1", "name": "Mug", "price_cents": 1200}


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield provider, exporter
    finally:
        tracing.use(None)


@pytest.fixture
async def command(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_system(SHOP, SETTINGS) as system:
        app = create_command_app(
            SHOP, lambda: borrowed(system.command), verifier(), SERVER_KEY
        )
        instrument(app, provider[0])
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://command", headers=ADMIN_HEADERS
            ) as client:
                yield client


async def _span(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    """The first finished span called `name` (the projector's ends on its own time)."""
    async with asyncio.timeout(10):
        while True:
            for span in exporter.get_finished_spans():
                if span.name == name:
                    return span
            await asyncio.sleep(0.01)


def _ids(span: ReadableSpan | None) -> tuple[str, str]:
    assert span is not None and span.context is not None
    context = span.context
    return trace.format_trace_id(context.trace_id), trace.format_span_id(
        context.span_id
    )


def _parent(span: ReadableSpan) -> str:
    assert span.parent is not None, span.name
    return trace.format_span_id(span.parent.span_id)


async def test_one_trace_runs_from_the_request_to_the_read_model(
    command: httpx.AsyncClient,
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    exporter = provider[1]
    headers = {
        "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
        "X-Correlation-Id": "trace-me",
    }
    response = await command.post("/products", json=PRODUCT, headers=headers)
    assert response.status_code == 201, response.text

    projected = await _span(exporter, "cqrskit.project")
    published = await _span(exporter, "cqrskit.relay.publish")
    append = await _span(exporter, "cqrskit.append")
    server = next(s for s in exporter.get_finished_spans() if _parent_is_caller(s))

    # The request joins the caller's trace, and so does everything after it.
    for span in (server, append, published, projected):
        assert _ids(span)[0] == CALLER_TRACE, span.name
    assert server.attributes is not None
    assert server.attributes["cqrskit.correlation_id"] == "trace-me"
    append_id = _ids(append)[1]
    assert _parent(published) == append_id
    assert _parent(projected) == append_id
    assert projected.attributes is not None
    assert projected.attributes["cqrskit.correlation_id"] == "trace-me"

    # The event carries the append's context, for a relay in another process.
    stream = (await command.get("/streams/product-MUG-1")).json()
    traceparent = stream["events"][0]["metadata"]["traceparent"]
    assert traceparent == f"00-{CALLER_TRACE}-{append_id}-01"


def _parent_is_caller(span: ReadableSpan) -> bool:
    return span.parent is not None and (
        trace.format_span_id(span.parent.span_id) == CALLER_SPAN
    )


def _event(position: int, traceparent: str | None) -> RecordedEvent:
    return RecordedEvent(
        stream_id=f"product-P{position}",
        version=1,
        position=position,
        type="ProductAdded",
        data={},
        recorded_at=datetime.now(UTC),
        metadata=Metadata(traceparent=traceparent),
    )


async def test_a_batch_from_several_traces_is_linked_to_each(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    first = f"00-{'1' * 32}-{'a' * 16}-01"
    second = f"00-{'2' * 32}-{'b' * 16}-01"
    broker = tracing.TracedBroker(InMemoryBroker(partitions=1))
    await broker.publish(0, [_event(1, first), _event(2, None), _event(3, second)])

    (span,) = provider[1].get_finished_spans()
    assert span.name == "cqrskit.relay.publish"
    assert span.parent is None  # no one trace owns it
    linked = {
        (trace.format_trace_id(link.context.trace_id), link.context.span_id)
        for link in span.links
    }
    assert linked == {("1" * 32, int("a" * 16, 16)), ("2" * 32, int("b" * 16, 16))}


async def test_without_a_provider_nothing_is_traced() -> None:
    assert not tracing.enabled()
    async with running_system(SHOP, SETTINGS) as system:
        assert not isinstance(system.broker, tracing.TracedBroker)
        with tracing.span("cqrskit.append"):
            assert tracing.traceparent() is None


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, []),
        ({"OTEL_SERVICE_NAME": "shop"}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "otlp,jsonl"}, ["otlp", "jsonl"]),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        (
            {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"},
            [],
        ),
    ],
)
def test_traces_are_off_unless_the_otel_settings_ask(
    env: dict[str, str], names: list[str]
) -> None:
    assert exporter_names(env) == names


def test_a_log_line_names_the_active_span(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert "trace_id" not in json.loads(JsonFormatter().format(record))
    with provider[0].get_tracer("test").start_as_current_span("work") as span:
        line = json.loads(JsonFormatter().format(record))
    context = span.get_span_context()
    assert line["trace_id"] == trace.format_trace_id(context.trace_id)
    assert line["span_id"] == trace.format_span_id(context.span_id)


def test_without_the_otel_extra_traces_stay_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "cqrskit.runtime.tracing_sdk", None)
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318"}
    with caplog.at_level(logging.WARNING):
        assert not runtime_tracing.configure("command", env)
    assert "cqrskit[otel]" in caplog.text
    assert not runtime_tracing.enabled() and not tracing.enabled()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
