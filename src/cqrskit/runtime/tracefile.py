"""A span exporter that appends one JSON object a span to a file: traces
without a collector, for a look with `jq` or for a test that reads them.

Chosen with `OTEL_TRACES_EXPORTER=jsonl` (an `opentelemetry_traces_exporter`
entry point); the file is `CQRSKIT_TRACES_FILE` (default
`cqrskit-traces.jsonl`). Each line is the SDK's own JSON form of a span
(`ReadableSpan.to_json`), written in one call to a file opened for appending,
so several processes may share one file."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

DEFAULT_PATH = "cqrskit-traces.jsonl"


class JsonLinesSpanExporter(SpanExporter):
    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.environ.get("CQRSKIT_TRACES_FILE") or DEFAULT_PATH
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(s.to_json(indent=None) + "\n" for s in spans)
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write(lines)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
