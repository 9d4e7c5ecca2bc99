"""RFC 9457 problem details: the one place errors become HTTP answers, and
how the OpenAPI documents describe them (problem_types.py names the kinds)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from cqrskit.core import errors
from cqrskit.core.application import ErrorKind
from cqrskit.entrypoints.http import problem_types as t
from cqrskit.entrypoints.http.models import PLAIN_WORDS

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

_TYPES: list[tuple[type[errors.CqrskitError], t.ProblemType]] = [
    (errors.Unauthenticated, t.UNAUTHORIZED),
    (errors.Forbidden, t.FORBIDDEN),
    (errors.NotFound, t.NOT_FOUND),
    (errors.IdempotencyMismatch, t.KEY_REUSED),
    (errors.Invalid, t.INVALID),
    (errors.ConcurrencyError, t.CONCURRENT_CHANGE),
    (errors.Conflict, t.CONFLICT),
    (errors.RuleViolated, t.CONFLICT),
    (errors.NotCaughtUp, t.NOT_CAUGHT_UP),
    (errors.StoreUnavailable, t.UNAVAILABLE),
    (errors.RateLimited, t.RATE_LIMITED),
    (errors.Misconfigured, t.INTERNAL),
]
SCHEMA_NAME = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{SCHEMA_NAME}"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": SCHEMA_NAME,
    "description": "RFC 9457 problem details. `type` names the kind of problem "
    "(`/problems/{slug}`, relative to the service; it resolves to a page "
    "that describes it); branch on it, not on `detail`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "correlation_id": {"type": ["string", "null"]},
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
_ALLOW = {"Allow": {"description": "the methods served", "schema": {"type": "string"}}}
_HEADERS = {401: _CHALLENGE, 405: _ALLOW, 429: _RETRY_AFTER, 503: _RETRY_AFTER}


def answers(
    *statuses: int, types: Sequence[t.ProblemType] = t.KIT_TYPES
) -> dict[int | str, dict[str, Any]]:
    """The problem answers a route documents in OpenAPI: each status it can
    give besides its success, with the problem schema narrowed to the types
    of that status among `types` (the kit's, with an application's own),
    and an example of each."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        kinds = [kind for kind in types if kind.status == status]
        if not kinds:
            raise ValueError(f"no problem type answers {status}")
        narrowed = {
            "type": {"enum": [kind.uri for kind in kinds]},
            "status": {"enum": [status]},
        }
        examples = {kind.slug: _example(kind) for kind in kinds}
        documented[str(status)] = {
            "description": "; or ".join(kind.meaning for kind in kinds),
            "content": {
                MEDIA_TYPE: {
                    "schema": {"allOf": [PROBLEM_REF, {"properties": narrowed}]},
                    "examples": examples,
                }
            },
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
    return documented


def _example(kind: t.ProblemType) -> dict[str, Any]:
    return {
        "summary": kind.title,
        "value": {
            "type": kind.uri,
            "title": kind.title,
            "status": kind.status,
            "detail": kind.meaning,
            "instance": "/…",
            "correlation_id": "5f2b9c1e7a4d4e0f9b3c2a1d0e9f8a7b",
        },
    }


def problem(
    request: Request | None,
    kind: t.ProblemType,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": kind.uri, "title": kind.title}
    body["status"], body["detail"] = kind.status, detail
    if request is not None:
        body["instance"] = request.url.path
        body["correlation_id"] = getattr(request.state, "correlation_id", None)
    body.update(extra)
    return Response(
        orjson.dumps(body), kind.status, headers=headers, media_type=MEDIA_TYPE
    )


_ANSWER_HEADERS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "1"}}


def types_of(kinds: Sequence[ErrorKind]) -> list[t.ProblemType]:
    """An application's own kinds of refusal, as problem types."""
    return [t.of_kind(kind) for kind in kinds]


def type_of(
    error: errors.CqrskitError, kinds: Sequence[ErrorKind] = ()
) -> t.ProblemType:
    """The problem type of `error`: an application's own kinds first, then
    the kit's taxonomy (anything else is a 400)."""
    for kind in kinds:
        if isinstance(error, kind.error):
            return t.of_kind(kind)
    for error_type, known in _TYPES:
        if isinstance(error, error_type):
            return known
    return t.BAD_REQUEST


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
        kind = type_of(exc, kinds)
        headers = _ANSWER_HEADERS.get(kind.status)
        if isinstance(exc, errors.RateLimited):
            headers = {"Retry-After": str(math.ceil(exc.retry_after))}
        return problem(request, kind, exc.detail, headers=headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        status, detail, items = _validation_detail(exc)
        kind = t.BAD_REQUEST if status == 400 else t.INVALID
        if items:
            return problem(request, kind, detail, errors=items)
        return problem(request, kind, detail)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        kind = t.for_status(exc.status_code, _reason(exc.status_code))
        return problem(request, kind, str(exc.detail), headers=headers)

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(request, t.INTERNAL, "an unexpected error occurred")

    t.add_problem_pages(app, [*t.KIT_TYPES, *types_of(kinds)])
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
