"""The error taxonomy. Entry points map these to HTTP in one place."""

from __future__ import annotations


class CqrskitError(Exception):
    """Base of every error the kit raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(CqrskitError):
    """The thing asked for does not exist."""


class Invalid(CqrskitError):
    """The input is well-formed but not acceptable (HTTP 422)."""


class RuleViolated(CqrskitError):
    """The command breaks a business rule in the current state (HTTP 409)."""


class Conflict(CqrskitError):
    """The request conflicts with the current state (HTTP 409)."""


class ConcurrencyError(Conflict):
    """A stream moved past the version a writer expected."""


class IdempotencyMismatch(Invalid):
    """An idempotency key came back with a different request."""


class ProjectionGap(CqrskitError):
    """A projection met a version gap it could not fill: it stops that stream."""


class StoreUnavailable(CqrskitError):
    """A store or broker could not be reached (HTTP 503)."""


class NotCaughtUp(StoreUnavailable):
    """The read side did not reach a consistency token in time (HTTP 503)."""


class Misconfigured(CqrskitError):
    """The configuration cannot work (refused credentials, a database that does
    not exist): waiting would not help, so a process exits with it."""


class Unauthenticated(CqrskitError):
    """No credentials, or credentials that do not verify (HTTP 401)."""


class Forbidden(CqrskitError):
    """Verified credentials that do not allow this action (HTTP 403)."""


class RateLimited(CqrskitError):
    """Too many commands from one caller (HTTP 429, with Retry-After)."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
