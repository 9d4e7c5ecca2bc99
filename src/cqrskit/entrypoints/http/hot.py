"""The front door of the query service's hottest reads.

A public lean route read without a consistency token is, once its view is in
the cache of hot views (core/viewcache.py), no I/O at all: what costs is the
web framework around it. `HotReads`, called by the app (`HotReadsApp`)
before its own middleware stack (FastAPI's and Starlette's layers, each
wrapping `send`, cost more than the read itself), answers such a request
itself: the path checked against the route's patterns,
the same fetch on the same queries object, the correlation id echoed and the
request counted in the same metrics. Whatever it does not answer with a 200
(a bad path, a missing document, a store not open yet, any error) goes on to
the app, which answers it as it always does; a read changes nothing, so
reading again there is harmless. While traces are on, the stack comes first:
the instrumentation that makes each request's span wraps it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from cqrskit.core import logcontext
from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.core.routes import QueryInput, QueryRoute
from cqrskit.entrypoints.http.lean import PathCheck
from cqrskit.entrypoints.http.metrics import RequestMetrics
from cqrskit.entrypoints.http.middleware import CORRELATION_HEADER, correlation_of
from cqrskit.runtime import tracing

_TOKEN = TOKEN_HEADER.lower().encode()
_CORRELATION = CORRELATION_HEADER.lower().encode()
_JSON = (b"content-type", b"application/json")


class _Hot:
    def __init__(self, route: QueryRoute[Any]) -> None:
        self.route = route
        self.path, _, _ = compile_path(route.path)
        self.params = PathCheck(route.params)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.path.match(path)
        if found is None:
            return None
        params: dict[str, str] = found.groupdict()
        return params if self.params.matches(params) else None


class HotReads:
    def __init__(
        self,
        app: ASGIApp,
        routes: Sequence[QueryRoute[Any]],
        queries: Callable[[], Any],
        metrics: RequestMetrics,
    ) -> None:
        """`routes`: public lean routes; `queries`: the queries object over
        the cache (None while the store is not open)."""
        self.app = app
        self._routes = [_Hot(r) for r in routes]
        self._queries = queries
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope.get("root_path")
        ):
            for hot in self._routes:
                params = hot.match(scope["path"])
                if params is not None:
                    if await self._answer(hot.route, params, scope, send):
                        return
                    break
        await self.app(scope, receive, send)

    async def _answer(
        self,
        route: QueryRoute[Any],
        params: dict[str, str],
        scope: Scope,
        send: Send,
    ) -> bool:
        started = time.perf_counter()
        given = ""
        for name, value in scope["headers"]:
            if name == _TOKEN:
                return False
            if name == _CORRELATION and not given:  # the first, as Starlette's
                given = value.decode("latin-1")
        queries = self._queries()
        if queries is None:
            return False
        try:
            body = await route.fetch(QueryInput(params, None, None))(queries)
        except Exception:  # the app answers it, with its problem details
            return False
        correlation_id = correlation_of(given)
        logcontext.correlation_id.set(correlation_id)
        headers = [
            _JSON,
            (b"content-length", str(len(body)).encode()),
            (_CORRELATION, correlation_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self._metrics.observe("GET", route.path, 200, time.perf_counter() - started)
        return True


class HotReadsApp(FastAPI):
    """A FastAPI app with `HotReads` in front of its middleware stack (set
    `hot` with `stack` as its app); untraced, answering at its root path."""

    hot: HotReads | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot is None or self.root_path or tracing.enabled():
            await super().__call__(scope, receive, send)
        else:
            await self.hot(scope, receive, send)

    async def stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app as FastAPI makes it: its middleware stack, then routing."""
        await super().__call__(scope, receive, send)
