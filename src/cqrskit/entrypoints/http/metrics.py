"""Request metrics for Prometheus, by route template (not by raw path, which
would give every SKU a series of its own)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def new_registry() -> CollectorRegistry:
    """A registry of the app's own, with the process's CPU and memory. No
    counter gets a `_created` twin: a scrape's own time says when a counter
    restarted from zero, and the twins doubled the series."""
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


class CountersOf(Collector):
    """Counters a worker keeps as plain attributes (the relay's `published`,
    a projection runner's `applied`), read at scrape time; zero until the
    source exists. Each name gets `_total` as Prometheus counters do."""

    def __init__(
        self,
        source: Callable[[], object | None],
        counters: Sequence[tuple[str, str, str]],
    ) -> None:
        self._source = source
        self._counters = counters  # (metric name, help, attribute)

    def collect(self) -> Iterator[Metric]:
        source = self._source()
        for name, doc, attribute in self._counters:
            value = float(getattr(source, attribute)) if source is not None else 0.0
            yield CounterMetricFamily(name, doc, value=value)


class RequestMetrics:
    """The requests counter and latency histogram of one app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "cqrskit_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "cqrskit_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Histogram, Counter]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered (the labelled series are looked up once)."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.seconds.labels(method, route),
                self.requests.labels(method, route, str(status)),
            )
            self._series[key] = series
        series[0].observe(seconds)
        series[1].inc()


class MetricsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        registry: CollectorRegistry,
        routes: Sequence[BaseRoute],
        metrics: RequestMetrics | None = None,
    ) -> None:
        """`metrics`: shared with another recorder of the same app (else
        made here in `registry`)."""
        self.app = app
        self.routes = routes
        self.metrics = metrics or RequestMetrics(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            # FastAPI leaves its route in the scope; the lean Starlette routes
            # ahead of it are answered on a copy, so only those are matched again.
            answered = scope.get("route")
            route = answered.path if answered is not None else self._template(scope)
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, elapsed)

    def _template(self, scope: Scope) -> str:
        """The path template of the route that answered (the router may work on
        a copy of the scope, so match again; the hot routes come first)."""
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "unmatched"))
        return "unmatched"
