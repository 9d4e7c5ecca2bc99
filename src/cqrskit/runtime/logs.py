"""Logging for every cqrskit process: one JSON object per line on stderr.

The same `dictConfig` serves the CLI's own process and uvicorn's: uvicorn
applies a `log_config` again in each `--workers` child, so a dictionary (not
handlers set up by hand) is what reaches every process. uvicorn's loggers
have no handlers of their own here; they propagate to the root handler, and
`uvicorn.access` has its own level so that the access log can be turned up or
down without touching the rest.

stderr carries log records only; what a command says to people (`run`'s and
`up`'s banners, `up`'s restart notices) goes to stdout as plain text.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

from cqrskit.core import logcontext
from cqrskit.runtime.redaction import mask_passwords

LEVELS = ("critical", "error", "warning", "info", "debug")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, role, pid, logger, message,
    the correlation id, command and stream when known, the trace and span
    when a span is active, and for uvicorn's access log the request's method,
    path, status and client."""

    def __init__(self, role: str = "cqrskit") -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "role": self.role,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
            **logcontext.fields(),
            **_trace_fields(),
        }
        if record.name == "uvicorn.access":
            entry.update(_access_fields(record))
        if record.exc_info:
            entry["exception"] = mask_passwords(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def _trace_fields() -> dict[str, str]:
    """The trace and span of the current span, when one is active (traces on)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {
        "trace_id": trace.format_trace_id(context.trace_id),
        "span_id": trace.format_span_id(context.span_id),
    }


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn logs `client - "METHOD path HTTP/v" status` with these args."""
    args = record.args
    if not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _, status = args
    return {"method": method, "path": path, "status": status, "client": client}


def log_config(level: str, access_level: str, role: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` document: JSON lines on stderr with
    passwords masked; `level` for everything, `access_level` for the access log."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "role": role}},
        "filters": {"mask": {"()": "cqrskit.runtime.redaction.MaskPasswords"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["mask"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level.upper(), "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level.upper(), "propagate": True},
            "uvicorn.access": {"level": access_level.upper(), "propagate": True},
            "httpx": {"level": "WARNING"},  # a line per request of the bench
        },
    }


def configure(level: str, access_level: str, role: str) -> None:
    logging.config.dictConfig(log_config(level, access_level, role))
