"""The command service: validates, decides, appends; answers with an ack.

Its routes are built from the application's table of command routes
(core/routes.py), one FastAPI route per entry, and a lean Starlette route
ahead of it for the entries marked lean (entrypoints/http/lean.py), plus the
kit's own audit trail of a stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Header, Path, Request
from prometheus_client import Counter
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.responses import Response

from cqrskit.core import logcontext
from cqrskit.core.application import Application
from cqrskit.core.auth import Access, TokenVerifier
from cqrskit.core.consistency import HEADER as TOKEN_HEADER
from cqrskit.core.consistency import token_for
from cqrskit.core.dispatcher import CommandContext
from cqrskit.core.errors import NotFound
from cqrskit.core.messages import STREAM_ID_PATTERN, Ack
from cqrskit.core.routes import Call, CommandInput, CommandRoute
from cqrskit.core.wire import event_to_dict
from cqrskit.entrypoints.http import access, lean, openapi, problems
from cqrskit.entrypoints.http import models as m
from cqrskit.entrypoints.http import problem_types as t
from cqrskit.entrypoints.http.access import principal_of, rule
from cqrskit.entrypoints.http.fingerprints import fingerprint, scoped_key
from cqrskit.entrypoints.http.lifespan import opened_in_background, opened_side
from cqrskit.entrypoints.http.metrics import MetricsMiddleware, new_registry
from cqrskit.entrypoints.http.middleware import RequestContextMiddleware
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.entrypoints.http.signatures import (
    described,
    parameter,
    path_parameters,
    with_signature,
)
from cqrskit.runtime.bootstrap import CommandSide

Provider = Callable[[], AbstractAsyncContextManager[CommandSide[Any]]]
StreamIdPath = Annotated[str, Path(pattern=STREAM_ID_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=lean.IDEMPOTENCY_PATTERN,
        description="The same key (per caller and route) with the same request "
        "answers as the first time and appends nothing; with another request, "
        "422.",
    ),
]
READY_PROBE = "readyz-probe"
# Every route reads (and may refuse) a body; those that take one may find it
# is not JSON. The bodiless ones still read it, to refuse one that is too big.
# Any command may meet writers that keep colliding (409). A path that names an
# entity may name none (404); the entry names the rest (a 404 for an id in the
# body, an application's own refusals); the access rule adds 401, 403 and 429.
BODILESS = (409, 413, 422, 503)
WITH_BODY = (400, *BODILESS)
Run = Callable[
    [Request, CommandRoute[Any], BaseModel | None, str | None, Call[Any]],
    Awaitable[Ack],
]


def create_command_app(
    application: Application[Any, Any],
    provider: Provider,
    verifier: TokenVerifier,
    server_key: bytes,
    *,
    rate_limit: float = 0.0,
    collectors: Sequence[Collector] = (),
) -> FastAPI:
    """`server_key`: the HMAC key shared with the query service; `rate_limit`:
    commands per second per caller (0: none; processes take
    CQRSKIT_RATE_LIMIT, on by default); `collectors`: more metrics for its
    /metrics (the one-process mode's relay and projector)."""
    registry = new_registry()
    for collector in collectors:
        registry.register(collector)
    commands_total = Counter(
        "cqrskit_commands",
        "Commands handled",
        ["command", "outcome"],
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with opened_in_background(app, provider, "the event store"):
            yield

    app = FastAPI(title="cqrskit command service", lifespan=lifespan)
    registry.register(ConflictRetries(app))
    app.add_middleware(MetricsMiddleware, registry=registry, routes=app.router.routes)
    app.add_middleware(RequestContextMiddleware)
    problems.install(app, application.errors)
    access.install(app, verifier, rate_limit)
    openapi.complete(app)

    async def ready() -> bool:
        # One indexed read of a stream that never exists: the store answers.
        await side_of(app).store.read_stream(READY_PROBE)
        return True

    add_ops_routes(app, ready, registry)

    async def run(
        request: Request,
        route: CommandRoute[Any],
        body: BaseModel | None,
        key: str | None,
        call: Call[Any],
    ) -> Ack:
        ctx = context(request, body, key, server_key)
        try:
            ack = await call(side_of(app).commands, ctx)
        except Exception as e:
            commands_total.labels(route.command, type(e).__name__).inc()
            raise
        commands_total.labels(route.command, "ok").inc()
        return ack

    _add_command_routes(app, application, run, server_key)
    lean.add_command_routes(app, application.command_routes)
    _add_audit_trail(app)
    return app


def _add_command_routes(
    app: FastAPI, application: Application[Any, Any], run: Run, server_key: bytes
) -> None:
    """One FastAPI route per entry of the application's table."""
    answer_model = application.answer_model or m.CommandAnswer
    types = (*t.COMMAND_TYPES, *problems.types_of(application.errors))
    for route in application.command_routes:
        statuses = (*(WITH_BODY if route.body else BODILESS), *route.problems)
        statuses += (404,) if route.params else ()
        app.add_api_route(
            route.path,
            _endpoint(route, run, server_key),
            methods=[route.method],
            status_code=route.status,
            response_model=answer_model,
            responses=problems.answers(*statuses, types=types),
            **described(route),
        )


def _endpoint(
    route: CommandRoute[Any], run: Run, server_key: bytes
) -> Callable[..., Awaitable[Response]]:
    """One route's endpoint: its inputs become a call on the handlers."""

    async def endpoint(
        request: Request,
        key: str | None = None,
        body: BaseModel | None = None,
        **path: str,
    ) -> Response:
        given = CommandInput(path, body, principal_of(request))
        ack = await run(request, route, body, key, route.call(given))
        return answer(ack, route.status, server_key, **route.ids(given, ack))

    parameters = path_parameters(route.params)
    if route.body is not None:
        if route.body_required:
            parameters.append(parameter("body", route.body))
        else:
            parameters.append(parameter("body", route.body | None, None))
    parameters.append(parameter("key", IdempotencyKey, None))
    return with_signature(endpoint, parameters)


def _add_audit_trail(app: FastAPI) -> None:
    @app.get(
        "/streams/{stream_id}",
        **rule(Access.ADMIN),
        response_model=m.AuditTrail,
        responses=problems.answers(404, 422, 503, types=t.READ_TYPES),
        operation_id="read_stream",
        summary="Read a stream's events",
        tags=["audit"],
    )
    async def audit_trail(stream_id: StreamIdPath) -> Response:
        """A stream's events in order: the audit trail (an operator's route)."""
        records = await side_of(app).store.read_stream(stream_id)
        if not records:
            raise NotFound(f"stream {stream_id} has no events")
        events = [event_to_dict(r) for r in records]
        body = {
            "stream_id": stream_id,
            "version": records[-1].version,
            "events": events,
        }
        return Response(orjson.dumps(body), media_type="application/json")


class ConflictRetries(Collector):
    """Appends lost to another writer and retried, as the dispatcher counts them."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        side = getattr(self._app.state, "side", None)
        value = side.dispatcher.conflict_retries if side is not None else 0
        yield CounterMetricFamily(
            "cqrskit_command_conflict_retries",
            "Command appends that lost to another writer and were retried",
            value=value,
        )


def side_of(app: FastAPI) -> CommandSide[Any]:
    side: CommandSide[Any] = opened_side(app, "the event store")  # type: ignore[assignment]
    return side


def context(
    request: Request, body: BaseModel | None, key: str | None, server_key: bytes
) -> CommandContext:
    who = principal_of(request)
    # The path as request.url.path gives it for every path a command route's
    # patterns let through, without building the whole URL.
    method, path = request.method, request.scope["path"]
    if key is not None:
        route = request.scope["route"].path
        key = scoped_key(server_key, who.subject, method, route, key)
    dumped = body.model_dump() if body else None
    logcontext.command.set(request.scope["route"].name)
    return CommandContext(
        command_id=uuid.uuid4().hex,
        correlation_id=request.state.correlation_id,
        idempotency_key=key,
        fingerprint=fingerprint(server_key, method, path, dumped),
        principal=who,
    )


def answer(ack: Ack, status: int, server_key: bytes, **ids: str) -> Response:
    token = token_for(ack, server_key)
    logcontext.stream.set(ack.stream_id)
    body: dict[str, Any] = {
        "stream_id": ack.stream_id,
        "version": ack.version,
        "position": ack.position,
        "consistency_token": token,
        **ids,
    }
    return Response(
        orjson.dumps(body),
        status,
        media_type="application/json",
        headers={TOKEN_HEADER: token},
    )
