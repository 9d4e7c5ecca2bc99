"""The query service: one read-store read, bytes out. It never sees the
event store; it is given only the read store.

Its routes are built from the application's table of query routes
(core/routes.py): a FastAPI route per entry, and, for the entries marked
lean, a plain Starlette route ahead of it that serves the same answer
without FastAPI's per-request parameter machinery (entrypoints/http/lean.py;
bench/query_routes.py measures the difference); the FastAPI route stays for
the OpenAPI document.
A public lean route is answered even before the framework's middleware and
routing, by the front door of entrypoints/http/hot.py, whenever it can
answer 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Route

from cqrskit.core.application import Application
from cqrskit.core.auth import Access, TokenVerifier
from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.core.consistency import MAX_TOKEN_LENGTH, TOKEN_PATTERN, parse_token
from cqrskit.core.errors import NotCaughtUp
from cqrskit.core.routes import QueryInput, QueryRoute
from cqrskit.entrypoints.http import access, openapi, problems
from cqrskit.entrypoints.http import problem_types as t
from cqrskit.entrypoints.http.access import principal_of
from cqrskit.entrypoints.http.hot import HotReads, HotReadsApp
from cqrskit.entrypoints.http.lean import PathCheck, guard_of
from cqrskit.entrypoints.http.lifespan import opened_in_background, opened_side
from cqrskit.entrypoints.http.metrics import (
    MetricsMiddleware,
    RequestMetrics,
    new_registry,
)
from cqrskit.entrypoints.http.middleware import RequestContextMiddleware
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.entrypoints.http.signatures import (
    described,
    parameter,
    path_parameters,
    with_signature,
)
from cqrskit.runtime.bootstrap import QuerySide

Provider = Callable[[], AbstractAsyncContextManager[QuerySide[Any]]]
Token = Annotated[
    str | None,
    Header(
        alias=TOKEN_HEADER,
        max_length=MAX_TOKEN_LENGTH,
        pattern=TOKEN_PATTERN,
        description="From a command's answer: wait (bounded) until the read side "
        "reflects it; 503 if it has not in time; 422 if its signature fails.",
    ),
]
JSON = "application/json"
Consistent = Callable[[str | None], Awaitable[Any]]
"""The queries object to read with, once a token (if any) is reflected."""


def create_query_app(
    application: Application[Any, Any],
    provider: Provider,
    verifier: TokenVerifier,
    server_key: bytes,
    collectors: Sequence[Collector] = (),
) -> FastAPI:
    """`server_key`: the HMAC key shared with the command service;
    `collectors`: more metrics for its /metrics."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with opened_in_background(app, provider, "the read store"):
            yield

    app = HotReadsApp(title="cqrskit query service", lifespan=lifespan)
    registry = new_registry()
    for collector in collectors:
        registry.register(collector)
    metrics = RequestMetrics(registry)
    app.add_middleware(
        MetricsMiddleware, registry=registry, routes=app.router.routes, metrics=metrics
    )
    app.add_middleware(RequestContextMiddleware)
    app.hot = HotReads(
        app.stack,
        routes=[
            r for r in application.query_routes if r.lean and r.access is Access.PUBLIC
        ],
        queries=lambda: _cached_queries(app),
        metrics=metrics,
    )
    problems.install(app, application.errors)
    access.install(app, verifier)
    openapi.complete(app)

    async def ready() -> bool:
        await side_of(app).store.get("readyz")
        return True

    add_ops_routes(app, ready, registry)

    async def consistent(token: str | None) -> Any:
        """With a token: wait, then read the store itself, not the cache."""
        side = side_of(app)
        if not token:
            return side.queries
        pairs = parse_token(token, server_key)
        if not await side.waiter.wait(pairs, side.consistency_timeout):
            raise NotCaughtUp(
                "the read side has not caught up with the Consistency-Token yet; retry"
            )
        return side.fresh

    types = (*t.QUERY_TYPES, *problems.types_of(application.errors))
    for route in application.query_routes:
        statuses = sorted({*route.problems, 422, 503})
        app.add_api_route(
            route.path,
            _endpoint(route, consistent),
            methods=["GET"],
            response_class=Response,
            responses={
                200: {"model": route.response},
                **problems.answers(*statuses, types=types),
            },
            **described(route),
        )
    # The lean routes go ahead of the FastAPI ones they stand in for.
    lean = [_lean(r, consistent) for r in application.query_routes if r.lean]
    app.router.routes[0:0] = lean
    return app


async def _read(
    route: QueryRoute[Any], given: QueryInput, consistent: Consistent, token: str | None
) -> Response:
    """Building the read may refuse first (not the caller's); then wait for
    the token, if any, and read."""
    fetch = route.fetch(given)
    queries = await consistent(token)
    return Response(await fetch(queries), media_type=JSON)


def _endpoint(
    route: QueryRoute[Any], consistent: Consistent
) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        request: Request,
        token: str | None = None,
        query: BaseModel | None = None,
        **path: str,
    ) -> Response:
        who = None if route.access is Access.PUBLIC else principal_of(request)
        return await _read(route, QueryInput(path, query, who), consistent, token)

    parameters = path_parameters(route.params)
    if route.query is not None:
        parameters.append(parameter("query", Annotated[route.query, Query()]))
    parameters.append(parameter("token", Token, None))
    return with_signature(endpoint, parameters)


def _lean(route: QueryRoute[Any], consistent: Consistent) -> Route:
    """The same answer as the route's FastAPI endpoint, under the same rule,
    with the path checked against the same patterns."""
    path_check = PathCheck(route.params)
    guard = guard_of(route.access)

    async def endpoint(request: Request) -> Response:
        who = await guard(request) if guard is not None else None
        path: dict[str, str] = request.path_params
        path_check.check(path)
        given = QueryInput(path, None, who)
        return await _read(route, given, consistent, request.headers.get(TOKEN_HEADER))

    return Route(route.path, endpoint, methods=["GET"], include_in_schema=False)


def _cached_queries(app: FastAPI) -> Any:
    side: QuerySide[Any] | None = getattr(app.state, "side", None)
    return side.queries if side is not None else None


def side_of(app: FastAPI) -> QuerySide[Any]:
    side: QuerySide[Any] = opened_side(app, "the read store")  # type: ignore[assignment]
    return side
