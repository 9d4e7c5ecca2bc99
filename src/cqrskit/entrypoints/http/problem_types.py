"""The kinds of problem the services answer, each with a stable `type` URI.

A problem's `type` names its kind, so a client branches on it instead of
parsing `detail`: `/problems/{slug}`, relative to the service that answered.
Each kind has one status and one title; a status may have several kinds (a
409 is either a business rule or writers that kept colliding). Every type
resolves: `GET /problems/{slug}` on either service describes it, for people.
An application's own kinds (`ErrorKind`) get a slug from their title
(`Payment Declined`: `/problems/payment-declined`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from cqrskit.core.application import ErrorKind

PREFIX = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    meaning: str
    """When it is answered, in a sentence (OpenAPI, the type's page)."""

    @property
    def uri(self) -> str:
        return f"{PREFIX}{self.slug}"


BAD_REQUEST = ProblemType(
    "bad-request", 400, "Bad Request", "the body is not valid JSON"
)
UNAUTHORIZED = ProblemType(
    "unauthorized",
    401,
    "Unauthorized",
    "no valid bearer token (the answer says `WWW-Authenticate: Bearer`)",
)
FORBIDDEN = ProblemType(
    "forbidden", 403, "Forbidden", "the token's roles do not allow this request"
)
NOT_FOUND = ProblemType(
    "not-found", 404, "Not Found", "no such resource, or not the caller's"
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed",
    405,
    "Method Not Allowed",
    "the path does not serve this method (`Allow` lists those it does)",
)
CONFLICT = ProblemType(
    "conflict", 409, "Conflict", "the current state does not allow it (a rule)"
)
CONCURRENT_CHANGE = ProblemType(
    "concurrent-change",
    409,
    "Concurrent Change",
    "other writers kept changing the same streams; retry",
)
TOO_LARGE = ProblemType(
    "content-too-large", 413, "Content Too Large", "the body is over 1 MiB"
)
INVALID = ProblemType(
    "invalid",
    422,
    "Unprocessable Content",
    "invalid input (`errors` names each field)",
)
KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    422,
    "Idempotency Key Reused",
    "the Idempotency-Key came with another request before",
)
RATE_LIMITED = ProblemType(
    "rate-limited",
    429,
    "Too Many Requests",
    "too many commands from this caller (`CQRSKIT_RATE_LIMIT`); `Retry-After`",
)
UNAVAILABLE = ProblemType(
    "unavailable",
    503,
    "Service Unavailable",
    "a store is unavailable; retry after `Retry-After`",
)
NOT_CAUGHT_UP = ProblemType(
    "not-caught-up",
    503,
    "Not Caught Up",
    "the read side has not reached the Consistency-Token in time; retry",
)
INTERNAL = ProblemType(
    "internal", 500, "Internal Server Error", "an unexpected error (a bug)"
)

KIT_TYPES = (
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    CONCURRENT_CHANGE,
    TOO_LARGE,
    INVALID,
    KEY_REUSED,
    RATE_LIMITED,
    UNAVAILABLE,
    NOT_CAUGHT_UP,
    INTERNAL,
)
_COMMANDS_ONLY = (CONCURRENT_CHANGE, KEY_REUSED, RATE_LIMITED)
_TOKEN_READS_ONLY = (NOT_CAUGHT_UP,)
COMMAND_TYPES = tuple(k for k in KIT_TYPES if k not in _TOKEN_READS_ONLY)
"""What a command may answer."""
QUERY_TYPES = tuple(k for k in KIT_TYPES if k not in _COMMANDS_ONLY)
"""What a query that takes a Consistency-Token may answer."""
READ_TYPES = tuple(k for k in QUERY_TYPES if k not in _TOKEN_READS_ONLY)
"""What any other read may answer."""


def of_kind(kind: ErrorKind) -> ProblemType:
    """An application's own kind of refusal, as a problem type."""
    slug = "-".join(kind.title.lower().split())
    return ProblemType(slug, kind.status, kind.title, kind.meaning)


def for_status(status: int, title: str) -> ProblemType:
    """The kit's first type of `status`, or one named by its reason phrase
    (a framework's own answer, such as a 405)."""
    for known in KIT_TYPES:
        if known.status == status:
            return known
    slug = "-".join(title.lower().split())
    return ProblemType(slug, status, title, title)


def add_problem_pages(app: FastAPI, types: Sequence[ProblemType]) -> None:
    """`GET /problems/{slug}`: what a type means, so that every type resolves."""
    pages = {t.slug: t for t in types}

    @app.get(PREFIX + "{slug}", include_in_schema=False)
    async def problem_page(slug: str) -> Response:
        found = pages.get(slug)
        if found is None:
            raise HTTPException(404, f"no problem type {slug}")
        title, meaning = html.escape(found.title), html.escape(found.meaning)
        return HTMLResponse(
            f"<!doctype html><title>{title}</title><h1>{found.status} {title}</h1>"
            f"<p>{meaning}.</p><p>Type <code>{found.uri}</code>; see the "
            "service's <a href='/docs'>API documentation</a>.</p>"
        )
