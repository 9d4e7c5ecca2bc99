"""Traces through the pipeline: the spans the kit opens itself, and the trace
context an event carries from the command that recorded it to the relay and
the projectors.

Off until `use` is given a tracer provider (runtime/tracing.py does, when the
standard OTEL_* settings ask for traces): until then every helper here is a
test of one global and nothing else, so a system without traces pays nothing
on its hot paths.

The context travels in the event's metadata as a W3C `traceparent`, written
at append while the command's span is current, so it outlives the request:
the relay publishes the event minutes later, or after a restart, and its span
still joins the command's trace. A span that covers a batch (the relay's
publish, a projector's apply) is the child of its events' context when they
all share one; when they come from several commands it starts a trace of its
own with a link to each (a span has one parent, and picking one of them would
hide the others)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cqrskit.core.messages import RecordedEvent

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

    from cqrskit.core.ports import BatchHandler, Broker, Ownership

_W3C = TraceContextTextMapPropagator()
_tracer: trace.Tracer | None = None
_OFF = contextlib.nullcontext()


def use(provider: trace.TracerProvider | None) -> None:
    """Open the kit's spans on `provider` (None: open none, write no context)."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer("cqrskit")


def enabled() -> bool:
    return _tracer is not None


def traceparent() -> str | None:
    """The current span's context in W3C form, for an event's metadata."""
    if _tracer is None:
        return None
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def span(
    name: str, attributes: Mapping[str, AttributeValue] | None = None
) -> contextlib.AbstractContextManager[object]:
    """A span for the duration of the `with` block (nothing when off)."""
    if _tracer is None:
        return _OFF
    return _tracer.start_as_current_span(name, attributes=attributes)


def annotate(name: str, value: str) -> None:
    """Set an attribute on the current span, if one is recording."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attribute(name, value)


@contextlib.contextmanager
def batch_span(
    name: str, events: Sequence[RecordedEvent], partition: int
) -> Iterator[None]:
    """A span that covers `events`: the child of their one context, or linked
    to each of their contexts when they come from several."""
    if _tracer is None:
        yield
        return
    contexts = _contexts(events)
    attributes: dict[str, AttributeValue] = {
        "cqrskit.partition": partition,
        "cqrskit.events": len(events),
        "cqrskit.position.first": events[0].position if events else 0,
        "cqrskit.position.last": events[-1].position if events else 0,
    }
    correlations = {e.metadata.correlation_id for e in events} - {None}
    if len(correlations) == 1:
        attributes["cqrskit.correlation_id"] = str(correlations.pop())
    if len(contexts) == 1:
        parent = trace.set_span_in_context(trace.NonRecordingSpan(contexts[0]))
        with _tracer.start_as_current_span(name, parent, attributes=attributes):
            yield
        return
    links = [trace.Link(c) for c in contexts]
    with _tracer.start_as_current_span(name, attributes=attributes, links=links):
        yield


def _contexts(events: Sequence[RecordedEvent]) -> list[trace.SpanContext]:
    """The distinct valid span contexts the events carry, in order."""
    found: dict[tuple[int, int], trace.SpanContext] = {}
    for event in events:
        parent = event.metadata.traceparent
        if parent is None:
            continue
        context = trace.get_current_span(
            _W3C.extract({"traceparent": parent})
        ).get_span_context()
        if context.is_valid:
            found.setdefault((context.trace_id, context.span_id), context)
    return list(found.values())


class TracedBroker:
    """A broker whose publishes and handled batches are spans: the relay's
    `cqrskit.relay.publish` and the projector's `cqrskit.project`, one per
    batch, placed in their events' traces as `batch_span` says."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner

    @property
    def partitions(self) -> int:
        return self.inner.partitions

    async def publish(self, partition: int, events: Sequence[RecordedEvent]) -> None:
        with batch_span("cqrskit.relay.publish", events, partition):
            await self.inner.publish(partition, events)

    async def consume(
        self, handler: BatchHandler, *, ownership: Ownership | None = None
    ) -> None:
        async def traced(partition: int, events: Sequence[RecordedEvent]) -> None:
            with batch_span("cqrskit.project", events, partition):
                await handler(partition, events)

        await self.inner.consume(traced, ownership=ownership)

    async def subscribed(self) -> None:
        await self.inner.subscribed()

    async def close(self) -> None:
        await self.inner.close()
