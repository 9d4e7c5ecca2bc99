"""A server span for every request, when traces are on (runtime/tracing.py).

The FastAPI instrumentation wraps the whole middleware stack, so every
route has its span (plain Starlette routes included), the span is current
in the kit's own middleware (which adds the correlation id to it), and an
incoming W3C `traceparent` header makes the request a child of the caller's
trace. Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) get none,
which also keeps FastAPI's own telemetry (it steps aside for the
instrumentation) from tracing every probe of a worker's operational app."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider

from cqrskit.runtime import tracing

UNTRACED = "healthz,readyz,metrics"


def traced(app: FastAPI, role: str) -> FastAPI:
    """`app`, instrumented if the settings turn traces on for `role`."""
    if tracing.configure(role):
        instrument(app, tracing.provider())
    return app


def instrumented(app: FastAPI) -> FastAPI:
    """`app`, instrumented if traces are on in this process already."""
    if tracing.enabled():
        instrument(app, tracing.provider())
    return app


def instrument(app: FastAPI, provider: TracerProvider | None) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=UNTRACED,
        exclude_spans=["receive", "send"],
    )
