"""Logging for every cqrskit process: one JSON object per line on stderr.

The same `dictConfig` serves the CLI's own process and uvicorn's: uvicorn
applies a `log_config` again in each `--workers` child, so a dictionary (not
handlers set up by hand) is what reaches every process. uvicorn's loggers
have no handlers of their own here; they propagate to the root handler, and
`uvicorn.access` has its own level so that the access log can be turned up or
down without touching the rest.

uvicorn's access log, a line per request, is the one hot logger: the HTTP
protocol of our servers (runtime/nodelay.py) hands uvicorn an `AccessLogger`
that writes the same JSON object straight to the JSON handler's stream, with
no LogRecord, no caller lookup and no formatter in between.

stderr carries log records only; what a command says to people (`run`'s and
`up`'s banners, `up`'s restart notices) goes to stdout as plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import select
import time
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
            "time": _stamp(record.created),
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


class _Second:
    """The ISO text of the last second stamped: a line differs only in its
    milliseconds from the one before it."""

    whole = -1
    text = ""


def _stamp(created: float) -> str:
    """`created` as UTC ISO 8601 to the millisecond, `...T01:02:03.456Z`."""
    whole = int(created)
    if whole != _Second.whole:
        moment = datetime.fromtimestamp(whole, UTC).replace(tzinfo=None)
        _Second.text, _Second.whole = moment.isoformat(), whole
    return f"{_Second.text}.{int((created - whole) * 1000):03d}Z"


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


ACCESS = "uvicorn.access"


class AccessLogger(logging.Logger):
    """What uvicorn's HTTP protocol calls for its access line: the line
    JsonFormatter would make of uvicorn's record, written to the stream of the
    root's JSON handler in one write. The `uvicorn.access` logger's level still
    decides; without a JSON handler (logging not configured by `configure` or
    `log_config`) the record goes through logging as uvicorn's would."""

    def __init__(self) -> None:
        super().__init__(ACCESS)
        self._logger = logging.getLogger(ACCESS)  # the one dictConfig sets
        self._flushing: asyncio.Handle | None = None
        self._buffered = 0  # bytes written to the buffer since its last flush

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        found = _json_handler()
        if found is None or kwargs or len(args) != 5:
            logger.info(msg, *args, **kwargs)
            return
        handler, formatter = found
        client, method, path, _, status = args
        message = str(msg) % args
        if "://" in message:  # what MaskPasswords does to every record
            message, path = mask_passwords(message), mask_passwords(path)
        entry = {
            "time": _stamp(time.time()),
            "level": "info",
            "role": formatter.role,
            "pid": os.getpid(),
            "logger": ACCESS,
            "message": message,
            **logcontext.fields(),
            **_trace_fields(),
            "method": method,
            "path": path,
            "status": status,
            "client": client,
        }
        line = orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
        with handler.lock or contextlib.nullcontext():
            self._write(handler.stream, line)

    def _write(self, stream: Any, line: bytes) -> None:
        """Into the byte buffer under a text stream such as stderr, flushed at
        the end of the event loop's turn: the lines of all the requests a turn
        answers leave in one write, of at most PIPE_BUF bytes so that the
        workers sharing a pipe never interleave within a line. Elsewhere (no
        loop, no byte buffer) at once."""
        raw = getattr(stream, "buffer", None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if raw is None or loop is None:
            stream.write(line.decode())
            stream.flush()
            return
        if self._buffered + len(line) > select.PIPE_BUF:
            stream.flush()
            self._buffered = 0
        raw.write(line)
        self._buffered += len(line)
        if self._flushing is None:
            self._flushing = loop.call_soon(self._flush, stream)

    def _flush(self, stream: Any) -> None:
        self._flushing, self._buffered = None, 0
        stream.flush()  # a text stream's flush flushes its byte buffer too


def _json_handler() -> tuple[logging.StreamHandler[Any], JsonFormatter] | None:
    """The root's stream handler that writes JSON at info, if there is one."""
    for handler in logging.root.handlers:
        formatter = handler.formatter
        if (
            isinstance(handler, logging.StreamHandler)
            and isinstance(formatter, JsonFormatter)
            and handler.level <= logging.INFO
        ):
            return handler, formatter
    return None


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
