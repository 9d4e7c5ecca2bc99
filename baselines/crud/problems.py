"""Errors as RFC 9457 problem documents, the same ones cqrskit answers."""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1024 * 1024
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Refused(Exception):
    """A request the shop refuses; the subclass says with which status."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(Refused):
    status, title = 404, "Not Found"


class Conflict(Refused):
    status, title = 409, "Conflict"


class Invalid(Refused):
    status, title = 422, "Unprocessable Content"


class Declined(Refused):
    status, title = 402, "Payment Declined"


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "correlation_id": request.scope.get("correlation_id"),
        **extra,
    }
    return Response(orjson.dumps(body), status, headers, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    async def on_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return problem(request, exc.status, exc.title, exc.detail)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        items = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                detail = "the request body is not valid JSON"
                return problem(request, 400, "Bad Request", detail)
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            items.append({"field": where or "body", "message": err.get("msg", "")})
        detail = "; ".join(f"{i['field']}: {i['message']}" for i in items)
        return problem(request, 422, "Unprocessable Content", detail, errors=items)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed(request))
        title = HTTPStatus(exc.status_code).phrase
        return problem(
            request, exc.status_code, title, str(exc.detail), headers=headers
        )

    app.add_exception_handler(Refused, on_refused)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)


def _allowed(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


class EdgeMiddleware:
    """A correlation id on every answer, and 413 for a body over 1 MiB
    before the app reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-correlation-id", b"").decode("latin-1")
        correlation_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope["correlation_id"] = correlation_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(b"x-correlation-id", correlation_id.encode())]
                message["headers"] = [*message.get("headers", []), *raw]
            await send(message)

        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _too_large(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    answer = problem(request, 413, "Content Too Large", "the body is over 1 MiB")
    await answer(scope, receive, send)
