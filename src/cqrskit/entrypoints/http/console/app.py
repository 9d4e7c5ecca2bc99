"""The console's app: an admin-only JSON API and the static page.

`create_console_app` is the console itself, with paths relative to where it
is mounted (`/console` in both places it runs): the page at `/`, the API
under `/api`, its OpenAPI document at `/openapi.json`. It finds its side
through `side` at each request, because a mounted app's lifespan never
runs: `cqrskit run` hands it the one-process system's stores, and
`create_console_service` (`cqrskit serve console`) opens them in its own
lifespan, with /healthz, /readyz and /metrics beside the mount.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from starlette.datastructures import MutableHeaders
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cqrskit.core.auth import Access, TokenVerifier
from cqrskit.core.deadletter import Parked
from cqrskit.core.history import StateAt
from cqrskit.core.messages import STREAM_ID_PATTERN
from cqrskit.core.wire import event_to_dict
from cqrskit.entrypoints.http import access, problems
from cqrskit.entrypoints.http.access import rule
from cqrskit.entrypoints.http.console import models as m
from cqrskit.entrypoints.http.lifespan import opened_in_background, opened_side
from cqrskit.entrypoints.http.metrics import new_registry
from cqrskit.entrypoints.http.middleware import RequestContextMiddleware
from cqrskit.entrypoints.http.ops import add_ops_routes
from cqrskit.runtime.console import ConsoleSide
from cqrskit.runtime.status import Status

STATIC = Path(__file__).parent / "static"
MOUNT = "/console"
StreamId = Annotated[str, PathParam(pattern=STREAM_ID_PATTERN)]
Prefix = Annotated[
    str, Query(pattern=r"^[A-Za-z0-9._:-]{0,160}$", description="Of the stream id.")
]
ProjectionName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""The page loads only its own files and runs no inline script."""


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def create_console_app(
    side: Callable[[], ConsoleSide], verifier: TokenVerifier
) -> FastAPI:
    app = FastAPI(
        title="cqrskit console",
        description="The operator's console: streams, their audit trail and "
        "state at any version, lag and partitions, parked events. Admin only.",
        docs_url=None,  # Swagger's page loads its files from a CDN; the
        redoc_url=None,  # console loads nothing from elsewhere
    )
    problems.install(app)
    access.install(app, verifier)
    _add_stream_routes(app, side)
    _add_operations_routes(app, side)
    app.mount("/", _SecurityHeaders(StaticFiles(directory=STATIC, html=True)))
    return app


def _admin(*statuses: int) -> dict[str, Any]:
    """A console route's decorator arguments: admin only, its problem answers."""
    return {
        **rule(Access.ADMIN),
        "responses": problems.answers(*statuses),
        "tags": ["console"],
    }


def _add_stream_routes(app: FastAPI, side: Callable[[], ConsoleSide]) -> None:
    """Streams, a stream's audit trail, its state at a version."""
    admin = _admin(404, 422, 503)

    @app.get("/api/streams", response_model=m.StreamPage, **admin)
    async def list_streams(
        prefix: Prefix = "",
        after: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Response:
        """Streams whose id starts with `prefix`, by id, a page at a time."""
        page = await side().streams(prefix, after, limit + 1)
        more = len(page) > limit
        items = [asdict(s) for s in page[:limit]]
        return _json(
            {"items": items, "next_after": items[-1]["stream_id"] if more else None}
        )

    @app.get("/api/streams/{stream_id}", response_model=m.Trail, **admin)
    async def audit_trail(
        stream_id: StreamId,
        from_version: Annotated[int, Query(ge=1)] = 1,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> Response:
        """A stream's events from `from_version`, in order, with their metadata."""
        current = side()
        page, last = await current.trail(stream_id, from_version, limit)
        body = {
            "stream_id": stream_id,
            "version": last,
            "events": [event_to_dict(r) for r in page],
            "next_from": page[-1].version + 1 if page[-1].version < last else None,
            "has_state": current.shows_state(stream_id),
        }
        return _json(body)

    @app.get("/api/streams/{stream_id}/state", response_model=StateAt, **admin)
    async def state(
        stream_id: StreamId,
        version: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        """The stream's state folded up to `version` (default: its last)."""
        return _json(asdict(await side().state(stream_id, version)))


def _add_operations_routes(app: FastAPI, side: Callable[[], ConsoleSide]) -> None:
    """Status (lag and partitions), parked events and their retry."""
    admin = _admin(503)

    @app.get("/api/status", response_model=Status, **admin)
    async def status() -> Response:
        """Relay, projectors, and lag per projection and partition."""
        return _json((await side().status()).as_dict())

    @app.get("/api/parked", response_model=list[Parked], **admin)
    async def parked() -> Response:
        """Every stream a projection parked on an event that kept failing."""
        return _json([asdict(r) for r in await side().parked()])

    @app.post(
        "/api/parked/{projection}/{stream_id}/retry",
        response_model=m.RetryAnswer,
        **_admin(404, 409, 422, 503),
    )
    async def retry(projection: ProjectionName, stream_id: StreamId) -> Response:
        """Apply a parked stream again from its poison event (`cqrskit dlq retry`)."""
        failure = await side().retry(projection, stream_id)
        return _json(
            {
                "projection": projection,
                "stream_id": stream_id,
                "unparked": failure is None,
                "failure": asdict(failure) if failure else None,
            }
        )


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


Provider = Callable[[], AbstractAsyncContextManager[ConsoleSide]]
WHAT = "the event store and the read store"


def create_console_service(provider: Provider, verifier: TokenVerifier) -> FastAPI:
    """`cqrskit serve console`: the console at /console, its stores opened in
    the background of the lifespan (503 until then), and the ops routes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        async with opened_in_background(app, provider, WHAT):
            yield

    service = FastAPI(
        title="cqrskit console service", lifespan=lifespan, openapi_url=None
    )
    service.add_middleware(RequestContextMiddleware)
    problems.install(service)

    async def ready() -> bool:
        await side().events.head()
        return True

    def side() -> ConsoleSide:
        found: ConsoleSide = opened_side(service, WHAT)  # type: ignore[assignment]
        return found

    add_ops_routes(service, ready, new_registry())

    @service.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse(f"{MOUNT}/")

    service.mount(MOUNT, create_console_app(side, verifier))
    return service
