"""The problem answers of the shop's services as exceptions, one class per
kind (per problem `type`), for the typed client (client.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem document, as the services send it."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    correlation_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


class ProblemError(Exception):
    """A problem answer; the subclass names its kind (its `type`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status


class BadRequest(ProblemError): ...


class Unauthorized(ProblemError): ...


class PaymentDeclined(ProblemError): ...


class Forbidden(ProblemError): ...


class NotFound(ProblemError): ...


class Conflict(ProblemError):
    """The current state does not allow it (a business rule)."""


class ConcurrentChange(ProblemError):
    """Other writers kept changing the same streams: retrying may succeed."""


class Invalid(ProblemError): ...


class IdempotencyKeyReused(Invalid): ...


class RateLimited(ProblemError): ...


class Unavailable(ProblemError): ...


class NotCaughtUp(Unavailable):
    """The read side had not reached the consistency token in time."""


KINDS: Mapping[str, type[ProblemError]] = {
    "/problems/bad-request": BadRequest,
    "/problems/unauthorized": Unauthorized,
    "/problems/payment-declined": PaymentDeclined,
    "/problems/forbidden": Forbidden,
    "/problems/not-found": NotFound,
    "/problems/conflict": Conflict,
    "/problems/concurrent-change": ConcurrentChange,
    "/problems/invalid": Invalid,
    "/problems/idempotency-key-reused": IdempotencyKeyReused,
    "/problems/rate-limited": RateLimited,
    "/problems/unavailable": Unavailable,
    "/problems/not-caught-up": NotCaughtUp,
}


_BY_STATUS: Mapping[int, type[ProblemError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentDeclined,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
    429: RateLimited,
    503: Unavailable,
}
"""A problem of no known type (`about:blank`, another server): its status
says no more than the first kind of that status."""


def problem_of(answer: httpx.Response) -> ProblemError:
    """The exception for a non-2xx answer (a plain one from a proxy too)."""
    try:
        body: dict[str, Any] = orjson.loads(answer.content)
        problem = Problem(
            **{k: v for k, v in body.items() if k in Problem.__dataclass_fields__}
        )
    except (orjson.JSONDecodeError, TypeError):
        phrase = answer.reason_phrase
        problem = Problem("about:blank", phrase, answer.status_code, answer.text)
    kind = KINDS.get(problem.type) or _BY_STATUS.get(problem.status, ProblemError)
    return kind(problem)
