"""Turning traces on from the standard OTEL_* settings, once per process.

Off unless a setting asks: `OTEL_TRACES_EXPORTER` names exporters (`otlp`,
`console`, `jsonl` or any other registered under the entry-point group
`opentelemetry_traces_exporter`), or an OTLP endpoint is given
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), which
means `otlp`. `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it
off. With it off no tracer provider is installed, no library is
instrumented, and the kit's own helpers (core/tracing.py) do nothing.

Each role names itself (`cqrskit-command`, `cqrskit-relay`, ...) unless
`OTEL_SERVICE_NAME` says otherwise; the SDK reads the rest of the settings
itself (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, the
exporters' own). The SDK and the instrumentations are the `otel` extra
(`pip install 'cqrskit[otel]'`), imported only once traces are asked for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry.trace import TracerProvider

from cqrskit.core import tracing

log = logging.getLogger(__name__)

_provider: TracerProvider | None = None
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def exporter_names(env: Mapping[str, str]) -> list[str]:
    """The exporters the settings ask for; none means traces stay off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = env.get("OTEL_TRACES_EXPORTER", "").strip()
    if not named:
        return ["otlp"] if any(env.get(e) for e in _ENDPOINTS) else []
    names = [n.strip() for n in named.split(",") if n.strip()]
    return [] if "none" in names else names


def configure(role: str, env: Mapping[str, str] = os.environ) -> bool:
    """Install a tracer provider for `role` and instrument the drivers, if the
    settings ask for traces; whether traces are on. A later call in the same
    process keeps the first one's provider."""
    global _provider
    if _provider is not None:
        return True
    names = exporter_names(env)
    if not names:
        return False
    try:
        from cqrskit.runtime import tracing_sdk
    except ImportError:
        log.warning(
            "OTEL_* settings ask for traces, but the OpenTelemetry SDK is not "
            "installed (pip install 'cqrskit[otel]'); traces stay off"
        )
        return False
    service = env.get("OTEL_SERVICE_NAME") or f"cqrskit-{role}"
    _provider = tracing_sdk.install(service, names, env)
    tracing.use(_provider)
    log.info("traces on: service %s, exporters %s", service, ",".join(names))
    return True


def enabled() -> bool:
    return _provider is not None


def provider() -> TracerProvider | None:
    """The provider `configure` installed (None while traces are off)."""
    return _provider
