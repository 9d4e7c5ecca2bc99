"""The OpenTelemetry SDK's side of runtime/tracing.py: the tracer provider,
its sampler and exporters, and the instrumented drivers. Imported only when
the settings ask for traces, and only with the `otel` extra installed."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    Sampler,
    SamplingResult,
    _get_from_env_or_default,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)


def install(
    service: str, exporters: Sequence[str], env: Mapping[str, str]
) -> TracerProvider:
    """Set the global tracer provider for `service`, exporting through the
    named exporters, and instrument asyncpg, redis and aio-pika with it."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service}),
        sampler=SkipUntracedCalls(_get_from_env_or_default()),
    )
    for exporter in _exporters(exporters, env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    RedisInstrumentor().instrument(tracer_provider=provider)
    AioPikaInstrumentor().instrument(tracer_provider=provider)
    return provider


class SkipUntracedCalls(Sampler):
    """The sampler the settings name (OTEL_TRACES_SAMPLER), but for database,
    Redis and broker calls made outside any trace (the relay polling the log,
    leases and heartbeats renewing): those are dropped, or they would bury the
    traces of the work."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"SkipUntracedCalls{{{self.inner.get_description()}}}"


def _exporters(names: Sequence[str], env: Mapping[str, str]) -> list[SpanExporter]:
    found = []
    for name in names:
        entry = _entry_point_name(name, env)
        matches = entry_points(group="opentelemetry_traces_exporter", name=entry)
        if not matches:
            log.error("no trace exporter %r is installed; it is left out", entry)
            continue
        exporter_class: Any = next(iter(matches)).load()
        found.append(exporter_class())
    return found


def _entry_point_name(name: str, env: Mapping[str, str]) -> str:
    """`otlp` is the exporter of the OTLP protocol the settings choose
    (http/protobuf unless they say grpc)."""
    if name != "otlp":
        return name
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    return "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
