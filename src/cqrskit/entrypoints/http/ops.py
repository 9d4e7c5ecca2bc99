"""Operational routes every process serves: /healthz, /readyz, /metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
)
from starlette.responses import JSONResponse, Response


def add_ops_routes(
    app: FastAPI,
    ready: Callable[[], Awaitable[bool]],
    registry: CollectorRegistry,
) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        try:
            ok = await ready()
        except Exception:
            ok = False
        return JSONResponse(
            {"status": "ready" if ok else "unavailable"}, 200 if ok else 503
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
