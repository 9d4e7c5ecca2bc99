"""What a log line is about: the request's correlation id, the command and
the stream, carried in context variables so that any logger (uvicorn's access
log included) can name them without being handed them.

The HTTP middleware sets the correlation id for the task that serves a
request; the command routes add the command and, once the append is
acknowledged, the stream. asyncio copies the context into each task, so the
values never leak from one request into another."""

from __future__ import annotations

from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
command: ContextVar[str | None] = ContextVar("command", default=None)
stream: ContextVar[str | None] = ContextVar("stream", default=None)


def fields() -> dict[str, str]:
    """The values set in the current context, by name."""
    found = {
        "correlation_id": correlation_id.get(),
        "command": command.get(),
        "stream": stream.get(),
    }
    return {name: value for name, value in found.items() if value is not None}
