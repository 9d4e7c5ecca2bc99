"""RFC 9457 problem details: the one place errors become HTTP answers."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from cqrskit.core import errors
from cqrskit.core.application import ErrorKind
from cqrskit.entrypoints.http.models import PLAIN_WORDS

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

_STATUS: list[tuple[type[errors.CqrskitError], int, str]] = [
    (errors.Unauthenticated, 401, "Unauthorized"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.NotFound, 404, "Not Found"),
    (errors.IdempotencyMismatch, 422, "Idempotency Key Reused"),
    (errors.Invalid, 422, "Unprocessable Content"),
    (errors.ConcurrencyError, 409, "Concurrent Change"),
    (errors.Conflict, 409, "Conflict"),
    (errors.RuleViolated, 409, "Business Rule Violated"),
    (errors.StoreUnavailable, 503, "Service Unavailable"),
    (errors.RateLimited, 429, "Too Many Requests"),
    (errors.Misconfigured, 500, "Internal Server Error"),
]


_MEANING = {
    400: "the body is not valid JSON",
    401: "no valid bearer token (the answer says `WWW-Authenticate: Bearer`)",
    403: "the token's roles do not allow this route",
    404: "no such resource",
    409: "conflicts with the current state",
    413: "the body is over 1 MiB",
    422: "invalid input (`errors` names each field)",
    429: "too many commands from this caller (`CQRSKIT_RATE_LIMIT`); retry later",
    503: "a store is unavailable or the read side has not caught up; retry",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "correlation_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}
}
_CHALLENGE = {
    "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
}
_HEADERS = {401: _CHALLENGE, 429: _RETRY_AFTER, 503: _RETRY_AFTER}


def answers(
    *statuses: int, meanings: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route documents in OpenAPI: each status it can
    give besides its success, with the problem body's schema. `meanings`:
    what an application's own statuses mean (see `meanings_of`)."""
    meaning = {**_MEANING, **(meanings or {})}
    return {
        status: {
            "description": meaning[status],
            "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def problem(
    request: Request | None,
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        body["correlation_id"] = getattr(request.state, "correlation_id", None)
    body.update(extra)
    return Response(orjson.dumps(body), status, headers=headers, media_type=MEDIA_TYPE)


_ANSWER_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}


def meanings_of(kinds: Sequence[ErrorKind]) -> dict[int, str]:
    return {kind.status: kind.meaning for kind in kinds}


def status_of(
    error: errors.CqrskitError, kinds: Sequence[ErrorKind] = ()
) -> tuple[int, str]:
    """The status and title of `error`: an application's own kinds first,
    then the kit's taxonomy (anything else is a 400)."""
    for kind in kinds:
        if isinstance(error, kind.error):
            return kind.status, kind.title
    for error_type, status, title in _STATUS:
        if isinstance(error, error_type):
            return status, title
    return 400, "Bad Request"


def _validation_detail(
    exc: RequestValidationError,
) -> tuple[int, str, list[dict[str, Any]]]:
    items = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return 400, "the request body is not valid JSON", []
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        where = where or "body"
        pattern = str((err.get("ctx") or {}).get("pattern"))
        message = PLAIN_WORDS.get(pattern, err.get("msg", ""))
        items.append({"field": where, "message": message})
    summary = "; ".join(f"{i['field']}: {i['message']}" for i in items)
    return 422, summary or "the request is not valid", items


def install(app: FastAPI, kinds: Sequence[ErrorKind] = ()) -> None:
    """Answer errors as problem details; `kinds`: the application's own."""

    async def on_kit_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.CqrskitError)
        status, title = status_of(exc, kinds)
        headers = _ANSWER_HEADERS.get(status)
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(math.ceil(exc.retry_after))}
        return problem(request, status, title, exc.detail, headers=headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        status, detail, items = _validation_detail(exc)
        title = "Bad Request" if status == 400 else "Unprocessable Content"
        if items:
            return problem(request, status, title, detail, errors=items)
        return problem(request, status, title, detail)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(
            request,
            exc.status_code,
            _reason(exc.status_code),
            str(exc.detail),
            headers=headers,
        )

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            request, 500, "Internal Server Error", "an unexpected error occurred"
        )

    app.add_exception_handler(errors.CqrskitError, on_kit_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path: Starlette's own 405
    names only the first route that matched the path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
